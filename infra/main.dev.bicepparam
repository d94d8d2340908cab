using 'main.bicep'

// Development: Flex Consumption scaling to zero, locally redundant storage, dev channels.
param environmentName = 'dev'
param alwaysReadyInstances = 0
param storageSku = 'Standard_LRS'
param entraClientId = readEnvironmentVariable('CW_ENTRA_CLIENT_ID', '')
param emailChannel = 'Dev'
param smsChannel = 'Dev'
