//! What must hold in the rendered output of every overlay. Each test reads every overlay, so a
//! new overlay is checked without being listed anywhere.

use std::collections::BTreeSet;

use serde_json::Value;

use super::manifests::{
    PodTemplate, Rendered, as_array, image_name, image_tag, render, render_all, resolve_port,
    selects, str_of,
};

/// The images this repository builds; their containers must run the services' own settings.
const OWN_IMAGES: [&str; 2] = ["vote-app", "router"];

/// Where the Key Vault CSI driver (or the local Secret) mounts the secrets.
const SECRETS_MOUNT: &str = "/mnt/secrets-store";

#[test]
fn qal_runs_exactly_two_vote_app_pods_that_no_autoscaler_changes() {
    let qal = render("k8s/overlays/qal");
    let deployment = qal.find("Deployment", "vote-app").expect("QAL has the vote-app Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["metadata"]["namespace"], "qal");
    assert_eq!(
        qal.of_kind("HorizontalPodAutoscaler").count(),
        0,
        "an autoscaler would change the count"
    );
}

#[test]
fn the_prod_canary_sends_70_percent_to_stable_and_30_to_canary() {
    let prod = render("k8s/overlays/prod-canary");
    let route = prod.find("HTTPRoute", "vote-app").expect("prod-canary has an HTTPRoute");
    let rules = as_array(&route["spec"]["rules"]);
    assert_eq!(rules.len(), 1, "one rule splits all traffic");
    let weights: Vec<(&str, u64)> = as_array(&rules[0]["backendRefs"])
        .iter()
        .map(|backend| (str_of(&backend["name"]), backend["weight"].as_u64().unwrap_or(1)))
        .collect();
    assert_eq!(weights, [("vote-app-stable", 70), ("vote-app-canary", 30)]);
    for (service, track) in [("vote-app-stable", "stable"), ("vote-app-canary", "canary")] {
        let service = prod.find("Service", service).expect("each backend is a Service");
        let pods = prod.pods_selected_by(&service["spec"]["selector"]);
        assert!(!pods.is_empty(), "{} selects no pod", service["metadata"]["name"]);
        assert!(pods.iter().all(|pod| pod.labels()["track"] == track));
    }
}

#[test]
fn prod_has_enough_replicas_for_a_30_percent_pod_ratio_canary() {
    // The Azure DevOps KubernetesManifest task starts floor(30 % x replicas) canary pods.
    let prod = render("k8s/overlays/prod");
    let replicas =
        prod.find("Deployment", "vote-app").expect("prod has vote-app")["spec"]["replicas"]
            .as_u64()
            .expect("prod sets its replica count");
    assert!(replicas * 30 / 100 >= 1, "{replicas} replicas give no canary pod at 30 %");
}

#[test]
fn every_http_route_sends_traffic_to_services_that_exist_on_their_ports() {
    for rendered in render_all() {
        for route in rendered.of_kind("HTTPRoute") {
            assert!(
                !as_array(&route["spec"]["parentRefs"]).is_empty(),
                "{}: a route without a Gateway",
                rendered.overlay
            );
            for rule in as_array(&route["spec"]["rules"]) {
                let mirrors = as_array(&rule["filters"])
                    .iter()
                    .map(|filter| &filter["requestMirror"]["backendRef"]);
                for backend in
                    as_array(&rule["backendRefs"]).iter().chain(mirrors.filter(|b| !b.is_null()))
                {
                    assert_service_port(&rendered, str_of(&backend["name"]), &backend["port"]);
                }
            }
        }
    }
}

#[test]
fn the_router_forwards_to_the_even_and_odd_services() {
    let parity = render("k8s/overlays/minute-parity");
    let router = parity.find("Deployment", "router").expect("minute-parity runs the router");
    let env = &router["spec"]["template"]["spec"]["containers"][0]["env"];
    for parity_name in ["even", "odd"] {
        let variable = format!("ROUTER_UPSTREAM_{}", parity_name.to_uppercase());
        let url = env_value(env, &variable).unwrap_or_else(|| panic!("the router sets {variable}"));
        let host = url
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("{variable}={url} is not http://"));
        let (service, port) = host.split_once(':').unwrap_or((host, "80"));
        let port: u64 = port.parse().expect("a numeric port");
        assert_service_port(&parity, service, &Value::from(port));
        let selector = &parity.find("Service", service).expect("checked above")["spec"]["selector"];
        let pods = parity.pods_selected_by(selector);
        assert!(
            pods.iter().all(|pod| pod.labels()["parity"] == parity_name),
            "{service} mixes parities"
        );
    }
}

