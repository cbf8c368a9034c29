locals {
  # Globally unique names (registry, vault, web apps, Redis) come from this suffix.
  suffix = random_string.suffix.result

  # The two vote-app instances, named after the minutes the router sends them. Each gets a plan
  # of its own SKU: the FinOps comparison (docs/finops.md).
  instances = {
    even = { sku_name = var.even_plan_sku }
    odd  = { sku_name = var.odd_plan_sku }
  }

  # The port both images listen on (PORT, default 8080 in their Dockerfiles). App Service sends
  # traffic to WEBSITES_PORT; PORT is set to the same value so the two cannot drift apart.
  container_port = 8080

  # APPLICATIONINSIGHTS_CONNECTION_STRING is where an Application Insights SDK or OpenTelemetry
  # exporter would send telemetry; the Rust services have none yet, so today Application Insights
  # holds what the platform sends, and request logs reach Log Analytics through the diagnostic
  # settings in main.web_apps.tf.
  #
  # Settings of both vote-app instances. Every secret is a Key Vault reference, resolved by App
  # Service with the app's managed identity; the app reads plain variables and never sees the
  # vault. The reference has no version, so a rotated secret is picked up within a day.
  vote_app_settings = merge(
    {
      WEBSITES_PORT                         = "${local.container_port}"
      PORT                                  = "${local.container_port}"
      LOG_FORMAT                            = "json"
      APPLICATIONINSIGHTS_CONNECTION_STRING = azurerm_application_insights.this.connection_string
      REDIS_URL                             = "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.redis_url.versionless_id})"
      REDIS_CLUSTER                         = var.redis_clustering_policy == "OSSCluster" ? "true" : "false"
      ADMIN_TOKEN                           = "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.admin_token.versionless_id})"
    },
    var.postgresql_enabled ? {
      DATABASE_URL = "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.database_url[0].versionless_id})"
    } : {},
  )

  tags = merge({ app = "vote-app", managed-by = "terraform" }, var.tags)
}
