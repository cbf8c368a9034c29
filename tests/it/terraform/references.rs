//! Every reference of the configuration checked against the declarations.
//!
//! `terraform validate` needs the azurerm provider from the Terraform registry, which CI cannot
//! reach; this is the offline part of it that matters most here: a misspelt `var.`, `local.`,
//! resource, `data.` or `module.` name is found without Azure and without the provider.

use std::collections::BTreeMap;

use hcl::expr::{Expression, ObjectKey, Operation, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, Body, Structure};

use super::config::{Address, Config};

/// Walks every top-level block of `config`.
pub(crate) fn walk(config: &Config) -> References {
    let mut walker = Walker { config, scopes: Vec::new(), found: References::default() };
    for (file, block) in &config.blocks {
        walker.found.place = format!("{file}: {} {:?}", block.identifier, block.labels);
        walker.top_block(block);
    }
    walker.found
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    Variable(String),
    Local(String),
    Module(String),
    Resource(Address),
    Data(Address),
}

/// One use of a resource or data source, with the attribute path read from one instance of it
/// (`identity[0].principal_id`): the evaluator gives each instance a placeholder of that shape.
#[derive(Debug, Clone)]
pub(crate) struct ResourceUse {
    pub(crate) target: Target,
    pub(crate) path: Vec<TraversalOperator>,
}

/// The result of walking every expression.
#[derive(Debug, Default)]
pub(crate) struct References {
    pub(crate) targets: Vec<Target>,
    pub(crate) resource_uses: Vec<ResourceUse>,
    /// `file: block: what` for each reference that resolves to nothing.
    pub(crate) unresolved: Vec<String>,
    place: String,
}

struct Walker<'c> {
    config: &'c Config,
    /// Names bound by `for` expressions and `dynamic` blocks; `Some` when the name iterates over
    /// the instances of a repeated resource (`for key, app in azurerm_linux_web_app.vote`).
    scopes: Vec<BTreeMap<String, Option<Target>>>,
    found: References,
}

