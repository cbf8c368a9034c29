variable "location" {
  type        = string
  description = "Azure region of every resource, e.g. `francecentral` (see docs/finops.md for the prices of that choice)."
  default     = "francecentral"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.location))
    error_message = "location must be a region name such as francecentral or westeurope (lower case, no spaces)."
  }
}

variable "name_prefix" {
  type        = string
  description = "Short prefix of every resource name; a random suffix makes the names globally unique."
  default     = "vote"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.name_prefix))
    error_message = "name_prefix must be 2-10 lower-case letters or digits, starting with a letter (it ends up in the registry and vault names)."
  }
}

variable "even_plan_sku" {
  type        = string
  description = "App Service plan SKU of the instance that serves even minutes (the production-grade tier of the FinOps comparison)."
  default     = "P0v3"
  nullable    = false

  validation {
    condition     = contains(["B1", "B2", "B3", "S1", "S2", "S3", "P0v3", "P1v3", "P2v3", "P3v3", "P1mv3", "P2mv3"], var.even_plan_sku)
    error_message = "even_plan_sku must be a Linux SKU with VNet integration and health checks: B1-B3, S1-S3, P0v3-P3v3, P1mv3 or P2mv3."
  }
}

variable "odd_plan_sku" {
  type        = string
  description = "App Service plan SKU of the instance that serves odd minutes (the cheaper tier of the FinOps comparison)."
  default     = "B1"
  nullable    = false

  validation {
    condition     = contains(["B1", "B2", "B3", "S1", "S2", "S3", "P0v3", "P1v3", "P2v3", "P3v3", "P1mv3", "P2mv3"], var.odd_plan_sku)
    error_message = "odd_plan_sku must be a Linux SKU with VNet integration and health checks: B1-B3, S1-S3, P0v3-P3v3, P1mv3 or P2mv3."
  }

  validation {
    condition     = var.odd_plan_sku != var.even_plan_sku
    error_message = "odd_plan_sku must differ from even_plan_sku: the two instances exist to compare two tiers."
  }
}

variable "router_plan" {
  type        = string
  description = "Which instance's plan also hosts the router (`even` or `odd`): a third plan would add its full price for a small proxy."
  default     = "even"
  nullable    = false

  validation {
    condition     = contains(["even", "odd"], var.router_plan)
    error_message = "router_plan must be even or odd."
  }
}

variable "image_tag" {
  type        = string
  description = "Image tag deployed at creation. The deploy pipeline then owns the running tag (Terraform ignores later changes)."
  default     = "latest"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid container image tag."
  }
}

variable "redis_sku" {
  type        = string
  description = "Azure Managed Redis SKU. Balanced_B0 is the smallest (about 0.5 GB)."
  default     = "Balanced_B0"
  nullable    = false

  validation {
    condition     = can(regex("^(Balanced|ComputeOptimized|MemoryOptimized|FlashOptimized)_[A-Z][0-9]+$", var.redis_sku))
    error_message = "redis_sku must be an Azure Managed Redis SKU such as Balanced_B0 or Balanced_B1."
  }
}

variable "redis_clustering_policy" {
  type        = string
  description = "How Azure Managed Redis presents its shards. EnterpriseCluster: one endpoint, any client. OSSCluster: the cluster protocol, faster at scale; the vote-app then runs its cluster client (REDIS_CLUSTER=true, set from this)."
  default     = "EnterpriseCluster"
  nullable    = false

  validation {
    condition     = contains(["EnterpriseCluster", "OSSCluster"], var.redis_clustering_policy)
    error_message = "redis_clustering_policy must be EnterpriseCluster or OSSCluster."
  }
}

variable "postgresql_enabled" {
  type        = bool
  description = "Create a PostgreSQL Flexible Server for the vote ledger (the per-minute, per-instance results view). Its URL goes to Key Vault and DATABASE_URL."
  default     = false
  nullable    = false
}

variable "postgresql_sku" {
  type        = string
  description = "PostgreSQL Flexible Server SKU, used when postgresql_enabled is true."
  default     = "B_Standard_B1ms"
  nullable    = false

  validation {
    condition     = can(regex("^(B|GP|MO)_Standard_[A-Za-z0-9_]+$", var.postgresql_sku))
    error_message = "postgresql_sku must look like B_Standard_B1ms, GP_Standard_D2s_v3 or MO_Standard_E2s_v3."
  }
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (`owner/name`) whose workflows may sign in as the deploy identity."
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "github_environments" {
  type        = set(string)
  description = <<DESCRIPTION
GitHub environments whose jobs may sign in as the deploy identity: one federated credential each,
subject `repo:<github_repository>:environment:<name>`. A job without an environment cannot sign in.
DESCRIPTION
  default     = ["production"]
  nullable    = false

  validation {
    condition     = length(var.github_environments) > 0 && alltrue([for name in var.github_environments : can(regex("^[A-Za-z0-9_.-]+$", name))])
    error_message = "github_environments must name at least one environment (letters, digits, ., _ or -)."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days Log Analytics keeps logs, including the Key Vault access audit."
  default     = 30
  nullable    = false

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource that takes tags."
  default     = {}
  nullable    = false
}
