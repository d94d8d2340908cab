// The Function App's storage account, reached only with Entra identities (no shared keys):
// - AzureWebJobsStorage: host leases and state; the Flex Consumption deployment container.
// - The Durable Functions task hub (Azure Storage backend): control and work-item queues, history and instance tables,
//   large-message blobs. Durable creates them, named after the hub.
// - The service data beside it (Storage:ServiceData=Tables): tables {prefix}Documents, Commands, Inbound, Providers,
//   TrustedAssessors, created by the app on first use.
param location string
param name string
param tags object
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param skuName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: skuName }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption reads the deployed package from here.
resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'deployments'
  properties: { publicAccess: 'None' }
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

output name string = storage.name
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deployments.name}'
output tableEndpoint string = storage.properties.primaryEndpoints.table
output queueServiceName string = queues.name
output tableServiceName string = tables.name
