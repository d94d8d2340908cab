// CareWorkflows on Azure (the target of docs/deployment.md): the workflows as Durable Functions on the .NET isolated
// worker (Flex Consumption), the task hub and the service data in one storage account, Service Bus (hospital referrals
// in, integration events out), Key Vault references for every secret and Application Insights. The Function App also
// serves the staff pages and signed links (its HTTP triggers hand every request to the same app: docs/deployment.md).
// The app reaches every resource with its system-assigned managed identity and one narrow role.
targetScope = 'resourceGroup'

@description('Short environment name, part of every resource name (dev, test, prod).')
@maxLength(8)
param environmentName string

param location string = resourceGroup().location

@minValue(1)
param maximumInstanceCount int = 40

@description('Flex Consumption instance memory: 2048 or 4096.')
@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('Function App instances kept warm for the durable and http trigger groups (0 lets it scale to zero).')
@minValue(0)
param alwaysReadyInstances int = 0

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

@description('Durable Task Scheduler endpoint (https://<scheduler>.<region>.durabletask.io) to use instead of Azure Storage for the task hub; empty: Azure Storage.')
param durableTaskSchedulerEndpoint string = ''

@description('Key Vault purge protection (cannot be turned off again): true for production.')
param keyVaultPurgeProtection bool = false

@minValue(30)
param logRetentionInDays int = 30

param referralQueueName string = 'hospital-referrals'

@minValue(1)
param referralMaxDeliveryCount int = 10

@description('Principal ids (service principals / managed identities) of hospital systems that may send referrals.')
param referralSenderPrincipalIds array = []

param integrationEventsTopicName string = 'integration-events'

@description('Subscriptions on the integration-events topic, one per consuming system: [{ name, receiverPrincipalIds: [] }].')
param integrationEventSubscriptions array = [
  { name: 'council-systems', receiverPrincipalIds: [] }
]

@description('Public base URL of the service, used in signed links (e.g. https://careworkflows.example.gov.uk).')
param publicBaseUrl string = ''

@description('Email channel: Dev, SendGrid, Graph, Notify or Smtp. SMS channel: Dev, Twilio or Notify.')
@allowed(['Dev', 'SendGrid', 'Graph', 'Notify', 'Smtp'])
param emailChannel string = 'Dev'
@allowed(['Dev', 'Twilio', 'Notify'])
param smsChannel string = 'Dev'

@description('Microsoft Entra ID app registration the API validates tokens for (and the pages sign staff in with).')
param entraTenantId string = tenant().tenantId
param entraClientId string

@description('Further secrets as app settings of the Function App: setting name → Key Vault secret name.')
param extraKeyVaultSettings object = {}

@description('Further plain app settings of the Function App (Policy__*, Contacts__*, SendGrid__From, Twilio__From...).')
param extraAppSettings object = {}

param tags object = {}

var name = 'careworkflows-${environmentName}'
var suffix = uniqueString(resourceGroup().id, environmentName)
var allTags = union({ application: 'careworkflows', environment: environmentName }, tags)
var storageName = take('stcw${environmentName}${suffix}', 24)
var keyVaultName = take('kv-cw-${environmentName}-${suffix}', 24)
var serviceBusNamespaceName = 'sb-${name}-${suffix}'
var functionAppName = 'func-${name}-${suffix}'
var taskHubName = 'careworkflows${environmentName}'
var tablePrefix = 'cw'
var useScheduler = !empty(durableTaskSchedulerEndpoint)

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { location: location, name: name, tags: allTags, retentionInDays: logRetentionInDays }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: { location: location, name: storageName, tags: allTags, skuName: storageSku }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: { location: location, name: keyVaultName, tags: allTags, tenantId: tenant().tenantId, purgeProtection: keyVaultPurgeProtection }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    location: location
    name: serviceBusNamespaceName
    tags: allTags
    queueName: referralQueueName
    maxDeliveryCount: referralMaxDeliveryCount
    senderPrincipalIds: referralSenderPrincipalIds
    topicName: integrationEventsTopicName
    subscriptions: integrationEventSubscriptions
  }
}

// Secrets by channel: only the chosen channels' secrets are referenced, and each must exist in the vault (the app
// refuses to start with a Key Vault reference the platform could not resolve).
var channelSecrets = {
  Dev: {}
  SendGrid: { SendGrid__ApiKey: 'sendgrid-api-key', SendGrid__InboundSecret: 'sendgrid-inbound-secret' }
  Graph: { Graph__ClientSecret: 'graph-client-secret' }
  Notify: { Notify__ApiKey: 'notify-api-key', Notify__CallbackBearerToken: 'notify-callback-token' }
  Smtp: { Smtp__Password: 'smtp-password' }
  Twilio: { Twilio__AuthToken: 'twilio-auth-token' }
}
var functionSecrets = union({ Links__SigningKey: 'links-signing-key', AzureAd__ClientSecret: 'pages-entra-client-secret' }, channelSecrets[emailChannel], channelSecrets[smsChannel], extraKeyVaultSettings)
var functionSecretReferences = toObject(items(functionSecrets), s => s.key, s => '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${s.value})')

var linksBaseUrl = empty(publicBaseUrl) ? 'https://${functionAppName}.azurewebsites.net' : publicBaseUrl

// The task hub: Azure Storage (default) or the Durable Task Scheduler. host.json names neither; these settings do.
var durableSettings = union({
  DurableTask__Backend: useScheduler ? 'DurableTaskScheduler' : 'AzureStorage'
  AzureFunctionsJobHost__extensions__durableTask__hubName: taskHubName
}, useScheduler ? {
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity'
} : {})

// Every setting the apps read is listed in docs/deployment.md.
var functionAppSettings = union(extraAppSettings, functionSecretReferences, durableSettings, {
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  AZURE_FUNCTIONS_ENVIRONMENT: 'Production'
  Storage__ServiceData: 'Tables'
  Storage__TableServiceUri: storage.outputs.tableEndpoint
  Storage__TablePrefix: tablePrefix
  Auth__Mode: 'Entra'
  AzureAd__Instance: environment().authentication.loginEndpoint
  AzureAd__TenantId: entraTenantId
  AzureAd__ClientId: entraClientId
  Links__BaseUrl: linksBaseUrl
  Channels__Email: emailChannel
  Channels__Sms: smsChannel
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ReferralQueueName: serviceBus.outputs.queueName
  ServiceBus__MaxDeliveryCount: string(referralMaxDeliveryCount)
  ServiceBus__IntegrationEventsTopic: serviceBus.outputs.topicName
})

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    name: functionAppName
    tags: allTags
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appSettings: functionAppSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    alwaysReadyInstances: alwaysReadyInstances
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    functionAppPrincipalId: functionApp.outputs.principalId
    functionAppName: functionAppName
    storageAccountName: storageName
    keyVaultName: keyVaultName
    serviceBusNamespaceName: serviceBusNamespaceName
    queueName: referralQueueName
    topicName: integrationEventsTopicName
  }
  // Names known before deployment (What-If can follow them). Storage and Service Bus come first through the apps'
  // settings; Key Vault is named only, so it is waited for here.
  dependsOn: [keyVault]
}

output functionAppName string = functionApp.outputs.name
output functionAppUrl string = 'https://${functionApp.outputs.defaultHostName}'
output keyVaultName string = keyVault.outputs.name
output storageAccountName string = storage.outputs.name
output taskHubName string = taskHubName
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output referralQueue string = serviceBus.outputs.queueName
output integrationEventsTopic string = serviceBus.outputs.topicName
