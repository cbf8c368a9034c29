output "router_url" {
  description = "The one URL: the router, which sends even minutes to one instance and odd minutes to the other."
  value       = "https://${azurerm_linux_web_app.router.default_hostname}"
}

output "even_url" {
  description = "The instance serving even minutes (reachable only through the router)."
  value       = "https://${azurerm_linux_web_app.vote["even"].default_hostname}"
}

output "odd_url" {
  description = "The instance serving odd minutes (reachable only through the router)."
  value       = "https://${azurerm_linux_web_app.vote["odd"].default_hostname}"
}

output "even_app_name" {
  description = "Web app name of the even instance, for deployments and `az webapp log tail`."
  value       = azurerm_linux_web_app.vote["even"].name
}

output "odd_app_name" {
  description = "Web app name of the odd instance."
  value       = azurerm_linux_web_app.vote["odd"].name
}

output "router_app_name" {
  description = "Web app name of the router."
  value       = azurerm_linux_web_app.router.name
}

output "resource_group_name" {
  description = "The resource group holding everything."
  value       = azurerm_resource_group.this.name
}

output "acr_login_server" {
  description = "Registry host the images are pushed to (`<acr_login_server>/vote-app:<tag>`)."
  value       = azurerm_container_registry.this.login_server
}

output "acr_name" {
  description = "Registry name, for `az acr login --name`."
  value       = azurerm_container_registry.this.name
}

output "key_vault_uri" {
  description = "Key Vault URI holding the apps' secrets."
  value       = azurerm_key_vault.this.vault_uri
}

output "deploy_client_id" {
  description = "Client id of the deploy identity: the `client-id` input of azure/login in the workflows."
  value       = azurerm_user_assigned_identity.deploy.client_id
}
