using 'main.bicep'

// Production: Elastic Premium (always-ready, VNet-integrated), private PostgreSQL with zone-redundant HA,
// Key Vault purge protection, real channels.
param environmentName = 'prod'
param hostingPlan = 'ElasticPremium'
param elasticPremiumSku = 'EP1'
param alwaysReadyInstances = 1
param maximumInstanceCount = 20
param postgresPrivateAccess = true
param vnetAddressPrefix = '10.40.0.0/16'
param postgresSkuName = 'Standard_D2ds_v5'
param postgresSkuTier = 'GeneralPurpose'
param postgresStorageSizeGB = 128
param postgresHighAvailability = true
param postgresBackupRetentionDays = 35
param keyVaultPurgeProtection = true
param logRetentionInDays = 90
param postgresAdministratorPassword = readEnvironmentVariable('CW_POSTGRES_ADMIN_PASSWORD', '')
param entraClientId = readEnvironmentVariable('CW_ENTRA_CLIENT_ID', '')
param publicBaseUrl = 'https://careworkflows.example.gov.uk'
param emailChannel = 'Notify'
param smsChannel = 'Notify'
param referralSenderPrincipalIds = []
