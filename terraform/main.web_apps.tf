# Two plans of different SKUs, one vote-app instance on each: the FinOps comparison.
resource "azurerm_service_plan" "vote" {
  for_each = local.instances

  name                = "asp-${var.name_prefix}-${each.key}-${local.suffix}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  os_type             = "Linux"
  sku_name            = each.value.sku_name
  tags                = local.tags
}

resource "azurerm_linux_web_app" "vote" {
  for_each = local.instances

  name                    = "app-${var.name_prefix}-${each.key}-${local.suffix}"
  location                = azurerm_resource_group.this.location
  resource_group_name     = azurerm_resource_group.this.name
  service_plan_id         = azurerm_service_plan.vote[each.key].id
  https_only              = true
  client_affinity_enabled = false
  # `az webapp log tail` and the deploy pipeline use publishing endpoints with Entra ID tokens;
  # basic-auth (FTP and SCM passwords) stays off.
  ftp_publish_basic_authentication_enabled       = false
  webdeploy_publish_basic_authentication_enabled = false
  app_settings                                   = merge(local.vote_app_settings, { INSTANCE_NAME = each.key })
  tags                                           = local.tags

  identity {
    type = "SystemAssigned"
  }

  site_config {
    always_on                               = true
    ftps_state                              = "Disabled"
    http2_enabled                           = true
    minimum_tls_version                     = "1.2"
    health_check_path                       = "/health"
    health_check_eviction_time_in_min       = 2
    container_registry_use_managed_identity = true
    ip_restriction_default_action           = "Deny"
    scm_ip_restriction_default_action       = "Allow"
    application_stack {
      docker_image_name   = "vote-app:${var.image_tag}"
      docker_registry_url = "https://${azurerm_container_registry.this.login_server}"
    }

    # The router's integration subnet only (see main.network.tf).
    ip_restriction {
      name                      = "router-only"
      priority                  = 100
      action                    = "Allow"
      virtual_network_subnet_id = azurerm_subnet.router.id
      description               = "The minute-parity router, through its VNet integration"
    }
  }

  logs {
    detailed_error_messages = true
    failed_request_tracing  = true

    application_logs {
      file_system_level = "Information"
    }

    http_logs {
      file_system {
        retention_in_days = 7
        retention_in_mb   = 35
      }
    }
  }

  lifecycle {
    # The deploy pipeline sets the running image tag; Terraform would otherwise roll it back.
    ignore_changes = [site_config[0].application_stack[0].docker_image_name]
  }
}

# The one public URL: sends each request to the even or the odd instance by the UTC minute.
resource "azurerm_linux_web_app" "router" {
  name                                           = "app-${var.name_prefix}-router-${local.suffix}"
  location                                       = azurerm_resource_group.this.location
  resource_group_name                            = azurerm_resource_group.this.name
  service_plan_id                                = azurerm_service_plan.vote[var.router_plan].id
  https_only                                     = true
  client_affinity_enabled                        = false
  ftp_publish_basic_authentication_enabled       = false
  webdeploy_publish_basic_authentication_enabled = false
  virtual_network_subnet_id                      = azurerm_subnet.router.id
  tags                                           = local.tags

  # App Service routes by Host header: the router sends the instance's host name (https).
  app_settings = {
    WEBSITES_PORT                         = "${local.container_port}"
    PORT                                  = "${local.container_port}"
    LOG_FORMAT                            = "json"
    APPLICATIONINSIGHTS_CONNECTION_STRING = azurerm_application_insights.this.connection_string
    ROUTER_UPSTREAM_EVEN                  = "https://${azurerm_linux_web_app.vote["even"].default_hostname}"
    ROUTER_UPSTREAM_ODD                   = "https://${azurerm_linux_web_app.vote["odd"].default_hostname}"
  }

  identity {
    type = "SystemAssigned"
  }

  site_config {
    always_on                               = true
    ftps_state                              = "Disabled"
    http2_enabled                           = true
    minimum_tls_version                     = "1.2"
    health_check_path                       = "/router/health"
    health_check_eviction_time_in_min       = 2
    container_registry_use_managed_identity = true
    # All outbound traffic through the subnet, so calls to the instances use its service endpoint.
    vnet_route_all_enabled = true
    application_stack {
      docker_image_name   = "router:${var.image_tag}"
      docker_registry_url = "https://${azurerm_container_registry.this.login_server}"
    }
  }

  logs {
    detailed_error_messages = true
    failed_request_tracing  = true

    application_logs {
      file_system_level = "Information"
    }

    http_logs {
      file_system {
        retention_in_days = 7
        retention_in_mb   = 35
      }
    }
  }

  lifecycle {
    ignore_changes = [site_config[0].application_stack[0].docker_image_name]
  }
}

# Console and HTTP logs of the three apps to Log Analytics, next to the Key Vault audit.
resource "azurerm_monitor_diagnostic_setting" "web_app" {
  for_each = merge(
    { for key, app in azurerm_linux_web_app.vote : key => app.id },
    { router = azurerm_linux_web_app.router.id },
  )

  name                       = "logs-to-log-analytics"
  target_resource_id         = each.value
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id

  enabled_log {
    category = "AppServiceConsoleLogs"
  }

  enabled_log {
    category = "AppServiceHTTPLogs"
  }

  enabled_log {
    category = "AppServicePlatformLogs"
  }
}
