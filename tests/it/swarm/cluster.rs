//! A swarm to deploy on, and one stack of the product per test.
//!
//! The node joins nothing: when it is not in a swarm, the test runs `docker swarm init` and
//! leaves the swarm at the end; a swarm that was already there is left as it was. Services are
//! reached as `ci/swarm.sh` publishes them here: the router on a host-mode port (no ingress
//! routing mesh on these machines), everything else by DNS round robin inside the stack.

use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::api::Api;
use crate::poll::{self, DEADLINE};
use crate::stack::RouterStatus;

/// The repository root, where `ci/swarm.sh` and the stack files are.
fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs a command to completion; `Ok(stdout)` on exit 0, else `Err` with both outputs.
pub(crate) fn run_blocking(
    program: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args).current_dir(repository());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().map_err(|error| format!("{program} could not run: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!("`{program} {}` failed ({}):\n{stdout}{stderr}", args.join(" "), output.status))
}

/// [`run_blocking`] on a blocking thread, so that load generators keep running meanwhile.
pub(crate) async fn run(
    program: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> Result<String, String> {
    let program = program.to_owned();
    let args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
    let env: Vec<(String, String)> =
        env.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, String)> = env.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        run_blocking(&program, &args, &env)
    })
    .await
    .expect("the command's thread finished")
}

/// `docker ARGS`, which must succeed.
pub(crate) async fn docker(args: &[&str]) -> String {
    run("docker", args, &[]).await.unwrap_or_else(|failure| panic!("{failure}"))
}

/// Membership of the swarm for the duration of one test, and the lock that keeps the swarm
/// tests apart. Dropped last: leaves the swarm if this test created it, then unlocks.
struct Membership {
    created: bool,
    /// Held while the test runs; the OS releases the lock when the file is closed.
    _lock: File,
}

impl Membership {
    fn join() -> Self {
        let path = std::env::temp_dir().join("vote-it-swarm.lock");
        let lock = File::create(&path).expect("the swarm lock file can be created");
        lock.lock().expect("the swarm lock can be taken");
        let state = run_blocking("docker", &["info", "--format", "{{.Swarm.LocalNodeState}}"], &[])
            .unwrap_or_else(|failure| {
                panic!(
                    "these tests need a Docker engine (docker info failed); they are not skipped.\n\
                     {failure}"
                )
            });
        let created = state.trim() == "inactive";
        if created {
            run_blocking("docker", &["swarm", "init", "--advertise-addr", "127.0.0.1"], &[])
                .unwrap_or_else(|failure| panic!("docker swarm init: {failure}"));
        }
        Self { created, _lock: lock }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if self.created {
            let _ = run_blocking("docker", &["swarm", "leave", "--force"], &[]);
        }
    }
}

/// One deployed stack: its name, the router's client, and what to remove at the end.
pub(crate) struct Stack {
    pub(crate) name: String,
    /// The router, on its host-mode port.
    pub(crate) router: Api,
    /// The environment `ci/swarm.sh` runs with for this stack.
    env: Vec<(&'static str, String)>,
    /// Images built by this test, removed with the stack.
    images: Vec<String>,
    /// Services created by this test outside the stack file (blue/green), removed first.
    extra_services: Vec<String>,
    secrets: PathBuf,
    _membership: Membership,
}

impl Stack {
    /// Deploys the stack with `ci/swarm.sh deploy` and waits until the router sees both
    /// upstreams healthy.
    pub(crate) async fn deploy() -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let membership = Membership::join();
        let name = format!("swarm-it-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let secrets = std::env::temp_dir().join(&name);
        let port = free_port();
        let image =
            |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.to_owned());
        let env = vec![
            ("SWARM_STACK", name.clone()),
            ("VOTE_SECRETS_DIR", secrets.to_string_lossy().into_owned()),
            ("ROUTER_PORT", port.to_string()),
            ("VOTE_APP_IMAGE", image("VOTE_IT_APP_IMAGE", "vote-app:test")),
            ("ROUTER_IMAGE", image("VOTE_IT_ROUTER_IMAGE", "router:test")),
            ("REDIS_IMAGE", image("VOTE_IT_REDIS_IMAGE", "redis:7")),
            ("POSTGRES_IMAGE", image("VOTE_IT_POSTGRES_IMAGE", "postgres:15")),
        ];
        let router = Api::new(&format!("http://127.0.0.1:{port}"));
        let stack = Self {
            name,
            router,
            env,
            images: Vec::new(),
            extra_services: Vec::new(),
            secrets,
            _membership: membership,
        };
        let started = std::time::Instant::now();
        if let Err(failure) = stack.swarm_sh(&["deploy"]).await {
            panic!(
                "{failure}\nThe stack needs the project's images: run `eval \"$(ci/build-images.sh)\"`."
            );
        }
        stack.wait_until_both_upstreams_are_healthy().await;
        println!("stack {} deployed and serving in {:.1?}", stack.name, started.elapsed());
        stack
    }

