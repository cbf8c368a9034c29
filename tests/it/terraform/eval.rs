//! Evaluates the parts of the configuration the invariants are about, as `terraform plan` would,
//! with what is only known after `apply` replaced by placeholders.
//!
//! Variables take their defaults, then `terraform.tfvars.example`, then the test's overrides.
//! Locals, `for_each` and `count` are evaluated with hcl-rs. An attribute of a resource
//! (`azurerm_linux_web_app.vote["even"].default_hostname`) evaluates to the placeholder string
//! `«azurerm_linux_web_app.vote["even"].default_hostname»`, so an app setting that references
//! another object can be compared with the reference it must hold.

use std::collections::BTreeMap;

use hcl::eval::{Context, Evaluate, FuncDef, ParamType};
use hcl::expr::Expression;
use hcl::{Block, Map, Value};

use super::config::{Address, Config, terraform_dir};
use super::functions::{merge, urlencode};
use super::placeholders::Shape;
use super::references::Target;

pub(crate) use super::placeholders::placeholder;

/// Which instances of a resource exist.
#[derive(Debug, Clone)]
pub(crate) enum Instances {
    /// No `for_each` or `count`.
    Single,
    /// `for_each`: each key with its `each.value`.
    Keys(Vec<(String, Value)>),
    /// `count`.
    Count(usize),
}

/// One instance of a resource, as `each` or `count.index` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InstanceKey {
    Single,
    Key(String),
    Index(usize),
}

/// The configuration with values: variables, locals, and placeholders for created objects.
#[derive(Debug)]
pub(crate) struct Evaluated<'c> {
    pub(crate) config: &'c Config,
    vars: Map<String, Value>,
    locals: Map<String, Value>,
    instances: BTreeMap<Address, Instances>,
    shapes: BTreeMap<(bool, Address), Shape>,
}

impl<'c> Evaluated<'c> {
    /// Evaluates with the defaults, `terraform.tfvars.example`, then `overrides`.
    pub(crate) fn new(config: &'c Config, overrides: &[(&str, Value)]) -> Self {
        let mut evaluated = Self {
            config,
            vars: Map::new(),
            locals: Map::new(),
            instances: BTreeMap::new(),
            shapes: BTreeMap::new(),
        };
        for usage in config.references().resource_uses {
            let (data, address) = match usage.target {
                Target::Resource(address) => (false, address),
                Target::Data(address) => (true, address),
                _ => continue,
            };
            evaluated
                .shapes
                .entry((data, address))
                .or_insert(Shape::Object(BTreeMap::new()))
                .add(&usage.path);
        }
        evaluated.vars = evaluated.variable_values(overrides);
        evaluated.resolve_locals_and_instances();
        evaluated
    }

    fn variable_values(&self, overrides: &[(&str, Value)]) -> Map<String, Value> {
        let context = Context::new();
        let mut vars = Map::new();
        for (name, block) in &self.config.variables {
            if let Some(default) = attribute(&block.body, "default") {
                let value = default.evaluate(&context).expect("a variable default is a literal");
                vars.insert(name.clone(), value);
            }
        }
        let example = terraform_dir().join("terraform.tfvars.example");
        let text =
            std::fs::read_to_string(&example).expect("terraform/terraform.tfvars.example exists");
        let body = hcl::parse(&text).expect("terraform.tfvars.example is valid HCL");
        for attribute in body.attributes() {
            let name = attribute.key.to_string();
            assert!(
                self.config.variables.contains_key(&name),
                "terraform.tfvars.example sets undeclared variable {name}"
            );
            let value = attribute.expr.evaluate(&context).expect("a tfvars value is a literal");
            vars.insert(name, value);
        }
        for (name, value) in overrides {
            assert!(
                self.config.variables.contains_key(*name),
                "override of undeclared variable {name}"
            );
            vars.insert((*name).to_owned(), value.clone());
        }
        vars
    }

