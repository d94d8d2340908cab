// Key Vault (RBAC) holding the app's secrets: the PostgreSQL connection string (written here) and the channel and
// link-signing secrets (set by an operator with `az keyvault secret set`, never in the repo).
param location string
param name string
param tags object
param tenantId string
@secure()
param postgresConnectionString string
param purgeProtection bool

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

resource postgres 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'postgres-connection-string'
  properties: { value: postgresConnectionString, contentType: 'Npgsql connection string' }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
output postgresSecretName string = postgres.name