    /// `ci/swarm.sh ARGS` for this stack.
    pub(crate) async fn swarm_sh(&self, args: &[&str]) -> Result<String, String> {
        run("ci/swarm.sh", args, &self.env).await
    }

    /// The full name of a service of the stack (`vote-even` → `<stack>_vote-even`).
    pub(crate) fn service(&self, name: &str) -> String {
        format!("{}_{name}", self.name)
    }

    /// The vote-app image the stack was deployed with.
    pub(crate) fn app_image(&self) -> &str {
        &self.env.iter().find(|(name, _)| *name == "VOTE_APP_IMAGE").expect("set in deploy").1
    }

    /// Builds `<app image name>:<tag>` from the app image plus `instructions` (a Dockerfile
    /// without its `FROM`), removed with the stack. Returns the tag.
    pub(crate) async fn derive_app_image(&mut self, tag: &str, instructions: &str) -> String {
        let base = self.app_image().to_owned();
        let image =
            format!("{}:{tag}", base.rsplit_once(':').map_or(base.as_str(), |(name, _)| name));
        let dockerfile = format!("FROM {base}\n{instructions}\n");
        let built = image.clone();
        tokio::task::spawn_blocking(move || build_from_stdin(&built, &dockerfile))
            .await
            .expect("docker build's thread finished");
        self.images.push(image);
        tag.to_owned()
    }

    /// Remembers a service created outside the stack file, to remove it with the stack.
    pub(crate) fn adopt_service(&mut self, service: &str) {
        self.extra_services.push(service.to_owned());
    }

    /// The running containers of a service on this node: `(id, image, status)`.
    pub(crate) async fn containers(&self, service: &str) -> Vec<(String, String, String)> {
        let filter = format!("label=com.docker.swarm.service.name={service}");
        let format = "{{.ID}}\t{{.Image}}\t{{.Status}}";
        let listed = docker(&["ps", "--filter", &filter, "--format", format]).await;
        listed
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t').map(str::to_owned);
                Some((fields.next()?, fields.next()?, fields.next()?))
            })
            .collect()
    }

    /// Waits until `service` runs exactly `replicas` healthy containers, all of `image` when
    /// given; returns them.
    pub(crate) async fn wait_for_healthy(
        &self,
        service: &str,
        replicas: usize,
        image: Option<&str>,
    ) {
        poll::until(&format!("{replicas} healthy tasks of {service}"), DEADLINE, || async {
            let containers = self.containers(service).await;
            let healthy = containers.iter().filter(|(_, running, status)| {
                status.contains("(healthy)") && image.is_none_or(|image| running == image)
            });
            match (healthy.count(), containers.len()) {
                (count, total) if count == replicas && total == replicas => Ok(()),
                _ => Err(format!("{containers:?}")),
            }
        })
        .await;
    }

    /// The router's log lines of requests it answered with a 5xx.
    pub(crate) async fn router_errors(&self) -> Vec<String> {
        let service = self.service("router");
        let logs = docker(&["service", "logs", "--raw", &service]).await;
        logs.lines().filter(|line| line.contains(r#""status":5"#)).map(str::to_owned).collect()
    }

    async fn wait_until_both_upstreams_are_healthy(&self) {
        poll::until("the router to see both upstreams healthy", DEADLINE, || async {
            let answer = self.router.get("/router/status").await.map_err(|e| e.to_string())?;
            let status: RouterStatus =
                serde_json::from_str(&answer.body).map_err(|e| e.to_string())?;
            match (status.upstreams.even.healthy, status.upstreams.odd.healthy) {
                (true, true) => Ok(()),
                _ => Err(format!("{status:?}")),
            }
        })
        .await;
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for service in &self.extra_services {
            let _ = run_blocking("docker", &["service", "rm", service], &[]);
        }
        if let Err(failure) = run_blocking("ci/swarm.sh", &["remove"], &self.env) {
            eprintln!("removing stack {}: {failure}", self.name);
        }
        // The stack's stopped containers may still hold these tags for a moment; the tags are
        // this test's own, so they are removed regardless.
        for image in &self.images {
            let _ = run_blocking("docker", &["image", "rm", "--force", image], &[]);
        }
        let _ = std::fs::remove_dir_all(&self.secrets);
    }
}

/// `docker build -t IMAGE -` with the Dockerfile on stdin (no build context is needed).
fn build_from_stdin(image: &str, dockerfile: &str) {
    let mut child = Command::new("docker")
        .args(["build", "-q", "-t", image, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker build starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(dockerfile.as_bytes())
        .expect("the Dockerfile is written to docker build");
    let output = child.wait_with_output().expect("docker build finishes");
    assert!(
        output.status.success(),
        "docker build of {image} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A port free on the host now, for the router's host-mode publication.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a bound address").port()
}
