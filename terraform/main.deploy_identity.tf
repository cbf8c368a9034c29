# The identity the pipelines sign in as, by OpenID Connect: GitHub Actions presents a token for
# the repository and environment, Entra ID trusts it through the federated credential. No client
# secret exists anywhere.
resource "azurerm_user_assigned_identity" "deploy" {
  name                = "id-${var.name_prefix}-deploy-${local.suffix}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

resource "azurerm_federated_identity_credential" "github" {
  for_each = var.github_environments

  name                = "github-${each.key}"
  resource_group_name = azurerm_resource_group.this.name
  parent_id           = azurerm_user_assigned_identity.deploy.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = "https://token.actions.githubusercontent.com"
  subject             = "repo:${var.github_repository}:environment:${each.key}"
}

# Exactly what it deploys: push images to this registry, and update these three web apps.
resource "azurerm_role_assignment" "deploy_acr_push" {
  scope                = azurerm_container_registry.this.id
  role_definition_name = "AcrPush"
  principal_id         = azurerm_user_assigned_identity.deploy.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "deploy_website_contributor" {
  for_each = merge(
    { for key, app in azurerm_linux_web_app.vote : key => app.id },
    { router = azurerm_linux_web_app.router.id },
  )

  scope                = each.value
  role_definition_name = "Website Contributor"
  principal_id         = azurerm_user_assigned_identity.deploy.principal_id
  principal_type       = "ServicePrincipal"
}
