using 'main.bicep'

// Production: one warm instance for durable and http work (timers fire on time, no cold start), zone-redundant storage,
// Key Vault purge protection, real channels.
param environmentName = 'prod'
param alwaysReadyInstances = 1
param maximumInstanceCount = 20
param instanceMemoryMB = 2048
param storageSku = 'Standard_ZRS'
param keyVaultPurgeProtection = true
param logRetentionInDays = 90
param entraClientId = readEnvironmentVariable('CW_ENTRA_CLIENT_ID', '')
param publicBaseUrl = 'https://careworkflows.example.gov.uk'
param emailChannel = 'Notify'
param smsChannel = 'Notify'
param extraAppSettings = {
  Notify__EmailTemplateId: readEnvironmentVariable('CW_NOTIFY_EMAIL_TEMPLATE_ID', '')
  Notify__SmsTemplateId: readEnvironmentVariable('CW_NOTIFY_SMS_TEMPLATE_ID', '')
}
param referralSenderPrincipalIds = []
