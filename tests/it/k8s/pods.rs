//! The rendered pod specs, run for real: each workload's pod becomes a container of the
//! project's image with the manifest's user, read-only root filesystem, dropped capabilities,
//! env, mounts and ports, and its probes are asked as the kubelet would. A manifest the images
//! cannot run under fails here.
//!
//! What stands in for the cluster: one Docker network per run; a Service name resolves (through
//! the container's hosts file) to the pod it selects, or, when the Service maps a port (80 to
//! 8080), to a router container forwarding that port, as kube-proxy would; the Key Vault CSI
//! mount is a read-only directory holding one file per secret object; a volume claim is an
//! empty directory made writable by the pod's `fsGroup`, as the kubelet does; the external
//! PostgreSQL of the ledger (`database-url`) is a PostgreSQL container.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::Value;
use testcontainers::core::{AccessMode, CmdWaitFor, Host};
use testcontainers::core::{ExecCommand, IntoContainerPort, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ContainerRequest, GenericImage, ImageExt};

use super::manifests::{PodTemplate, Rendered, as_array, image_name, render, str_of};
use crate::api::Api;
use crate::poll::{self, DEADLINE};
use crate::stack::{image_from_env, logs, parity_of, spawn_postgres, unix_minute};

#[tokio::test]
async fn the_qal_pods_run_under_their_manifests_constraints_and_count_a_vote() {
    let qal = render("k8s/overlays/qal");
    let cluster = Cluster::run(&qal).await;
    let app = cluster.api_of("Deployment/vote-app");
    let before = app.votes().await.of("Cats");
    let answer = app.vote("Cats").await.expect("a vote gets an answer");
    assert!(answer.status.is_success(), "{answer:?}");
    assert_eq!(app.votes().await.of("Cats"), before + 1);
}

#[tokio::test]
async fn the_minute_parity_pods_route_each_minute_to_its_instance() {
    let parity = render("k8s/overlays/minute-parity");
    let cluster = Cluster::run(&parity).await;
    let router = cluster.api_of("Deployment/router");
    let answer = poll::until("a vote through the router", DEADLINE, || async {
        let before = unix_minute();
        let answer = router.vote("Dogs").await.map_err(|error| error.to_string())?;
        let routed_to = answer.header("x-routed-to").unwrap_or_default().to_owned();
        match (answer.status.is_success(), before == unix_minute()) {
            (true, true) => Ok((answer, routed_to, before)),
            (false, _) => Err(format!("{answer:?}")),
            (true, false) => Err("the minute changed during the request".to_owned()),
        }
    })
    .await;
    let (answer, routed_to, minute) = answer;
    assert_eq!(routed_to, parity_of(minute), "{answer:?}");
    // The ledger recorded the vote under the pod of that parity (INSTANCE_NAME is the pod name).
    let ledger = router.ledger().await;
    let pod = format!("{}-vote-app-{routed_to}", cluster.run);
    assert_eq!(ledger.of(&pod), 1, "{ledger:?}");
}

/// Pods of one overlay, one per workload, started in dependency order.
struct Cluster {
    /// Prefix of every container and pod name of this run.
    run: String,
    pods: Vec<Pod>,
    /// The ledger's PostgreSQL, when the vote-apps read a `DATABASE_URL_FILE`.
    _ledger: Option<ContainerAsync<GenericImage>>,
    /// Containers standing in for Services that map ports; kept alive with the pods.
    _forwarders: Vec<ContainerAsync<GenericImage>>,
    /// This run's directory on the host: the secret files and the volumes.
    work: PathBuf,
}

/// One running pod and the host port of its first container port.
struct Pod {
    owner: String,
    container: ContainerAsync<GenericImage>,
    api: Api,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

impl Cluster {
    /// Starts Redis, then the vote-apps, then the router: each after the Services it needs.
    async fn run(rendered: &Rendered) -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let run = format!("k8s-it-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let work = std::env::temp_dir().join(&run);
        let (ledger, database_url) = if reads_a_ledger(rendered) {
            let (container, url) = spawn_postgres(&run).await;
            (Some(container), Some(url))
        } else {
            (None, None)
        };
        write_secret_files(&work.join("secrets"), rendered, database_url.as_deref());
        let pods = Vec::new();
        let mut cluster =
            Self { run: run.clone(), pods, _ledger: ledger, _forwarders: Vec::new(), work };
        let mut hosts: BTreeMap<String, IpAddr> = BTreeMap::new();
        let mut templates = rendered.pod_templates();
        templates.sort_by_key(|pod| match image_name(&pod.containers()[0]) {
            "redis" => 0,
            "vote-app" => 1,
            _ => 2,
        });
        for template in templates {
            let pod = cluster.start_pod(&run, rendered, &template, &hosts).await;
            let ip = pod.container.get_bridge_ip_address().await.expect("the pod has an address");
            for service in services_selecting(rendered, &template) {
                let ip = cluster.service_address(&run, service, &template, ip).await;
                hosts.insert(str_of(&service["metadata"]["name"]).to_owned(), ip);
            }
            cluster.pods.push(pod);
        }
        cluster
    }

