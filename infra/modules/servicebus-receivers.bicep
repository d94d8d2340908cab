// Azure Service Bus Data Receiver for consuming systems on one integration-events subscription.
param namespaceName string
param topicName string
param subscriptionName string
param principalIds array
param roleDefinitionId string

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: namespaceName
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' existing = {
  parent: namespace
  name: topicName
}

resource subscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' existing = {
  parent: topic
  name: subscriptionName
}

resource receivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in principalIds: {
  name: guid(subscription.id, principalId, roleDefinitionId)
  scope: subscription
  properties: { principalId: principalId, roleDefinitionId: roleDefinitionId, principalType: 'ServicePrincipal' }
}]