    /// Locals may read resources and `for_each` may read locals: evaluate in rounds until nothing
    /// more resolves. Whatever never resolves fails later, where a test asks for it.
    fn resolve_locals_and_instances(&mut self) {
        loop {
            let mut progress = false;
            for (address, block) in &self.config.resources {
                if self.instances.contains_key(address) {
                    continue;
                }
                if let Ok(instances) = self.instances_of(block) {
                    self.instances.insert(address.clone(), instances);
                    progress = true;
                }
            }
            for (name, expr) in &self.config.locals {
                if self.locals.contains_key(name) {
                    continue;
                }
                if let Ok(value) = expr.evaluate(&self.context(&InstanceKey::Single, None)) {
                    self.locals.insert(name.clone(), value);
                    progress = true;
                }
            }
            if !progress {
                return;
            }
        }
    }

    fn instances_of(&self, block: &Block) -> Result<Instances, String> {
        let context = self.context(&InstanceKey::Single, None);
        if let Some(for_each) = attribute(&block.body, "for_each") {
            let value = for_each.evaluate(&context).map_err(|error| error.to_string())?;
            let keys = match value {
                Value::Object(map) => map.into_iter().collect(),
                Value::Array(items) => items
                    .into_iter()
                    .map(|item| (item.as_str().unwrap_or_default().to_owned(), item))
                    .collect(),
                other => return Err(format!("for_each is {other}")),
            };
            return Ok(Instances::Keys(keys));
        }
        if let Some(count) = attribute(&block.body, "count") {
            let value = count.evaluate(&context).map_err(|error| error.to_string())?;
            let count = value.as_u64().ok_or_else(|| format!("count is {value}"))?;
            return Ok(Instances::Count(
                usize::try_from(count).map_err(|error| error.to_string())?,
            ));
        }
        Ok(Instances::Single)
    }

    /// The keys of a resource's instances.
    pub(crate) fn instance_keys(&self, address: &Address) -> Vec<InstanceKey> {
        match self.instances.get(address) {
            Some(Instances::Single) => vec![InstanceKey::Single],
            Some(Instances::Keys(keys)) => {
                keys.iter().map(|(key, _)| InstanceKey::Key(key.clone())).collect()
            }
            Some(Instances::Count(count)) => (0..*count).map(InstanceKey::Index).collect(),
            None => panic!("the instances of {address} could not be evaluated"),
        }
    }

    /// The placeholder prefix of one instance: `TYPE.NAME`, `TYPE.NAME["key"]`, `TYPE.NAME[0]`.
    pub(crate) fn instance_reference(address: &Address, key: &InstanceKey) -> String {
        match key {
            InstanceKey::Single => address.to_string(),
            InstanceKey::Key(key) => format!("{address}[\"{key}\"]"),
            InstanceKey::Index(index) => format!("{address}[{index}]"),
        }
    }

    /// The value of the argument at `path` (nested blocks, then the argument) of one instance.
    pub(crate) fn argument(
        &self,
        address: &Address,
        key: &InstanceKey,
        path: &[&str],
    ) -> Option<Value> {
        let block = self
            .config
            .resources
            .get(address)
            .unwrap_or_else(|| panic!("{address} is not declared"));
        let (name, blocks) = path.split_last().expect("a non-empty path");
        let mut body = &block.body;
        for inner in blocks {
            body = &body.blocks().find(|block| block.identifier.as_str() == *inner)?.body;
        }
        let expr = attribute(body, name)?;
        let value = expr.evaluate(&self.context(key, self.each_value(address, key)));
        Some(value.unwrap_or_else(|error| {
            panic!("{address} {key:?} {path:?} does not evaluate: {error}")
        }))
    }

