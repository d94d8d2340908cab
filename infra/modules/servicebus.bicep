// Service Bus (Standard, Entra ID only: no SAS keys).
// - Queue hospital-referrals: hospital systems push D2A referrals; the Function App receives them. Messages that fail
//   on every delivery (maxDeliveryCount) or expire go to the queue's own dead-letter subqueue
//   (hospital-referrals/$DeadLetterQueue); the app also dead-letters invalid ones at once, with a reason.
// - Topic integration-events: facts other council systems act on (referral awarded, incident escalated...); the app
//   sets MessageId to a stable idempotency key and duplicate detection drops a retry's repeat. One subscription per
//   consuming system, each with its own dead-letter subqueue.
param location string
@description('Namespace name.')
param name string
param tags object
param queueName string
@minValue(1)
param maxDeliveryCount int
@description('Principal ids of hospital systems allowed to send referrals (Azure Service Bus Data Sender on the queue).')
param senderPrincipalIds array
param topicName string
@description('Subscriptions on the integration-events topic: [{ name, receiverPrincipalIds: [] }].')
param subscriptions array

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

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: topicName
  properties: {
    defaultMessageTimeToLive: 'P14D'
    requiresDuplicateDetection: true
    // Activity retries publish again within minutes to hours; a day covers them.
    duplicateDetectionHistoryTimeWindow: 'P1D'
  }
}

resource topicSubscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = [for s in subscriptions: {
  parent: topic
  name: s.name
  properties: {
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    deadLetteringOnFilterEvaluationExceptions: true
  }
}]

var dataSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '69a216fc-b8fb-44d8-bc22-1f3c2552ae39')
var dataReceiver = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0')

resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in senderPrincipalIds: {
  name: guid(queue.id, principalId, dataSender)
  scope: queue
  properties: { principalId: principalId, roleDefinitionId: dataSender, principalType: 'ServicePrincipal' }
}]

// Each consuming system receives from its own subscription only.
module subscriptionReceivers 'servicebus-receivers.bicep' = [for (s, i) in subscriptions: {
  name: 'sb-receivers-${s.name}'
  params: {
    namespaceName: namespace.name
    topicName: topic.name
    subscriptionName: topicSubscriptions[i].name
    principalIds: s.receiverPrincipalIds
    roleDefinitionId: dataReceiver
  }
}]

output namespaceName string = namespace.name
// serviceBusEndpoint is https://<namespace>.servicebus.windows.net:443/ (the cloud's own suffix).
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output queueName string = queue.name
output topicName string = topic.name
