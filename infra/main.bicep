// CareWorkflows on Azure: the app as an Azure Functions custom handler (Linux, Flex Consumption or Elastic Premium),
// PostgreSQL flexible server, Key Vault, Application Insights + Log Analytics, Service Bus referral queue, and the
// Function App's managed identity with one narrow role on each resource it uses. Deploy: docs/deployment.md.
targetScope = 'resourceGroup'

@description('Short environment name, part of every resource name (dev, test, prod).')
@maxLength(8)
param environmentName string

param location string = resourceGroup().location

@description('FlexConsumption (serverless, scales to zero) or ElasticPremium (always-ready instances, VNet, no cold start).')
@allowed(['FlexConsumption', 'ElasticPremium'])
param hostingPlan string = 'FlexConsumption'

@description('Elastic Premium only: EP1, EP2 or EP3.')
@allowed(['EP1', 'EP2', 'EP3'])
param elasticPremiumSku string = 'EP1'

@description('Elastic Premium only: instances kept warm.')
@minValue(1)
param alwaysReadyInstances int = 1

@minValue(1)
param maximumInstanceCount int = 40

@description('Flex Consumption only: 2048 or 4096.')
@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('PostgreSQL reachable only inside a VNet (delegated subnet, private DNS) and the Function App integrated with it.')
param postgresPrivateAccess bool = true

@description('VNet address space when postgresPrivateAccess (two /24 subnets are cut from it).')
param vnetAddressPrefix string = '10.40.0.0/16'

param postgresAdministratorLogin string = 'careworkflows_admin'

@secure()
@minLength(16)
param postgresAdministratorPassword string

@description('For example Standard_B1ms (Burstable) or Standard_D2ds_v5 (GeneralPurpose).')
param postgresSkuName string = 'Standard_B1ms'

@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
param postgresSkuTier string = 'Burstable'

param postgresStorageSizeGB int = 32
param postgresHighAvailability bool = false

@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7

@description('Key Vault purge protection (cannot be turned off again): true for production.')
param keyVaultPurgeProtection bool = false

@minValue(30)
param logRetentionInDays int = 30

@description('NCRONTAB (with seconds) for the RuntimeTimer function that fires due timers and sends due messages.')
param runtimeTimerSchedule string = '*/10 * * * * *'

param referralQueueName string = 'hospital-referrals'

@minValue(1)
param referralMaxDeliveryCount int = 10

@description('Principal ids (service principals / managed identities) of hospital systems that may send referrals.')
param referralSenderPrincipalIds array = []

@description('Public base URL of the service, used in signed links (e.g. https://careworkflows.example.gov.uk).')
param publicBaseUrl string = ''

@description('Email and SMS channels (see docs/deployment.md): Dev, SendGrid, Graph, Notify, Smtp / Dev, Twilio, Notify.')
param emailChannel string = 'Dev'
param smsChannel string = 'Dev'

@description('Microsoft Entra ID app registration the API validates tokens for.')
param entraTenantId string = tenant().tenantId
param entraClientId string

@description('App settings read from Key Vault: setting name → secret name. The secrets are set by an operator.')
param keyVaultSettings object = {
  Links__SigningKey: 'links-signing-key'
  Channels__SendGrid__ApiKey: 'sendgrid-api-key'
  Channels__SendGrid__InboundParseSecret: 'sendgrid-inbound-secret'
  Channels__Graph__ClientSecret: 'graph-client-secret'
  Channels__Notify__ApiKey: 'notify-api-key'
  Channels__Notify__CallbackToken: 'notify-callback-token'
  Channels__Smtp__Password: 'smtp-password'
  Channels__Twilio__AuthToken: 'twilio-auth-token'
}

@description('Further plain app settings (Policy__*, Contacts__*, Channels__* names and addresses...).')
param extraAppSettings object = {}

param tags object = {}

