//! `azure-pipelines.yml` read as a graph. The JSON schema (ci/validate-pipelines.sh) checks the
//! keys; nothing in Azure DevOps checks before a run that a `dependsOn` names a real stage, that
//! the stages come in the course's order, or that the manual gate rejects when nobody answers.

use serde_norway::Value;

const PIPELINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../azure-pipelines.yml");

/// The course's stages, in the order a release goes through them.
const STAGE_ORDER: [&str; 6] = [
    "Build",
    "QAL_Deployment",
    "Deploy_canary",
    "ManualIntervention",
    "DeployOnProd",
    "PerformanceTest",
];

fn pipeline() -> Value {
    let text = std::fs::read_to_string(PIPELINE).expect("azure-pipelines.yml is readable");
    serde_norway::from_str(&text).expect("azure-pipelines.yml is valid YAML")
}

fn stages(pipeline: &Value) -> Vec<&Value> {
    pipeline["stages"].as_sequence().expect("the pipeline has a list of stages").iter().collect()
}

fn stage<'a>(pipeline: &'a Value, name: &str) -> &'a Value {
    stages(pipeline)
        .into_iter()
        .find(|stage| stage["stage"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("the pipeline has a stage {name}"))
}

fn jobs(stage: &Value) -> Vec<&Value> {
    stage["jobs"].as_sequence().map(|jobs| jobs.iter().collect()).unwrap_or_default()
}

/// A job's name: `job: X` or, for a deployment job, `deployment: X`.
fn job_name(job: &Value) -> &str {
    job["job"].as_str().or_else(|| job["deployment"].as_str()).expect("every job has a name")
}

/// `dependsOn` as a list, whether written as one name or a list. `None` when absent.
fn depends_on(item: &Value) -> Option<Vec<&str>> {
    match &item["dependsOn"] {
        Value::Null => None,
        Value::String(name) => Some(vec![name.as_str()]),
        Value::Sequence(names) => Some(
            names.iter().map(|name| name.as_str().expect("dependsOn entries are names")).collect(),
        ),
        other => panic!("dependsOn must be a name or a list of names, not {other:?}"),
    }
}

/// Every step of a job: its own, or a deployment strategy's lifecycle hooks.
fn steps<'a>(job: &'a Value) -> Vec<&'a Value> {
    let mut found: Vec<&'a Value> = Vec::new();
    let mut collect = |list: &'a Value| found.extend(list.as_sequence().into_iter().flatten());
    collect(&job["steps"]);
    if let Some(strategy) = job["strategy"]["runOnce"].as_mapping() {
        for hook in strategy.values() {
            collect(&hook["steps"]);
            for outcome in ["success", "failure"] {
                collect(&hook[outcome]["steps"]);
            }
        }
    }
    found
}

/// Every `task:` step of the pipeline whose task name starts with `prefix`, with its job.
fn tasks<'a>(pipeline: &'a Value, prefix: &str) -> Vec<(&'a Value, &'a Value)> {
    stages(pipeline)
        .into_iter()
        .flat_map(jobs)
        .flat_map(|job| steps(job).into_iter().map(move |step| (job, step)))
        .filter(|(_, step)| step["task"].as_str().is_some_and(|task| task.starts_with(prefix)))
        .collect()
}

fn minutes(value: &Value) -> u64 {
    match value {
        Value::Number(number) => number.as_u64().expect("minutes are a whole number"),
        Value::String(text) => text.parse().expect("minutes are a whole number"),
        other => panic!("timeoutInMinutes must be set, found {other:?}"),
    }
}

#[test]
fn every_depends_on_names_a_stage_or_job_that_exists_and_no_name_is_repeated() {
    let pipeline = pipeline();
    let mut stage_names = Vec::new();
    for stage in stages(&pipeline) {
        let name = stage["stage"].as_str().expect("every stage has a name");
        for needed in depends_on(stage).unwrap_or_default() {
            assert!(
                stage_names.contains(&needed),
                "stage {name} depends on {needed}, which is not a stage defined before it"
            );
        }
        assert!(!stage_names.contains(&name), "stage {name} is defined twice");
        stage_names.push(name);

        let job_names: Vec<&str> = jobs(stage).into_iter().map(job_name).collect();
        for job in jobs(stage) {
            let repeated = job_names.iter().filter(|other| **other == job_name(job)).count();
            assert_eq!(repeated, 1, "job {} is defined {repeated} times in {name}", job_name(job));
            for needed in depends_on(job).unwrap_or_default() {
                assert!(
                    job_names.contains(&needed),
                    "job {} depends on {needed}, not a job of {name}",
                    job_name(job)
                );
            }
        }
    }
}

#[test]
fn stages_run_in_the_course_order_each_after_the_one_before() {
    let pipeline = pipeline();
    let names: Vec<&str> =
        stages(&pipeline).iter().filter_map(|stage| stage["stage"].as_str()).collect();
    let mut expected = STAGE_ORDER.to_vec();
    expected.push("Rollback");
    assert_eq!(names, expected);
    for pair in STAGE_ORDER.windows(2) {
        // A stage without dependsOn depends on the one above it; an explicit one must say so too.
        let after = depends_on(stage(&pipeline, pair[1])).unwrap_or_else(|| vec![pair[0]]);
        assert_eq!(
            after,
            vec![pair[0]],
            "{} must run after {} and only after it",
            pair[1],
            pair[0]
        );
    }
}

