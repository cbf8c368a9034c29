//! Blue/green on Swarm: green is a second service beside blue (blue's environment, secrets
//! and endpoint mode, a new image) under a name of its own; once smoke-tested it takes the name
//! the router uses (a network alias), then blue scales to 0. Back: the same, the other way.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::Value;

use super::cluster::{Stack, docker, run};
use super::load::{Load, Mix};
use super::scenarios::{SERVICES, assert_no_failures, image_name, report};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blue_green_switches_to_green_and_back_under_load_and_counts_every_vote() {
    let mut stack = Stack::deploy().await;
    let tag = format!("{}-green", stack.name);
    let tag = stack.derive_app_image(&tag, "LABEL org.example.vote.colour=green").await;
    let green_image = format!("{}:{tag}", image_name(stack.app_image()));
    let load = Load::start(stack.router.base(), 8, Mix::VoteAndRead);
    let started = Instant::now();
    for service in SERVICES {
        let green = create_green(&mut stack, service, &green_image).await;
        smoke_test(&stack, &green).await;
        switch(&stack, &green, &stack.service(service), service).await;
    }
    let switched = started.elapsed();
    let to_green = voters_after(&stack, 40).await;
    assert!(to_green.iter().all(|name| name.contains("_green-")), "{to_green:?}");
    for service in SERVICES {
        let blue = stack.service(service);
        switch(&stack, &blue, &stack.service(&format!("green-{service}")), service).await;
    }
    let switched_back = started.elapsed() - switched;
    let back_to_blue = voters_after(&stack, 40).await;
    assert!(back_to_blue.iter().all(|name| !name.contains("_green-")), "{back_to_blue:?}");
    let tally = load.stop().await;
    report("blue -> green -> blue on both services", &tally, started.elapsed());
    println!("switch to green {switched:.1?}, back to blue {switched_back:.1?}");
    // Stopping tasks refuse new connections and answer their open ones with `Connection: close`
    // before closing them, so the router never writes a vote on a connection being closed.
    assert_no_failures(&stack, &tally).await;
    assert_eq!(stack.router.votes().await.total, tally.acknowledged_votes + 40 + 40);
}

/// Green beside blue: the same environment and secrets as the blue service, the new image,
/// on the stack's network under a name of its own (no traffic yet).
async fn create_green(stack: &mut Stack, blue: &str, image: &str) -> String {
    let spec: Value = serde_json::from_str(
        &docker(&["service", "inspect", "--format", "{{json .Spec}}", &stack.service(blue)]).await,
    )
    .expect("docker service inspect prints JSON");
    let container = &spec["TaskTemplate"]["ContainerSpec"];
    let network = spec["TaskTemplate"]["Networks"][0]["Target"].as_str().expect("one network");
    let green = stack.service(&format!("green-{blue}"));
    let mut args: Vec<String> =
        ["service", "create", "--detach=false", "--quiet", "--name", &green]
            .map(str::to_owned)
            .to_vec();
    args.extend(
        ["--replicas", "2", "--read-only", "--update-order", "start-first"].map(str::to_owned),
    );
    args.extend(["--health-interval", "2s", "--health-start-period", "30s"].map(str::to_owned));
    args.extend(["--network".to_owned(), format!("name={network},alias={green}")]);
    // Blue's endpoint mode: with a virtual IP (which these machines cannot route), the shared
    // name would resolve to green's VIP instead of its tasks.
    let mode = spec["EndpointSpec"]["Mode"].as_str().unwrap_or("vip");
    args.extend(["--endpoint-mode".to_owned(), mode.to_owned()]);
    for variable in container["Env"].as_array().expect("blue has an environment") {
        args.extend(["--env".to_owned(), variable.as_str().unwrap_or_default().to_owned()]);
    }
    for secret in container["Secrets"].as_array().expect("blue has secrets") {
        let (source, target) = (&secret["SecretName"], &secret["File"]["Name"]);
        let source = source.as_str().unwrap_or_default();
        args.extend([
            "--secret".to_owned(),
            format!("source={source},target={}", target.as_str().unwrap_or_default()),
        ]);
    }
    args.push(image.to_owned());
    stack.adopt_service(&green);
    docker(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    stack.wait_for_healthy(&green, 2, Some(image)).await;
    green
}

/// Green answers `/ready` and `/api/votes` with a 200 from inside each of its containers (it
/// has no published port: only the router is reachable from outside). The image has no shell
/// or curl: its own `vote-app healthcheck PATH` asks.
async fn smoke_test(stack: &Stack, green: &str) {
    for (id, _, _) in stack.containers(green).await {
        for path in ["/ready", "/api/votes"] {
            let ask = ["exec", &id, "/usr/local/bin/vote-app", "healthcheck", path];
            if let Err(failure) = run("docker", &ask, &[]).await {
                panic!("green {id} {path}: {failure}");
            }
        }
    }
}

/// Moves the router's name `alias` from `from` to `to`: `to` (scaled up again if needed)
/// takes the name with a rolling, start-first update of its tasks, then `from` scales to 0, so
/// the name always resolves to healthy tasks.
async fn switch(stack: &Stack, to: &str, from: &str, alias: &str) {
    let inspect = |format: &'static str| async move {
        docker(&["service", "inspect", "--format", format, to]).await
    };
    if inspect("{{.Spec.Mode.Replicated.Replicas}}").await.trim() == "0" {
        docker(&["service", "scale", "--detach=false", &format!("{to}=2")]).await;
    }
    let networks: Value =
        serde_json::from_str(&inspect("{{json .Spec.TaskTemplate.Networks}}").await)
            .expect("networks as JSON");
    let network = networks[0]["Target"].as_str().expect("one network").to_owned();
    let aliases = networks[0]["Aliases"].as_array().cloned().unwrap_or_default();
    if !aliases.iter().any(|name| name == alias) {
        let add = format!("name={network},alias={alias}");
        let update = ["service", "update", "--detach=false", "--quiet", "--network-rm", &network];
        docker(&[&update[..], &["--network-add", &add, to]].concat()).await;
    }
    stack.wait_for_healthy(to, 2, None).await;
    docker(&["service", "scale", "--detach=false", &format!("{from}=0")]).await;
}

/// Casts `votes` votes through the router and returns the instances the ledger credits for them.
async fn voters_after(stack: &Stack, votes: usize) -> BTreeSet<String> {
    let before = stack.router.ledger().await;
    for _ in 0..votes {
        let answer = stack.router.vote("Dogs").await.expect("a vote is answered");
        assert!(answer.status.is_success(), "{answer:?}");
    }
    let after = stack.router.ledger().await;
    after
        .instances
        .iter()
        .filter(|count| count.votes > before.of(&count.instance))
        .map(|count| count.instance.clone())
        .collect()
}
