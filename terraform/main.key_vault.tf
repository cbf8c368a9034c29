# The vault holding every secret the apps read. RBAC authorization (no access policies), soft
# delete with purge protection, and every access logged to Log Analytics: the access audit.
resource "azurerm_key_vault" "this" {
  name                       = "kv-${var.name_prefix}-${local.suffix}"
  location                   = azurerm_resource_group.this.location
  resource_group_name        = azurerm_resource_group.this.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  purge_protection_enabled   = true
  soft_delete_retention_days = 7
  tags                       = local.tags

  # App Service resolves Key Vault references from its shared outbound addresses, which no
  # firewall rule can name without VNet integration of every app: the vault stays reachable
  # over its public endpoint, and RBAC plus the audit below guard it.
  network_acls {
    default_action = "Allow"
    bypass         = "AzureServices"
  }
}

# The identity running Terraform writes the secrets below; RBAC needs a data-plane role for that.
resource "azurerm_role_assignment" "terraform_secrets_officer" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_monitor_diagnostic_setting" "key_vault" {
  name                       = "audit-to-log-analytics"
  target_resource_id         = azurerm_key_vault.this.id
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id

  # `audit` is every data-plane operation (who read which secret, when, allowed or denied).
  enabled_log {
    category_group = "audit"
  }

  enabled_metric {
    category = "AllMetrics"
  }
}

resource "random_password" "admin_token" {
  length  = 40
  special = false
}

# The whole connection URL is one secret, so rotating the Redis key is one secret update.
# urlencode: access keys are base64 and may hold `/`, `+` and `=`, which a URL's userinfo cannot.
resource "azurerm_key_vault_secret" "redis_url" {
  name         = "redis-url"
  key_vault_id = azurerm_key_vault.this.id
  content_type = "text/uri"
  value        = "rediss://:${urlencode(azurerm_managed_redis.this.default_database[0].primary_access_key)}@${azurerm_managed_redis.this.hostname}:${azurerm_managed_redis.this.default_database[0].port}/0"

  depends_on = [azurerm_role_assignment.terraform_secrets_officer]
}

resource "azurerm_key_vault_secret" "admin_token" {
  name         = "admin-token"
  key_vault_id = azurerm_key_vault.this.id
  content_type = "text/plain"
  value        = random_password.admin_token.result

  depends_on = [azurerm_role_assignment.terraform_secrets_officer]
}

resource "azurerm_key_vault_secret" "database_url" {
  count = var.postgresql_enabled ? 1 : 0

  name         = "database-url"
  key_vault_id = azurerm_key_vault.this.id
  content_type = "text/uri"
  value        = "postgres://${azurerm_postgresql_flexible_server.this[0].administrator_login}:${random_password.postgresql[0].result}@${azurerm_postgresql_flexible_server.this[0].fqdn}:5432/${azurerm_postgresql_flexible_server_database.vote[0].name}?sslmode=require"

  depends_on = [azurerm_role_assignment.terraform_secrets_officer]
}
