// Key Vault (RBAC) holding every secret the apps read: the link-signing key, channel credentials and webhook secrets,
// the pages' Entra client secret. An operator sets them (`az keyvault secret set`), never the repository; the apps
// read them through Key Vault references in their app settings, with Key Vault Secrets User.
param location string
param name string
param tags object
param tenantId string
param purgeProtection bool

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