var name = 'careworkflows-${environmentName}'
var suffix = uniqueString(resourceGroup().id, environmentName)
var allTags = union({ application: 'careworkflows', environment: environmentName }, tags)
var flex = hostingPlan == 'FlexConsumption'
var databaseName = 'careworkflows'
var storageName = take('stcw${environmentName}${suffix}', 24)
var keyVaultName = take('kv-cw-${environmentName}-${suffix}', 24)
var serviceBusNamespaceName = 'sb-${name}-${suffix}'
var functionAppName = 'func-${name}-${suffix}'

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { location: location, name: name, tags: allTags, retentionInDays: logRetentionInDays }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: { location: location, name: storageName, tags: allTags, allowSharedKeyAccess: !flex }
}

module network 'modules/network.bicep' = if (postgresPrivateAccess) {
  name: 'network'
  params: {
    location: location
    name: name
    tags: allTags
    addressPrefix: vnetAddressPrefix
    appSubnetDelegation: flex ? 'Microsoft.App/environments' : 'Microsoft.Web/serverFarms'
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    location: location
    name: '${name}-${suffix}'
    tags: allTags
    administratorLogin: postgresAdministratorLogin
    administratorPassword: postgresAdministratorPassword
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    highAvailability: postgresHighAvailability
    backupRetentionDays: postgresBackupRetentionDays
    privateAccess: postgresPrivateAccess
    delegatedSubnetId: network.?outputs.postgresSubnetId ?? ''
    privateDnsZoneId: network.?outputs.postgresDnsZoneId ?? ''
    databaseName: databaseName
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    name: keyVaultName
    tags: allTags
    tenantId: tenant().tenantId
    purgeProtection: keyVaultPurgeProtection
    postgresConnectionString: 'Host=${postgres.outputs.host};Database=${databaseName};Username=${postgresAdministratorLogin};Password=${postgresAdministratorPassword};Ssl Mode=Require'
  }
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
  }
}

var keyVaultReferences = toObject(items(keyVaultSettings), s => s.key, s => '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${s.value})')

// Every setting the app reads is listed in docs/deployment.md.
var appSettings = union(extraAppSettings, keyVaultReferences, {
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  ASPNETCORE_ENVIRONMENT: 'Production'
  Storage__Provider: 'Postgres'
  ConnectionStrings__Postgres: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${keyVault.outputs.postgresSecretName})'
  Auth__Mode: 'Entra'
  AzureAd__Instance: environment().authentication.loginEndpoint
  AzureAd__TenantId: entraTenantId
  AzureAd__ClientId: entraClientId
  Links__BaseUrl: empty(publicBaseUrl) ? 'https://${functionAppName}.azurewebsites.net' : publicBaseUrl
  Channels__Email: emailChannel
  Channels__Sms: smsChannel
  // The RuntimeTimer function drives timers and the outbox; the in-process loops stay off (the default under Functions).
  RuntimeTimerSchedule: runtimeTimerSchedule
  ReferralQueueName: serviceBus.outputs.queueName
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBus__MaxDeliveryCount: string(referralMaxDeliveryCount)
})

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    name: functionAppName
    tags: allTags
    hostingPlan: hostingPlan
    storageAccountName: storageName
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appSettings: appSettings
    subnetId: network.?outputs.appSubnetId ?? ''
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    elasticPremiumSku: elasticPremiumSku
    alwaysReadyInstances: alwaysReadyInstances
  }
}

// Runs after the Function App (its principal id), which itself waits for storage, Key Vault and Service Bus.
module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: functionApp.outputs.principalId
    appName: functionAppName
    storageAccountName: storageName
    keyVaultName: keyVaultName
    serviceBusNamespaceName: serviceBusNamespaceName
    queueName: referralQueueName
  }
}

output functionAppName string = functionApp.outputs.name
output functionAppUrl string = 'https://${functionApp.outputs.defaultHostName}'
output keyVaultName string = keyVault.outputs.name
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output referralQueue string = serviceBus.outputs.queueName
output postgresHost string = postgres.outputs.host
