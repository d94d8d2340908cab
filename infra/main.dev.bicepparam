using 'main.bicep'

// Development: serverless, small burstable PostgreSQL with public access (Azure services only), dev channels.
param environmentName = 'dev'
param hostingPlan = 'FlexConsumption'
param postgresPrivateAccess = false
param postgresSkuName = 'Standard_B1ms'
param postgresSkuTier = 'Burstable'
param postgresAdministratorPassword = readEnvironmentVariable('CW_POSTGRES_ADMIN_PASSWORD', '')
param entraClientId = readEnvironmentVariable('CW_ENTRA_CLIENT_ID', '')
param emailChannel = 'Dev'
param smsChannel = 'Dev'
