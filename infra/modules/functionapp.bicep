// The Function App: .NET isolated worker with Durable Functions, on Flex Consumption (Linux), with a system-assigned
// managed identity for everything (host storage, task hub, tables, Service Bus, Key Vault references). App settings
// are built in main.bicep.
param location string
param name string
param tags object
param storageAccountName string
param deploymentContainerUrl string
@description('App settings (name → value); Key Vault references are plain strings of the form @Microsoft.KeyVault(...).')
param appSettings object
param maximumInstanceCount int
param instanceMemoryMB int
@description('Instances kept warm for the durable and http trigger groups (0: scale to zero).')
param alwaysReadyInstances int

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'asp-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: {
    reserved: true // Linux
  }
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
    keyVaultReferenceIdentity: 'SystemAssigned'
    functionAppConfig: {
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
        // Durable timers and queued work wake a scaled-in app only when the scale controller next looks; warm
        // instances keep "a timer fires within about a second" true in Azure too.
        alwaysReady: alwaysReadyInstances > 0
          ? [
              { name: 'durable', instanceCount: alwaysReadyInstances }
              { name: 'http', instanceCount: alwaysReadyInstances }
            ]
          : []
      }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // What the platform needs to create the site; the full set follows in appsettings below.
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
      ]
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, {
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
  })
}

output name string = site.name
output principalId string = site.identity.principalId
output defaultHostName string = site.properties.defaultHostName
