# Only the router may reach the two instances. How, on multi-tenant App Service:
#
# - The router's outbound IP addresses as `ip_restriction` entries work without a VNet, but those
#   addresses belong to the scale unit and are shared with every other app on it, they change
#   when the plan moves, and they create a cycle here: the router's settings need the instances'
#   host names while the instances' rules would need the router's addresses.
# - Chosen: the router joins this subnet (regional VNet integration, all outbound traffic routed
#   through it) and the subnet has a Microsoft.Web service endpoint. Requests from the router to
#   *.azurewebsites.net then arrive tagged with the subnet, and each instance allows that subnet
#   only. Nothing else can come from it, the rule survives scaling, and there is no cycle.
#   The VNet, the subnet and the service endpoint cost nothing.
resource "azurerm_virtual_network" "this" {
  name                = "vnet-${var.name_prefix}-${local.suffix}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  address_space       = ["10.42.0.0/24"]
  tags                = local.tags
}

resource "azurerm_subnet" "router" {
  name                 = "snet-router"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = ["10.42.0.0/26"]
  service_endpoints    = ["Microsoft.Web"]

  # VNet integration needs a subnet delegated to App Service plans.
  delegation {
    name = "app-service"
    service_delegation {
      name    = "Microsoft.Web/serverFarms"
      actions = ["Microsoft.Network/virtualNetworks/subnets/action"]
    }
  }
}

# The subnet carries only the router's outbound traffic; the NSG's default rules (VNet and load
# balancer inbound, internet outbound) are what it needs, and give one place to tighten later.
resource "azurerm_network_security_group" "router" {
  name                = "nsg-${var.name_prefix}-router-${local.suffix}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

resource "azurerm_subnet_network_security_group_association" "router" {
  subnet_id                 = azurerm_subnet.router.id
  network_security_group_id = azurerm_network_security_group.router.id
}
