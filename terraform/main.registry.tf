# The images' registry. No admin user: the web apps pull with their managed identities (AcrPull)
# and the pipelines push with the deploy identity (AcrPush), so no registry password exists.
resource "azurerm_container_registry" "this" {
  name                = "acr${var.name_prefix}${local.suffix}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  sku                 = "Basic"
  admin_enabled       = false
  tags                = local.tags
}