    fn api_of(&self, owner: &str) -> &Api {
        let pod = self.pods.iter().find(|pod| pod.owner == owner);
        &pod.unwrap_or_else(|| panic!("no pod of {owner} was started")).api
    }

    async fn start_pod(
        &self,
        run: &str,
        rendered: &Rendered,
        template: &PodTemplate<'_>,
        hosts: &BTreeMap<String, IpAddr>,
    ) -> Pod {
        let container_spec = &template.containers()[0];
        let name = format!("{run}-{}", str_of(&template.workload["metadata"]["name"]));
        let mut request = container_request(&name, template, container_spec, &self.work)
            .with_network(run)
            .with_container_name(&name);
        for (service, ip) in hosts {
            request = request.with_host(service, Host::Addr(*ip));
        }
        let image = image_name(container_spec).to_owned();
        let container = request.start().await.unwrap_or_else(|error| {
            panic!(
                "could not start {image} for {} of {}: {error}\nThese tests need a Docker engine \
                 and the project's images: run `eval \"$(ci/build-images.sh)\"` first.",
                template.owner, rendered.overlay
            )
        });
        let port = as_array(&container_spec["ports"])[0]["containerPort"].as_u64().unwrap_or(0);
        let host_port = container
            .get_host_port_ipv4(u16::try_from(port).unwrap_or(0).tcp())
            .await
            .expect("Docker mapped the container port");
        let api = Api::new(&format!("http://127.0.0.1:{host_port}"));
        let pod = Pod { owner: template.owner.clone(), container, api };
        for kind in ["startupProbe", "readinessProbe", "livenessProbe"] {
            pod.pass_probe(kind, &container_spec[kind]).await;
        }
        pod
    }

    /// Where a Service's name leads: the pod itself when the ports match, else a forwarder.
    async fn service_address(
        &mut self,
        run: &str,
        service: &Value,
        template: &PodTemplate<'_>,
        pod_ip: IpAddr,
    ) -> IpAddr {
        let port = &as_array(&service["spec"]["ports"])[0];
        let container = &template.containers()[0];
        let target = super::manifests::resolve_port(container, &port["targetPort"]);
        if target == port["port"].as_u64() {
            return pod_ip;
        }
        let service_name = str_of(&service["metadata"]["name"]);
        let upstream = format!("http://{pod_ip}:{}", target.unwrap_or(0));
        // The router with the same upstream for both parities is a plain port forwarder.
        let forwarder = image_from_env("VOTE_IT_ROUTER_IMAGE", "router:test")
            .with_network(run)
            .with_container_name(format!("{run}-service-{service_name}"))
            .with_env_var("PORT", port["port"].to_string())
            .with_env_var("ROUTER_UPSTREAM_EVEN", &upstream)
            .with_env_var("ROUTER_UPSTREAM_ODD", &upstream)
            .start()
            .await
            .expect("the Service stand-in starts");
        let ip = forwarder.get_bridge_ip_address().await.expect("the stand-in has an address");
        self._forwarders.push(forwarder);
        ip
    }
}

impl Pod {
    /// Asks a probe as the kubelet would until it passes; fails with the pod's logs.
    async fn pass_probe(&self, kind: &str, probe: &Value) {
        if probe.is_null() {
            return;
        }
        let result = poll::try_until(&format!("{} {kind}", self.owner), DEADLINE, || async {
            if let Some(path) = probe["httpGet"]["path"].as_str() {
                return match self.api.status_of(path).await? {
                    StatusCode::OK => Ok(()),
                    other => Err(format!("GET {path}: {other}")),
                };
            }
            if let Some(command) = probe["exec"]["command"].as_array() {
                return self.exec(command).await;
            }
            let address = self.api.base().trim_start_matches("http://").to_owned();
            tokio::net::TcpStream::connect(&address).await.map(drop).map_err(|e| e.to_string())
        })
        .await;
        if let Err(failure) = result {
            panic!("{failure}\n{}", logs(&self.container).await);
        }
    }

