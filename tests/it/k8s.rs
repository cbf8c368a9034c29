//! The Kubernetes manifests of `k8s/`, proven on their rendered output: what `kubectl apply -k`
//! would send is what these tests read.
//!
//! - [`manifests`]: renders an overlay with `ci/k8s-render.sh` and finds objects in it.
//! - [`invariants`]: what must hold in every overlay (probes on routes the services answer,
//!   selectors that select, env names the services read, 70/30 canary, two pods in QAL…).
//! - [`pods`]: the rendered pod specs run as containers of the project's images, with the
//!   manifests' user, read-only root filesystem, capabilities, env and secret files.

mod invariants;
mod manifests;
mod pods;
