//! `terraform/` and `deploy/appservice-cli.sh`, checked without Azure.
//!
//! `terraform validate` and `plan` need the azurerm provider from the Terraform registry, which CI
//! cannot reach. What can be proven offline is proven here: every `.tf` file parses, every
//! reference points at a declaration, the invariants of the design hold (two instances on two
//! plans of different SKUs behind the router, secrets only as Key Vault references, least
//! privilege, access restrictions), the app settings name variables the services read, and the
//! services start with exactly those settings.
//!
//! # Layout
//! - [`config`]: the `.tf` files parsed, and what they declare.
//! - [`references`]: every reference resolved to a declaration.
//! - [`eval`]: variables, locals and `for_each` evaluated, with [`functions`] (`merge`,
//!   `urlencode`) and [`placeholders`] for what only exists after `apply`.
//! - [`apps`]: the web apps, their settings and role assignments, as the invariants read them.
//! - [`invariants`]: the design's rules, one test each; [`hardening`]: TLS, no passwords, the
//!   vault's audit.
//! - [`health_checks`]: each health check path asked of the service itself.
//! - [`containers`]: the images run with the web apps' app settings.
//! - [`cli_script`]: the manual Azure CLI script's `--dry-run`.

mod apps;
mod cli_script;
mod config;
mod containers;
mod eval;
mod functions;
mod hardening;
mod health_checks;
mod invariants;
mod placeholders;
mod references;
