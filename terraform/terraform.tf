# The one terraform block: the CLI and provider versions this configuration is written for.
terraform {
  # 1.9 is the first release whose variable validations may refer to other variables
  # (odd_plan_sku must differ from even_plan_sku).
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.42 introduced `rbac_authorization_enabled` on azurerm_key_vault (the older
      # `enable_rbac_authorization` is removed in 5.0).
      version = "~> 4.42"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State stays local until a backend is chosen. For the pipelines, keep it in a storage account
  # reached with the deploy identity (Entra ID auth, no access key):
  #
  # backend "azurerm" {
  #   resource_group_name  = "rg-tfstate"
  #   storage_account_name = "sttfstatevote"
  #   container_name       = "tfstate"
  #   key                  = "vote-app.tfstate"
  #   use_azuread_auth     = true
  #   use_oidc             = true
  # }
}

# The subscription comes from ARM_SUBSCRIPTION_ID (azurerm 4.x requires one); in GitHub Actions,
# ARM_USE_OIDC=true with ARM_CLIENT_ID / ARM_TENANT_ID signs in without a secret.
provider "azurerm" {
  features {
    key_vault {
      # Purge protection is on: a destroyed vault stays recoverable for its retention period.
      purge_soft_delete_on_destroy = false
    }
  }
}
