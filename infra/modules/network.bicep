// Private access: a VNet with one subnet for the Function App's outbound traffic and one delegated to PostgreSQL,
// and the private DNS zone PostgreSQL's private endpoint name resolves in.
param location string
param name string
param tags object
param addressPrefix string
@allowed(['Microsoft.App/environments', 'Microsoft.Web/serverFarms'])
param appSubnetDelegation string

var appSubnetPrefix = cidrSubnet(addressPrefix, 24, 0)
var postgresSubnetPrefix = cidrSubnet(addressPrefix, 24, 1)

resource vnet 'Microsoft.Network/virtualNetworks@2024-01-01' = {
  name: 'vnet-${name}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'snet-app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [{ name: 'app', properties: { serviceName: appSubnetDelegation } }]
        }
      }
      {
        name: 'snet-postgres'
        properties: {
          addressPrefix: postgresSubnetPrefix
          delegations: [{ name: 'postgres', properties: { serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' } }]
        }
      }
    ]
  }
}

resource postgresDns 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: '${name}.private.postgres.database.azure.com'
  location: 'global'
  tags: tags
}

resource postgresDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: postgresDns
  name: 'link-${vnet.name}'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: { id: vnet.id }
  }
}

output appSubnetId string = vnet.properties.subnets[0].id
output postgresSubnetId string = vnet.properties.subnets[1].id
output postgresDnsZoneId string = postgresDns.id
