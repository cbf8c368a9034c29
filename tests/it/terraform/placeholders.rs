//! Placeholders for what only exists after `apply`: an attribute of a created object evaluates to
//! `«TYPE.NAME[key].attribute»`, shaped like the paths the configuration reads from it.

use std::collections::BTreeMap;

use hcl::Value;
use hcl::expr::TraversalOperator;

/// The placeholder an attribute of a created object evaluates to.
pub(crate) fn placeholder(reference: &str) -> String {
    format!("«{reference}»")
}

/// The attribute paths read from each resource: the shape of its placeholders.
#[derive(Debug, Default, Clone)]
pub(crate) enum Shape {
    #[default]
    Leaf,
    Object(BTreeMap<String, Shape>),
    List(Box<Shape>),
}

impl Shape {
    pub(crate) fn add(&mut self, path: &[TraversalOperator]) {
        let Some((first, rest)) = path.split_first() else { return };
        match first {
            TraversalOperator::GetAttr(name) => {
                if !matches!(self, Shape::Object(_)) {
                    *self = Shape::Object(BTreeMap::new());
                }
                if let Shape::Object(fields) = self {
                    fields.entry(name.to_string()).or_default().add(rest);
                }
            }
            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => {
                if !matches!(self, Shape::List(_)) {
                    *self = Shape::List(Box::default());
                }
                if let Shape::List(element) = self {
                    element.add(rest);
                }
            }
            TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {}
        }
    }

    pub(crate) fn value(&self, prefix: &str) -> Value {
        match self {
            Shape::Leaf => Value::String(placeholder(prefix)),
            Shape::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(name, shape)| (name.clone(), shape.value(&format!("{prefix}.{name}"))))
                    .collect(),
            ),
            Shape::List(element) => Value::Array(vec![element.value(&format!("{prefix}[0]"))]),
        }
    }
}