#[test]
fn every_service_selects_pods_and_targets_a_port_they_listen_on() {
    for rendered in render_all() {
        for service in rendered.of_kind("Service") {
            let name = str_of(&service["metadata"]["name"]);
            let pods = rendered.pods_selected_by(&service["spec"]["selector"]);
            assert!(!pods.is_empty(), "{}: Service {name} selects no pod", rendered.overlay);
            for port in as_array(&service["spec"]["ports"]) {
                for pod in &pods {
                    let listens = pod
                        .containers()
                        .iter()
                        .any(|c| resolve_port(c, &port["targetPort"]).is_some());
                    assert!(
                        listens,
                        "{}: Service {name} targets {} that {} does not expose",
                        rendered.overlay, port["targetPort"], pod.owner
                    );
                }
            }
        }
    }
}

#[test]
fn no_workload_selects_the_pods_of_another() {
    for rendered in render_all() {
        let templates = rendered.pod_templates();
        for workload in &templates {
            assert!(
                selects(workload.selector(), workload.labels()),
                "{}: {} does not select its own pods",
                rendered.overlay,
                workload.owner
            );
            for other in templates.iter().filter(|other| other.owner != workload.owner) {
                assert!(
                    !selects(workload.selector(), other.labels()),
                    "{}: {} also selects the pods of {}",
                    rendered.overlay,
                    workload.owner,
                    other.owner
                );
            }
        }
    }
}

#[test]
fn disruption_budgets_autoscalers_and_network_policies_apply_to_pods_that_exist() {
    for rendered in render_all() {
        let overlay = &rendered.overlay;
        for budget in rendered.of_kind("PodDisruptionBudget") {
            let selector = &budget["spec"]["selector"]["matchLabels"];
            assert!(
                !rendered.pods_selected_by(selector).is_empty(),
                "{overlay}: {} protects no pod",
                budget["metadata"]["name"]
            );
        }
        for autoscaler in rendered.of_kind("HorizontalPodAutoscaler") {
            let target = &autoscaler["spec"]["scaleTargetRef"];
            assert!(
                rendered.find(str_of(&target["kind"]), str_of(&target["name"])).is_some(),
                "{overlay}: {} scales nothing",
                autoscaler["metadata"]["name"]
            );
        }
        for policy in rendered.of_kind("NetworkPolicy") {
            let name = &policy["metadata"]["name"];
            let selector = &policy["spec"]["podSelector"]["matchLabels"];
            assert!(
                !rendered.pods_selected_by(selector).is_empty(),
                "{overlay}: policy {name} selects no pod"
            );
            let peers =
                ["ingress", "egress"].into_iter().flat_map(|way| as_array(&policy["spec"][way]));
            let peers =
                peers.flat_map(|rule| as_array(&rule["from"]).iter().chain(as_array(&rule["to"])));
            for peer in peers.filter(|peer| peer["namespaceSelector"].is_null()) {
                let selector = &peer["podSelector"]["matchLabels"];
                assert!(
                    !rendered.pods_selected_by(selector).is_empty(),
                    "{overlay}: policy {name} allows a peer no pod matches: {peer}"
                );
            }
        }
    }
}