#[test]
fn rollback_runs_only_when_a_stage_after_the_canary_failed() {
    let pipeline = pipeline();
    let rollback = stage(&pipeline, "Rollback");
    assert_eq!(
        rollback["condition"].as_str(),
        Some("failed()"),
        "Rollback runs on failure, and only then"
    );
    let watched = depends_on(rollback).expect("Rollback names the stages it watches");
    for stage in &STAGE_ORDER[2..] {
        assert!(watched.contains(stage), "a failure in {stage} must trigger the rollback");
    }
    let rejects = tasks(&pipeline, "KubernetesManifest@")
        .into_iter()
        .filter(|(_, step)| step["inputs"]["action"].as_str() == Some("reject"))
        .count();
    assert_eq!(rejects, 1, "exactly one step rejects the canary");
    let rollback_jobs: Vec<&str> = jobs(rollback).into_iter().map(job_name).collect();
    for (job, step) in tasks(&pipeline, "KubernetesManifest@") {
        if step["inputs"]["action"].as_str() == Some("reject") {
            assert!(
                rollback_jobs.contains(&job_name(job)),
                "the canary is rejected in the Rollback stage"
            );
        }
    }
    for stage in stages(&pipeline) {
        let condition = stage["condition"].as_str().unwrap_or("succeeded()");
        if stage["stage"].as_str() != Some("Rollback") {
            assert!(
                !condition.contains("failed()") && !condition.contains("always()"),
                "{condition}"
            );
        }
    }
}

#[test]
fn the_canary_gets_30_percent_of_the_prod_pods_and_is_promoted_with_the_same_manifests() {
    let pipeline = pipeline();
    let manifest_tasks = tasks(&pipeline, "KubernetesManifest@");
    let canary: Vec<&Value> = manifest_tasks
        .iter()
        .map(|(_, step)| &step["inputs"])
        .filter(|inputs| inputs["strategy"].as_str() == Some("canary"))
        .collect();
    let deploy = canary
        .iter()
        .find(|inputs| inputs["action"].as_str() == Some("deploy"))
        .expect("a canary deployment step");
    // The task takes the percentage as a string; a bare number is a schema error.
    assert_eq!(deploy["percentage"], Value::String("30".to_owned()));
    assert_eq!(deploy["trafficSplitMethod"].as_str(), Some("pod"));
    assert_eq!(deploy["namespace"].as_str(), Some("prod"));
    for action in ["promote", "reject"] {
        let step = canary
            .iter()
            .find(|inputs| inputs["action"].as_str() == Some(action))
            .unwrap_or_else(|| panic!("a canary {action} step"));
        assert_eq!(
            step["manifests"], deploy["manifests"],
            "{action} acts on the canary's manifests"
        );
        assert_eq!(
            step["namespace"], deploy["namespace"],
            "{action} acts in the canary's namespace"
        );
    }
    let analysed = steps(jobs(stage(&pipeline, "Deploy_canary"))[0])
        .iter()
        .filter_map(|step| step["inputs"]["inlineScript"].as_str())
        .any(|script| script.contains("ci/canary-analysis.sh"));
    assert!(analysed, "Deploy_canary runs the automated canary analysis");
}

#[test]
fn the_manual_validation_rejects_on_timeout_in_an_agentless_job() {
    let pipeline = pipeline();
    let gates = tasks(&pipeline, "ManualValidation@");
    assert_eq!(gates.len(), 1, "one manual validation");
    let (job, step) = gates[0];
    assert_eq!(
        job["pool"].as_str(),
        Some("server"),
        "ManualValidation runs only in an agentless job"
    );
    assert_eq!(
        step["inputs"]["onTimeout"].as_str(),
        Some("reject"),
        "an unanswered approval must not deploy"
    );
    let notified = step["inputs"]["notifyUsers"].as_str().unwrap_or_default();
    assert!(!notified.trim().is_empty(), "the approver is notified by email");
    assert!(
        minutes(&step["timeoutInMinutes"]) < minutes(&job["timeoutInMinutes"]),
        "the task's timeout must end before its job's, or the job timeout cancels instead of rejecting"
    );
    let stage = stage(&pipeline, "ManualIntervention");
    assert!(jobs(stage).iter().any(|candidate| job_name(candidate) == job_name(job)));
}

#[test]
fn deployment_jobs_name_an_environment_and_every_job_has_a_timeout() {
    let pipeline = pipeline();
    for stage in stages(&pipeline) {
        for job in jobs(stage) {
            if job["deployment"].is_string() {
                assert!(
                    job["environment"].is_string() || job["environment"]["name"].is_string(),
                    "deployment job {} has no environment (approvals and history live there)",
                    job_name(job)
                );
            }
            assert!(minutes(&job["timeoutInMinutes"]) > 0, "job {} has a timeout", job_name(job));
        }
    }
}

#[test]
fn conditions_name_only_stages_and_jobs_that_exist() {
    let pipeline = pipeline();
    let known: Vec<String> = stages(&pipeline)
        .into_iter()
        .flat_map(|stage| {
            let name = stage["stage"].as_str().unwrap_or_default().to_owned();
            jobs(stage).into_iter().map(move |job| format!("{name}.{}", job_name(job)))
        })
        .collect();
    for stage in stages(&pipeline) {
        for job in jobs(stage) {
            let condition = job["condition"].as_str().unwrap_or_default();
            for reference in condition.split("stageDependencies.").skip(1) {
                let path: String = reference.split(".result").next().unwrap_or_default().to_owned();
                assert!(
                    known.contains(&path),
                    "job {} reads stageDependencies.{path}, which does not exist",
                    job_name(job)
                );
                let needed = path.split('.').next().unwrap_or_default();
                assert!(
                    depends_on(stage).unwrap_or_default().contains(&needed),
                    "stage {} must depend on {needed} to read its result",
                    stage["stage"].as_str().unwrap_or_default()
                );
            }
        }
    }
}
