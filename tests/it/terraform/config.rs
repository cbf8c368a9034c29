//! `terraform/*.tf` parsed with hcl-rs: what each file declares, by kind.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use hcl::expr::Expression;
use hcl::{Block, Body};

/// The directory holding the Terraform configuration.
pub(crate) fn terraform_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../terraform")
}

/// A resource or data source: `TYPE.NAME`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Address {
    pub(crate) kind: String,
    pub(crate) name: String,
}

impl Address {
    pub(crate) fn new(kind: &str, name: &str) -> Self {
        Self { kind: kind.to_owned(), name: name.to_owned() }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// Everything the `.tf` files declare, by kind.
#[derive(Debug, Default)]
pub(crate) struct Config {
    pub(crate) variables: BTreeMap<String, Block>,
    pub(crate) locals: BTreeMap<String, Expression>,
    pub(crate) resources: BTreeMap<Address, Block>,
    pub(crate) data: BTreeMap<Address, Block>,
    pub(crate) modules: BTreeMap<String, Block>,
    pub(crate) outputs: BTreeMap<String, Block>,
    /// Every top-level block, with the file it came from, for the reference walk.
    pub(crate) blocks: Vec<(String, Block)>,
}

impl Config {
    /// Parses every `.tf` file of `terraform/`; fails the test on a file hcl-rs cannot parse.
    pub(crate) fn load() -> Self {
        let dir = terraform_dir();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "tf"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no .tf file in {}", dir.display());
        let mut config = Self::default();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("a readable .tf file");
            let body = hcl::parse(&text)
                .unwrap_or_else(|error| panic!("{} is not valid HCL: {error}", path.display()));
            let file = path.file_name().expect("a file name").to_string_lossy().into_owned();
            config.declare(&file, body);
        }
        config
    }

    fn declare(&mut self, file: &str, body: Body) {
        for block in body.into_blocks() {
            let labels: Vec<&str> = block.labels.iter().map(|label| label.as_str()).collect();
            let duplicate = match (block.identifier.as_str(), labels.as_slice()) {
                ("variable", [name]) => {
                    self.variables.insert(name.to_string(), block.clone()).is_some()
                }
                ("output", [name]) => {
                    self.outputs.insert(name.to_string(), block.clone()).is_some()
                }
                ("module", [name]) => {
                    self.modules.insert(name.to_string(), block.clone()).is_some()
                }
                ("resource", [kind, name]) => {
                    self.resources.insert(Address::new(kind, name), block.clone()).is_some()
                }
                ("data", [kind, name]) => {
                    self.data.insert(Address::new(kind, name), block.clone()).is_some()
                }
                ("locals", []) => {
                    let mut duplicate = false;
                    for attribute in block.body.attributes() {
                        let key = attribute.key.to_string();
                        duplicate |= self.locals.insert(key, attribute.expr.clone()).is_some();
                    }
                    duplicate
                }
                ("terraform" | "provider", _) => false,
                (other, labels) => panic!("{file}: unexpected top-level block {other} {labels:?}"),
            };
            assert!(!duplicate, "{file}: {} {labels:?} is declared twice", block.identifier);
            self.blocks.push((file.to_owned(), block));
        }
    }

    /// Whether a resource is repeated (`for_each` or `count`): its references then carry an
    /// instance index first.
    pub(crate) fn is_repeated(&self, address: &Address, data: bool) -> bool {
        let table = if data { &self.data } else { &self.resources };
        table.get(address).is_some_and(|block| {
            block.body.attributes().any(|a| matches!(a.key.as_str(), "for_each" | "count"))
        })
    }

    /// Every reference of every block, resolved, and the ones that point at nothing.
    pub(crate) fn references(&self) -> super::references::References {
        super::references::walk(self)
    }
}