#[test]
fn the_namespace_denies_all_traffic_by_default_and_allows_dns() {
    for rendered in render_all().into_iter().filter(|r| r.of_kind("Deployment").count() > 0) {
        let deny = rendered
            .find("NetworkPolicy", "default-deny")
            .unwrap_or_else(|| panic!("{} has no default deny", rendered.overlay));
        assert_eq!(deny["spec"]["podSelector"], serde_json::json!({}));
        assert_eq!(deny["spec"]["policyTypes"], serde_json::json!(["Ingress", "Egress"]));
        let dns = rendered.find("NetworkPolicy", "allow-dns").expect("DNS stays reachable");
        let ports = as_array(&dns["spec"]["egress"][0]["ports"]);
        assert!(ports.iter().any(|port| port["port"] == 53 && port["protocol"] == "UDP"));
    }
}

#[test]
fn every_pod_runs_as_the_images_user_read_only_without_capabilities_and_with_resources() {
    for rendered in render_all() {
        for pod in rendered.pod_templates() {
            let context = &pod.spec()["securityContext"];
            let at = format!("{}: {}", rendered.overlay, pod.owner);
            assert_eq!(context["runAsNonRoot"], true, "{at}");
            assert!(
                context["runAsUser"].as_u64().is_some_and(|uid| uid > 0),
                "{at}: a numeric non-root UID"
            );
            assert_eq!(context["seccompProfile"]["type"], "RuntimeDefault", "{at}");
            for container in pod.containers() {
                let context = &container["securityContext"];
                assert_eq!(context["allowPrivilegeEscalation"], false, "{at}");
                assert_eq!(context["readOnlyRootFilesystem"], true, "{at}");
                assert_eq!(context["capabilities"]["drop"], serde_json::json!(["ALL"]), "{at}");
                for bound in ["requests", "limits"] {
                    for resource in ["cpu", "memory"] {
                        assert!(
                            container["resources"][bound][resource].is_string(),
                            "{at}: no {bound}.{resource}"
                        );
                    }
                }
                assert!(
                    !container["livenessProbe"].is_null() && !container["readinessProbe"].is_null(),
                    "{at}: probes"
                );
            }
            if OWN_IMAGES.contains(&image_name(&pod.containers()[0])) {
                // The images' USER (vote-app/Dockerfile, router/Dockerfile).
                assert_eq!(context["runAsUser"], 10001, "{at}");
            }
        }
    }
}

#[test]
fn every_image_names_the_workspace_version_and_never_latest() {
    for rendered in render_all() {
        for pod in rendered.pod_templates() {
            for container in pod.containers() {
                let tag = image_tag(container).unwrap_or_else(|| {
                    panic!("{}: {} has an untagged image", rendered.overlay, pod.owner)
                });
                assert_ne!(tag, "latest");
                if OWN_IMAGES.contains(&image_name(container)) {
                    assert_eq!(
                        tag,
                        env!("CARGO_PKG_VERSION"),
                        "{}: {} is not the workspace version",
                        rendered.overlay,
                        pod.owner
                    );
                }
            }
        }
    }
}

#[test]
fn the_variables_the_manifests_set_are_ones_the_services_read() {
    for rendered in render_all() {
        for pod in rendered.pod_templates() {
            for container in pod.containers() {
                let known: &[&str] = match image_name(container) {
                    "vote-app" => vote_app::config::VARIABLES,
                    "router" => router::config::VARIABLES,
                    _ => continue,
                };
                for variable in as_array(&container["env"]) {
                    let name = str_of(&variable["name"]);
                    assert!(
                        known.contains(&name),
                        "{}: {} sets {name}, which its service never reads",
                        rendered.overlay,
                        pod.owner
                    );
                }
            }
        }
    }
}

