# Least privilege for the apps' system-assigned identities.
#
# System-assigned identities exist only once their app does, so these assignments come after the
# apps: on the very first apply, the first container pull and the Key Vault references can fail
# until the roles propagate. The deploy pipeline's first deployment (or `az webapp restart`)
# starts the apps again with the roles in place.

# Every app pulls its image from the registry.
resource "azurerm_role_assignment" "acr_pull" {
  for_each = merge(
    { for key, app in azurerm_linux_web_app.vote : key => app.identity[0].principal_id },
    { router = azurerm_linux_web_app.router.identity[0].principal_id },
  )

  scope                = azurerm_container_registry.this.id
  role_definition_name = "AcrPull"
  principal_id         = each.value
  principal_type       = "ServicePrincipal"
}

# Only the vote-app instances read secrets (the router has none): read-only, this vault only.
resource "azurerm_role_assignment" "key_vault_secrets_user" {
  for_each = local.instances

  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_linux_web_app.vote[each.key].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}
