// The Function App on Linux running the app as a custom handler (host.json), on Flex Consumption or Elastic Premium,
// with a system-assigned managed identity. App settings are built in main.bicep.
param location string
param name string
param tags object
@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string
param storageAccountName string
param deploymentContainerUrl string
@description('App settings (name → value); Key Vault references are plain strings of the form @Microsoft.KeyVault(...).')
param appSettings object
param subnetId string
param maximumInstanceCount int
param instanceMemoryMB int
param elasticPremiumSku string
param alwaysReadyInstances int

var flex = hostingPlan == 'FlexConsumption'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'asp-${name}'
  location: location
  tags: tags
  kind: flex ? 'functionapp' : 'elastic'
  sku: flex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: elasticPremiumSku, tier: 'ElasticPremium' }
  properties: {
    reserved: true // Linux
    maximumElasticWorkerCount: flex ? null : maximumInstanceCount
  }
}

// Elastic Premium keeps the app's files on an Azure Files share, which still needs the storage key.
var contentShareSettings = flex
  ? {}
  : {
      FUNCTIONS_EXTENSION_VERSION: '~4'
      FUNCTIONS_WORKER_RUNTIME: 'custom'
      WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
      WEBSITE_CONTENTSHARE: toLower(name)
    }

var hostStorageSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    vnetRouteAllEnabled: empty(subnetId) ? null : true
    functionAppConfig: flex
      ? {
          deployment: {
            storage: {
              type: 'blobContainer'
              value: deploymentContainerUrl
              authentication: { type: 'SystemAssignedIdentity' }
            }
          }
          scaleAndConcurrency: {
            maximumInstanceCount: maximumInstanceCount
            instanceMemoryMB: instanceMemoryMB
          }
          runtime: { name: 'custom', version: '1.0' }
        }
      : null
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      healthCheckPath: flex ? null : '/health/ready'
      minimumElasticInstanceCount: flex ? null : alwaysReadyInstances
      // What the platform needs to create the site; the full set follows in appsettings below.
      appSettings: flex
        ? [
            { name: 'AzureWebJobsStorage__accountName', value: storage.name }
            { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
          ]
        : [
            { name: 'AzureWebJobsStorage__accountName', value: storage.name }
            { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
            { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
            { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'custom' }
            { name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', value: contentShareSettings.WEBSITE_CONTENTAZUREFILECONNECTIONSTRING }
            { name: 'WEBSITE_CONTENTSHARE', value: contentShareSettings.WEBSITE_CONTENTSHARE }
          ]
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, contentShareSettings, hostStorageSettings)
}

output name string = site.name
output principalId string = site.identity.principalId
output defaultHostName string = site.properties.defaultHostName
