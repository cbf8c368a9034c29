//! Rendering an overlay and reading the objects it produces.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

/// The repository's root (the tests crate sits one level below it).
pub(crate) fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every directory of `k8s/` that can be applied on its own: environments, strategies, the
/// Gateway.
pub(crate) fn every_overlay() -> Vec<String> {
    let mut overlays = vec!["k8s/gateway".to_owned()];
    for parent in ["k8s/overlays", "k8s/strategies"] {
        let entries = std::fs::read_dir(repository().join(parent))
            .unwrap_or_else(|error| panic!("cannot list {parent}: {error}"));
        for entry in entries {
            let name = entry.expect("a readable directory entry").file_name();
            overlays.push(format!("{parent}/{}", name.to_string_lossy()));
        }
    }
    overlays.sort();
    overlays
}

/// The objects one overlay renders to.
#[derive(Debug)]
pub(crate) struct Rendered {
    /// The overlay, as given to [`render`].
    pub(crate) overlay: String,
    pub(crate) objects: Vec<Value>,
}

/// Renders `overlay` (a path from the repository's root) exactly as the pipelines do.
pub(crate) fn render(overlay: &str) -> Rendered {
    let output = Command::new("ci/k8s-render.sh")
        .arg(overlay)
        .current_dir(repository())
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run ci/k8s-render.sh (it needs bash, kubectl and python3): {error}")
        });
    assert!(
        output.status.success(),
        "ci/k8s-render.sh {overlay} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let objects = serde_norway::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{overlay} rendered invalid YAML: {error}"))
        })
        .filter(|object| !object.is_null())
        .collect();
    Rendered { overlay: overlay.to_owned(), objects }
}

/// Every overlay, rendered.
pub(crate) fn render_all() -> Vec<Rendered> {
    every_overlay().iter().map(|overlay| render(overlay)).collect()
}

/// A workload's pod template, with the workload it belongs to.
#[derive(Debug)]
pub(crate) struct PodTemplate<'a> {
    /// `Deployment/vote-app`, for messages.
    pub(crate) owner: String,
    pub(crate) workload: &'a Value,
    pub(crate) template: &'a Value,
}

impl PodTemplate<'_> {
    /// The labels every pod of this workload carries.
    pub(crate) fn labels(&self) -> &Value {
        &self.template["metadata"]["labels"]
    }

    pub(crate) fn spec(&self) -> &Value {
        &self.template["spec"]
    }

    pub(crate) fn containers(&self) -> &[Value] {
        as_array(&self.spec()["containers"])
    }

    /// The pods' selector (`spec.selector.matchLabels`).
    pub(crate) fn selector(&self) -> &Value {
        &self.workload["spec"]["selector"]["matchLabels"]
    }
}

impl Rendered {
    /// Every object of `kind`.
    pub(crate) fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects.iter().filter(move |object| object["kind"] == kind)
    }

    /// The object of `kind` called `name`, if the overlay has one.
    pub(crate) fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.objects
            .iter()
            .find(|object| object["kind"] == kind && object["metadata"]["name"] == name)
    }

    /// The pod templates of every Deployment and StatefulSet.
    pub(crate) fn pod_templates(&self) -> Vec<PodTemplate<'_>> {
        self.objects
            .iter()
            .filter(|object| matches!(object["kind"].as_str(), Some("Deployment" | "StatefulSet")))
            .map(|workload| PodTemplate {
                owner: format!(
                    "{}/{}",
                    str_of(&workload["kind"]),
                    str_of(&workload["metadata"]["name"])
                ),
                workload,
                template: &workload["spec"]["template"],
            })
            .collect()
    }

    /// Pod templates whose labels include every pair of `selector`.
    pub(crate) fn pods_selected_by(&self, selector: &Value) -> Vec<PodTemplate<'_>> {
        self.pod_templates().into_iter().filter(|pod| selects(selector, pod.labels())).collect()
    }
}

/// Whether the label pairs of `selector` (a `matchLabels` map) are all in `labels`. An empty
/// selector selects everything, as in Kubernetes.
pub(crate) fn selects(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_none_or(|pairs| pairs.iter().all(|(key, value)| labels[key] == *value))
}

/// The name of the image without registry path or tag: `myacr.azurecr.io/vote-app:1.2` is
/// `vote-app`.
pub(crate) fn image_name(container: &Value) -> &str {
    let image = str_of(&container["image"]);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split(':').next().unwrap_or(last)
}

/// The tag of a container's image (what follows the last `:` after the last `/`).
pub(crate) fn image_tag(container: &Value) -> Option<&str> {
    let image = str_of(&container["image"]);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, tag)| tag)
}

/// The container port a probe or a Service's `targetPort` names (by number or by name).
pub(crate) fn resolve_port(container: &Value, port: &Value) -> Option<u64> {
    let ports = as_array(&container["ports"]);
    match port {
        Value::Number(number) => {
            number.as_u64().filter(|n| ports.iter().any(|p| p["containerPort"] == *n))
        }
        Value::String(name) => ports.iter().find(|p| p["name"] == *name)?["containerPort"].as_u64(),
        _ => None,
    }
}

/// An array field, or nothing when it is absent.
pub(crate) fn as_array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// A string field, or `""` when it is absent.
pub(crate) fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}
