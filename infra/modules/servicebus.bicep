// Service Bus namespace and the queue hospital systems push D2A referrals to. Entra ID only (no SAS keys).
param location string
@description('Namespace name.')
param name string
param tags object
param queueName string
@minValue(1)
param maxDeliveryCount int
@description('Principal ids of hospital systems allowed to send referrals (Azure Service Bus Data Sender on the queue).')
param senderPrincipalIds array

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    maxDeliveryCount: maxDeliveryCount
    lockDuration: 'PT5M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
  }
}

var dataSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '69a216fc-b8fb-44d8-bc22-1f3c2552ae39')

resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in senderPrincipalIds: {
  name: guid(queue.id, principalId, dataSender)
  scope: queue
  properties: { principalId: principalId, roleDefinitionId: dataSender, principalType: 'ServicePrincipal' }
}]

output namespaceName string = namespace.name
// serviceBusEndpoint is https://<namespace>.servicebus.windows.net:443/ (the cloud's own suffix).
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output queueName string = queue.name