impl Walker<'_> {
    fn top_block(&mut self, block: &Block) {
        for structure in block.body.iter() {
            match structure {
                // A variable's `type` is a type expression (`map(string)`), not references.
                Structure::Attribute(a)
                    if block.identifier.as_str() == "variable" && a.key.as_str() == "type" => {}
                Structure::Attribute(attribute) => self.expr(&attribute.expr),
                Structure::Block(inner) => self.block(inner),
            }
        }
    }

    fn block(&mut self, block: &Block) {
        match block.identifier.as_str() {
            // `ignore_changes` names the resource's own arguments, not other objects.
            "lifecycle" => block
                .body
                .attributes()
                .filter(|attribute| attribute.key.as_str() != "ignore_changes")
                .for_each(|attribute| self.expr(&attribute.expr)),
            "dynamic" => {
                let iterator = block
                    .body
                    .attributes()
                    .find(|attribute| attribute.key.as_str() == "iterator")
                    .and_then(|attribute| match &attribute.expr {
                        Expression::Variable(name) => Some(name.to_string()),
                        _ => None,
                    })
                    .or_else(|| block.labels.first().map(|label| label.as_str().to_owned()))
                    .unwrap_or_default();
                self.scopes.push(BTreeMap::from([(iterator, None)]));
                self.body(&block.body);
                self.scopes.pop();
            }
            _ => self.body(&block.body),
        }
    }

    fn body(&mut self, body: &Body) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => self.expr(&attribute.expr),
                Structure::Block(block) => self.block(block),
            }
        }
    }

    fn expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Array(items) => items.iter().for_each(|item| self.expr(item)),
            Expression::Object(object) => {
                for (key, value) in object {
                    if let ObjectKey::Expression(key) = key {
                        self.expr(key);
                    }
                    self.expr(value);
                }
            }
            Expression::TemplateExpr(template) => match Template::from_expr(template) {
                Ok(template) => self.template(&template),
                Err(error) => self.unresolved(format!("template does not parse: {error}")),
            },
            Expression::Variable(name) => self.root(name.as_str(), &[]),
            Expression::Traversal(traversal) => {
                for operator in &traversal.operators {
                    if let TraversalOperator::Index(index) = operator {
                        self.expr(index);
                    }
                }
                match &traversal.expr {
                    Expression::Variable(name) => self.root(name.as_str(), &traversal.operators),
                    other => self.expr(other),
                }
            }
            Expression::FuncCall(call) => {
                if !call.name.namespace.is_empty() {
                    self.unresolved(format!("provider function {:?}", call.name));
                }
                call.args.iter().for_each(|arg| self.expr(arg));
            }
            Expression::Parenthesis(inner) => self.expr(inner),
            Expression::Conditional(conditional) => {
                self.expr(&conditional.cond_expr);
                self.expr(&conditional.true_expr);
                self.expr(&conditional.false_expr);
            }
            Expression::Operation(operation) => match operation.as_ref() {
                Operation::Unary(unary) => self.expr(&unary.expr),
                Operation::Binary(binary) => {
                    self.expr(&binary.lhs_expr);
                    self.expr(&binary.rhs_expr);
                }
            },
            Expression::ForExpr(for_expr) => {
                self.expr(&for_expr.collection_expr);
                let mut scope = BTreeMap::new();
                if let Some(key) = &for_expr.key_var {
                    scope.insert(key.to_string(), None);
                }
                let instances = self.repeated_target(&for_expr.collection_expr);
                scope.insert(for_expr.value_var.to_string(), instances);
                self.scopes.push(scope);
                let inner = [
                    Some(&for_expr.value_expr),
                    for_expr.key_expr.as_ref(),
                    for_expr.cond_expr.as_ref(),
                ];
                inner.into_iter().flatten().for_each(|expr| self.expr(expr));
                self.scopes.pop();
            }
            _ => {}
        }
    }

    fn template(&mut self, template: &Template) {
        for element in template.elements() {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(interpolation) => self.expr(&interpolation.expr),
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(directive) => {
                        self.expr(&directive.cond_expr);
                        self.template(&directive.true_template);
                        if let Some(template) = &directive.false_template {
                            self.template(template);
                        }
                    }
                    Directive::For(directive) => {
                        self.expr(&directive.collection_expr);
                        let mut scope = BTreeMap::from([(directive.value_var.to_string(), None)]);
                        if let Some(key) = &directive.key_var {
                            scope.insert(key.to_string(), None);
                        }
                        self.scopes.push(scope);
                        self.template(&directive.template);
                        self.scopes.pop();
                    }
                },
            }
        }
    }

    /// The repeated resource a `for` expression iterates over, when it iterates over one.
    fn repeated_target(&self, collection: &Expression) -> Option<Target> {
        let Expression::Traversal(traversal) = collection else { return None };
        let Expression::Variable(kind) = &traversal.expr else { return None };
        match traversal.operators.as_slice() {
            [TraversalOperator::GetAttr(name)] => {
                let address = Address::new(kind.as_str(), name.as_str());
                self.config.is_repeated(&address, false).then_some(Target::Resource(address))
            }
            _ => None,
        }
    }

    fn root(&mut self, name: &str, operators: &[TraversalOperator]) {
        if let Some(bound) = self.scopes.iter().rev().find_map(|scope| scope.get(name)) {
            if let Some(target) = bound.clone() {
                let path = operators.to_vec();
                self.found.resource_uses.push(ResourceUse { target, path });
            }
            return;
        }
        let attr = |index: usize| match operators.get(index) {
            Some(TraversalOperator::GetAttr(name)) => Some(name.to_string()),
            _ => None,
        };
        let config = self.config;
        let target = match name {
            "each" | "count" | "self" | "path" | "terraform" => return,
            "var" => attr(0).map(Target::Variable),
            "local" => attr(0).map(Target::Local),
            "module" => attr(0).map(Target::Module),
            "data" => match (attr(0), attr(1)) {
                (Some(kind), Some(name)) => Some(Target::Data(Address::new(&kind, &name))),
                _ => None,
            },
            kind => attr(0).map(|name| Target::Resource(Address::new(kind, &name))),
        };
        let Some(target) = target else {
            return self.unresolved(format!("`{name}` is not a reference Terraform knows"));
        };
        let declared = match &target {
            Target::Variable(name) => config.variables.contains_key(name),
            Target::Local(name) => config.locals.contains_key(name),
            Target::Module(name) => config.modules.contains_key(name),
            Target::Resource(address) => config.resources.contains_key(address),
            Target::Data(address) => config.data.contains_key(address),
        };
        if !declared {
            return self.unresolved(format!("{target:?} is not declared"));
        }
        let (address_length, data) = match &target {
            Target::Resource(_) => (1, false),
            Target::Data(_) => (2, true),
            _ => (0, false),
        };
        if let Target::Resource(address) | Target::Data(address) = &target {
            let skip = address_length + usize::from(config.is_repeated(address, data));
            let path = operators.get(skip..).unwrap_or_default().to_vec();
            self.found.resource_uses.push(ResourceUse { target: target.clone(), path });
        }
        self.found.targets.push(target);
    }

    fn unresolved(&mut self, what: String) {
        self.found.unresolved.push(format!("{}: {what}", self.found.place));
    }
}