#[test]
fn secrets_come_only_from_files_of_the_key_vault_mount() {
    for rendered in render_all() {
        assert_eq!(
            rendered.of_kind("Secret").count(),
            0,
            "{}: a Secret in git carries values",
            rendered.overlay
        );
        let Some(provider) = rendered.find("SecretProviderClass", "vote-app-secrets") else {
            continue;
        };
        let objects = str_of(&provider["spec"]["parameters"]["objects"]);
        let mounts_key_vault = |pod: &PodTemplate<'_>| {
            let volumes = as_array(&pod.spec()["volumes"]);
            volumes.iter().any(|volume| {
                volume["csi"]["volumeAttributes"]["secretProviderClass"] == "vote-app-secrets"
            })
        };
        for pod in rendered.pod_templates().into_iter().filter(mounts_key_vault) {
            // Workload identity: the CSI driver reads Key Vault as the pod's ServiceAccount.
            assert_eq!(pod.labels()["azure.workload.identity/use"], "true", "{}", pod.owner);
            let account = str_of(&pod.spec()["serviceAccountName"]);
            let account = rendered
                .find("ServiceAccount", account)
                .unwrap_or_else(|| panic!("{} runs as a missing ServiceAccount", pod.owner));
            assert!(
                account["metadata"]["annotations"]["azure.workload.identity/client-id"].is_string()
            );
            for container in pod.containers().iter().filter(|c| image_name(c) == "vote-app") {
                for secret in vote_app::secret_settings::SECRET_SETTINGS {
                    assert!(
                        env_value(&container["env"], secret).is_none(),
                        "{}: {secret} as a plain value",
                        pod.owner
                    );
                }
                let files = as_array(&container["env"])
                    .iter()
                    .filter(|v| str_of(&v["name"]).ends_with("_FILE"));
                for file in files {
                    let path = str_of(&file["value"]);
                    let object = path
                        .strip_prefix(&format!("{SECRETS_MOUNT}/"))
                        .unwrap_or_else(|| panic!("{path} is outside {SECRETS_MOUNT}"));
                    assert!(
                        objects.contains(&format!("objectName: {object}")),
                        "{}: {path} is no object of the SecretProviderClass",
                        rendered.overlay
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_probe_asks_a_path_its_service_answers_with_200_on_the_container_port() {
    let services = crate::in_process::InProcessServices::start().await;
    let mut probes = BTreeSet::new();
    for rendered in render_all() {
        for pod in rendered.pod_templates() {
            for container in pod.containers() {
                for kind in ["startupProbe", "livenessProbe", "readinessProbe"] {
                    let probe = &container[kind]["httpGet"];
                    if probe.is_null() {
                        continue;
                    }
                    let port = resolve_port(container, &probe["port"]);
                    assert!(
                        port.is_some(),
                        "{}: {} {kind} port {} is not a container port",
                        rendered.overlay,
                        pod.owner,
                        probe["port"]
                    );
                    probes.insert((
                        image_name(container).to_owned(),
                        str_of(&probe["path"]).to_owned(),
                    ));
                }
            }
        }
    }
    assert!(probes.len() >= 3, "the vote-app's /health and /ready, the router's own: {probes:?}");
    for (image, path) in probes {
        let status = services.status_of(&image, &path).await;
        assert_eq!(status, 200, "{image} answers {status} to its probe {path}");
    }
}

/// Fails unless `name` is a Service of `rendered` exposing `port`.
fn assert_service_port(rendered: &Rendered, name: &str, port: &Value) {
    let service = rendered
        .find("Service", name)
        .unwrap_or_else(|| panic!("{}: no Service {name}", rendered.overlay));
    let ports = as_array(&service["spec"]["ports"]);
    assert!(
        ports.iter().any(|p| p["port"] == *port),
        "{}: Service {name} has no port {port}",
        rendered.overlay
    );
}

/// The literal value of variable `name` in a container's `env`.
fn env_value<'a>(env: &'a Value, name: &str) -> Option<&'a str> {
    as_array(env).iter().find(|variable| variable["name"] == name)?["value"].as_str()
}