    /// Every block at `path` (nested blocks, the last one possibly repeated, such as
    /// `site_config.ip_restriction`) of one instance, each with its arguments evaluated.
    pub(crate) fn blocks(
        &self,
        address: &Address,
        key: &InstanceKey,
        path: &[&str],
    ) -> Vec<Map<String, Value>> {
        let block = self
            .config
            .resources
            .get(address)
            .unwrap_or_else(|| panic!("{address} is not declared"));
        let (name, parents) = path.split_last().expect("a non-empty path");
        let mut body = &block.body;
        for parent in parents {
            match body.blocks().find(|block| block.identifier.as_str() == *parent) {
                Some(block) => body = &block.body,
                None => return Vec::new(),
            }
        }
        let context = self.context(key, self.each_value(address, key));
        let evaluate = |block: &Block| -> Map<String, Value> {
            let arguments = block.body.attributes().map(|attribute| {
                let value = attribute.expr.evaluate(&context);
                let value = value.unwrap_or_else(|error| {
                    panic!("{address} {path:?}.{}: {error}", attribute.key)
                });
                (attribute.key.to_string(), value)
            });
            arguments.collect()
        };
        body.blocks().filter(|block| block.identifier.as_str() == *name).map(evaluate).collect()
    }

    fn each_value(&self, address: &Address, key: &InstanceKey) -> Option<Value> {
        match (key, self.instances.get(address)) {
            (InstanceKey::Key(key), Some(Instances::Keys(keys))) => {
                keys.iter().find(|(candidate, _)| candidate == key).map(|(_, value)| value.clone())
            }
            _ => None,
        }
    }

    /// Like [`Self::argument`], as a string; fails the test when absent or not a string.
    pub(crate) fn string(&self, address: &Address, key: &InstanceKey, path: &[&str]) -> String {
        match self.argument(address, key, path) {
            Some(Value::String(text)) => text,
            other => panic!("{address} {key:?} {path:?}: expected a string, got {other:?}"),
        }
    }

    fn context(&self, key: &InstanceKey, each: Option<Value>) -> Context<'static> {
        let mut context = Context::new();
        context.declare_var("var", Value::Object(self.vars.clone()));
        context.declare_var("local", Value::Object(self.locals.clone()));
        let mut resources: Map<String, Map<String, Value>> = Map::new();
        let mut data: Map<String, Map<String, Value>> = Map::new();
        for ((is_data, address), shape) in &self.shapes {
            let value = if *is_data {
                shape.value(&format!("data.{address}"))
            } else {
                match self.instances.get(address) {
                    None => continue,
                    Some(Instances::Single) => shape.value(&address.to_string()),
                    Some(Instances::Keys(keys)) => Value::Object(
                        keys.iter()
                            .map(|(k, _)| {
                                (
                                    k.clone(),
                                    shape.value(&Self::instance_reference(
                                        address,
                                        &InstanceKey::Key(k.clone()),
                                    )),
                                )
                            })
                            .collect(),
                    ),
                    Some(Instances::Count(count)) => Value::Array(
                        (0..*count)
                            .map(|i| {
                                shape.value(&Self::instance_reference(
                                    address,
                                    &InstanceKey::Index(i),
                                ))
                            })
                            .collect(),
                    ),
                }
            };
            let table = if *is_data { &mut data } else { &mut resources };
            table.entry(address.kind.clone()).or_default().insert(address.name.clone(), value);
        }
        for (kind, names) in resources {
            context.declare_var(kind, Value::Object(names));
        }
        context.declare_var(
            "data",
            Value::Object(data.into_iter().map(|(k, v)| (k, Value::Object(v))).collect()),
        );
        match key {
            InstanceKey::Key(name) => {
                let value = each.unwrap_or(Value::Null);
                context.declare_var(
                    "each",
                    Value::Object(Map::from_iter([
                        ("key".to_owned(), Value::from(name.as_str())),
                        ("value".to_owned(), value),
                    ])),
                );
            }
            InstanceKey::Index(index) => {
                context.declare_var(
                    "count",
                    Value::Object(Map::from_iter([(
                        "index".to_owned(),
                        Value::from(*index as u64),
                    )])),
                );
            }
            InstanceKey::Single => {}
        }
        context
            .declare_func("merge", FuncDef::builder().variadic_param(ParamType::Any).build(merge));
        context.declare_func("urlencode", FuncDef::new(urlencode, [ParamType::String]));
        context
    }
}

/// The expression of a body's argument.
pub(crate) fn attribute<'b>(body: &'b hcl::Body, name: &str) -> Option<&'b Expression> {
    body.attributes()
        .find(|attribute| attribute.key.as_str() == name)
        .map(|attribute| &attribute.expr)
}