    async fn exec(&self, command: &[Value]) -> Result<(), String> {
        let command = command.iter().map(|part| str_of(part).to_owned());
        let exec = ExecCommand::new(command).with_cmd_ready_condition(CmdWaitFor::exit());
        let result = self.container.exec(exec).await.map_err(|error| error.to_string())?;
        match result.exit_code().await.map_err(|error| error.to_string())? {
            Some(0) => Ok(()),
            other => Err(format!("exit code {other:?}")),
        }
    }
}

/// The container the kubelet would start for `spec`, on the project's local images.
fn container_request(
    pod_name: &str,
    template: &PodTemplate<'_>,
    spec: &Value,
    work: &Path,
) -> ContainerRequest<GenericImage> {
    let (variable, default) = match image_name(spec) {
        "vote-app" => ("VOTE_IT_APP_IMAGE", "vote-app:test"),
        "router" => ("VOTE_IT_ROUTER_IMAGE", "router:test"),
        "redis" => ("VOTE_IT_REDIS_IMAGE", "redis:7"),
        other => panic!("no local image stands in for {other}"),
    };
    let mut image = image_from_env(variable, default);
    let command: Vec<String> =
        as_array(&spec["command"]).iter().map(|c| str_of(c).to_owned()).collect();
    if let Some(entrypoint) = command.first() {
        image = image.with_entrypoint(entrypoint);
    }
    for port in as_array(&spec["ports"]) {
        let port = u16::try_from(port["containerPort"].as_u64().unwrap_or(0)).unwrap_or(0);
        image = image.with_exposed_port(port.tcp());
    }
    let pod_context = &template.spec()["securityContext"];
    let context = &spec["securityContext"];
    let user = format!("{}:{}", pod_context["runAsUser"], pod_context["runAsGroup"]);
    let mut request = image
        .with_cmd(command.into_iter().skip(1))
        .with_user(user)
        .with_readonly_rootfs(context["readOnlyRootFilesystem"] == true);
    for capability in as_array(&context["capabilities"]["drop"]) {
        request = request.with_cap_drop(str_of(capability));
    }
    if context["allowPrivilegeEscalation"] == false {
        request = request.with_security_opt("no-new-privileges");
    }
    for variable in as_array(&spec["env"]) {
        let value = match variable["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
            Some("metadata.name") => pod_name.to_owned(),
            Some(other) => panic!("the test does not provide field {other}"),
            None => str_of(&variable["value"]).to_owned(),
        };
        request = request.with_env_var(str_of(&variable["name"]), value);
    }
    for mount in as_array(&spec["volumeMounts"]) {
        request = request.with_mount(volume(template, mount, work));
    }
    request
}

/// A pod volume, as Docker can give it: secrets as a read-only directory of files (what the CSI
/// driver mounts), anything else as an empty directory of this run.
fn volume(template: &PodTemplate<'_>, mount: &Value, work: &Path) -> Mount {
    let name = str_of(&mount["name"]);
    let target = str_of(&mount["mountPath"]);
    let volumes = as_array(&template.spec()["volumes"]);
    let volume = volumes.iter().find(|volume| volume["name"] == name);
    if volume.is_some_and(|volume| !volume["csi"].is_null() || !volume["secret"].is_null()) {
        let secrets = work.join("secrets");
        return Mount::bind_mount(secrets.to_string_lossy(), target)
            .with_access_mode(AccessMode::ReadOnly);
    }
    let owner = str_of(&template.workload["metadata"]["name"]);
    let directory = work.join("volumes").join(format!("{owner}-{name}"));
    let group = template.spec()["securityContext"]["fsGroup"].as_u64();
    make_writable_by_group(&directory, group.and_then(|gid| u32::try_from(gid).ok()));
    Mount::bind_mount(directory.to_string_lossy(), target)
}

/// Whether the vote-apps of this overlay append to a ledger.
fn reads_a_ledger(rendered: &Rendered) -> bool {
    let pods = rendered.pod_templates();
    let mut variables =
        pods.iter().flat_map(|pod| pod.containers()).flat_map(|c| as_array(&c["env"]));
    variables.any(|variable| variable["name"] == "DATABASE_URL_FILE")
}

/// One file per object of the SecretProviderClass, readable by the pods' users as the CSI
/// driver's mount is: `database-url` points at the test's PostgreSQL, the others are random.
fn write_secret_files(directory: &Path, rendered: &Rendered, database_url: Option<&str>) {
    std::fs::create_dir_all(directory).expect("a temporary directory");
    let provider = rendered.find("SecretProviderClass", "vote-app-secrets");
    let provider = provider.expect("the overlay reads Key Vault");
    let objects = str_of(&provider["spec"]["parameters"]["objects"]);
    for name in objects.lines().filter_map(|line| line.trim().strip_prefix("objectName:")) {
        let name = name.trim();
        let value = match (name, database_url) {
            ("database-url", Some(url)) => url.to_owned(),
            ("database-url", None) => panic!("{}: no vote-app reads the ledger", rendered.overlay),
            _ => uuid::Uuid::new_v4().simple().to_string(),
        };
        let path = directory.join(name);
        std::fs::write(&path, value).expect("a secret file");
        set_mode(&path, 0o444);
    }
    set_mode(directory, 0o755);
}

/// What the kubelet does to a volume for `fsGroup`: the group owns it and may write to it. Where
/// the test cannot change the group (not root), the directory is writable by everyone instead.
fn make_writable_by_group(directory: &Path, group: Option<u32>) {
    std::fs::create_dir_all(directory).expect("a volume directory");
    match group.map(|gid| std::os::unix::fs::chown(directory, None, Some(gid))) {
        Some(Ok(())) => set_mode(directory, 0o2775),
        _ => set_mode(directory, 0o1777),
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// The Services whose selector takes in this workload's pods.
fn services_selecting<'a>(rendered: &'a Rendered, template: &PodTemplate<'_>) -> Vec<&'a Value> {
    let selects = |service: &&Value| {
        super::manifests::selects(&service["spec"]["selector"], template.labels())
    };
    rendered.of_kind("Service").filter(selects).collect()
}
