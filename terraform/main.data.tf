# Azure Managed Redis, the successor of Azure Cache for Redis (retiring in 2028). TLS only.
# EnterpriseCluster presents the database as one endpoint; OSSCluster speaks the cluster
# protocol, and the vote-app follows it with REDIS_CLUSTER=true (locals.tf sets it from the
# same variable).
resource "azurerm_managed_redis" "this" {
  name                      = "redis-${var.name_prefix}-${local.suffix}"
  location                  = azurerm_resource_group.this.location
  resource_group_name       = azurerm_resource_group.this.name
  sku_name                  = var.redis_sku
  high_availability_enabled = false
  # The web apps reach it over the internet (no VNet integration on the instances); the access
  # key, kept in Key Vault, and TLS guard it.
  public_network_access = "Enabled"
  tags                  = local.tags

  default_database {
    client_protocol                    = "Encrypted"
    clustering_policy                  = var.redis_clustering_policy
    access_keys_authentication_enabled = true
  }
}

# The vote ledger (optional): every vote with its instance and minute, behind /results.
resource "random_password" "postgresql" {
  count = var.postgresql_enabled ? 1 : 0

  length  = 32
  special = false # the password goes into a URL as is
}

resource "azurerm_postgresql_flexible_server" "this" {
  count = var.postgresql_enabled ? 1 : 0

  name                          = "psql-${var.name_prefix}-${local.suffix}"
  location                      = azurerm_resource_group.this.location
  resource_group_name           = azurerm_resource_group.this.name
  version                       = "16"
  sku_name                      = var.postgresql_sku
  storage_mb                    = 32768
  backup_retention_days         = 7
  administrator_login           = "voteadmin"
  administrator_password        = random_password.postgresql[0].result
  public_network_access_enabled = true
  tags                          = local.tags

  lifecycle {
    ignore_changes = [zone]
  }
}

resource "azurerm_postgresql_flexible_server_database" "vote" {
  count = var.postgresql_enabled ? 1 : 0

  name      = "vote"
  server_id = azurerm_postgresql_flexible_server.this[0].id
  charset   = "UTF8"
  collation = "en_US.utf8"
}

# 0.0.0.0 is Azure's convention for "connections from Azure services": App Service's outbound
# addresses are shared and change with scaling, so no narrower rule stays right.
resource "azurerm_postgresql_flexible_server_firewall_rule" "azure_services" {
  count = var.postgresql_enabled ? 1 : 0

  name             = "allow-azure-services"
  server_id        = azurerm_postgresql_flexible_server.this[0].id
  start_ip_address = "0.0.0.0"
  end_ip_address   = "0.0.0.0"
}
