//! `deploy/appservice-cli.sh --dry-run`: the manual phase's commands, in order, with the unique
//! names, printed without Azure credentials and without calling `az`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCRIPT: &str = "deploy/appservice-cli.sh";

/// The commands that change something, in the order the course's manual phase runs them.
const CHANGES_IN_ORDER: &[&str] = &[
    "az group create",
    "az acr create",
    "az acr build",
    "az appservice plan create",
    "az webapp create",
    "az role assignment create",
    "az webapp config set",
    "az webapp config container set",
    "az webapp config appsettings set",
    "az webapp config set",
    "az webapp log config",
];

/// A directory on `PATH` whose `az` fails loudly: a dry run must never call it.
struct FakeAz {
    dir: PathBuf,
}

impl FakeAz {
    fn new() -> Self {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("fake-az-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let az = dir.join("az");
        std::fs::write(&az, "#!/bin/sh\necho \"az was called: $*\" >&2\nexit 99\n")
            .expect("write the fake az");
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the fake az");
        Self { dir }
    }

    fn dry_run(&self, args: &[&str]) -> (String, String) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let path = format!("{}:{}", self.dir.display(), std::env::var("PATH").unwrap_or_default());
        let output: Output = Command::new("bash")
            .arg(root.join(SCRIPT))
            .arg("--dry-run")
            .args(args)
            .env("PATH", path)
            .output()
            .expect("bash runs the script");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{SCRIPT} --dry-run failed: {stderr}");
        assert!(!stderr.contains("az was called"), "a dry run called az: {stderr}");
        (stdout, stderr)
    }
}

impl Drop for FakeAz {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_dry_run_prints_every_az_command_in_order_with_the_unique_names() {
    let az = FakeAz::new();
    let (stdout, stderr) = az.dry_run(&["--suffix", "it7x9q", "--image-tag", "test"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().all(|line| line.starts_with("az ")),
        "only az commands on stdout:\n{stdout}"
    );

    let mut position = 0;
    for change in CHANGES_IN_ORDER {
        let found = lines[position..].iter().position(|line| line.starts_with(change));
        let found =
            found.unwrap_or_else(|| panic!("`{change}` missing or out of order:\n{stdout}"));
        position += found + 1;
    }
    let line = |prefix: &str| {
        lines.iter().find(|line| line.starts_with(prefix)).copied().unwrap_or_default()
    };
    assert!(
        line("az acr create").contains("--name acrvoteit7x9q")
            && line("az acr create").contains("--admin-enabled false")
    );
    assert!(line("az acr build").contains("--registry acrvoteit7x9q --image vote-app:test"));
    assert!(
        line("az webapp create").contains(
            "--name app-vote-it7x9q --resource-group rg-vote-manual --plan asp-vote-it7x9q"
        )
    );
    assert!(
        stderr.contains("az webapp log tail --name app-vote-it7x9q"),
        "shows how to follow the logs: {stderr}"
    );
}

#[test]
fn the_dry_run_sets_only_settings_the_vote_app_reads() {
    let az = FakeAz::new();
    let (stdout, _) = az.dry_run(&["--suffix", "it7x9q"]);
    let settings = stdout
        .lines()
        .find(|line| line.starts_with("az webapp config appsettings set"))
        .expect("app settings");
    let names: Vec<&str> = settings
        .split(" --settings ")
        .nth(1)
        .expect("a --settings list")
        .split(' ')
        .map(|pair| pair.split('=').next().unwrap_or_default())
        .collect();
    for name in names {
        assert!(
            name == "WEBSITES_PORT" || vote_app::config::VARIABLES.contains(&name),
            "{name} is not read by the vote-app"
        );
    }
}

#[test]
fn without_a_suffix_the_names_come_from_the_resource_group_and_a_rerun_finds_the_same() {
    let az = FakeAz::new();
    let suffix = |stderr: &str| {
        let line = stderr
            .lines()
            .find(|line| line.starts_with("unique suffix: "))
            .expect("the suffix is shown");
        line["unique suffix: ".len()..].split(' ').next().unwrap_or_default().to_owned()
    };
    let (first_out, first) = az.dry_run(&["--image-tag", "test"]);
    let (second_out, second) = az.dry_run(&["--image-tag", "test"]);
    let (_, other_group) =
        az.dry_run(&["--image-tag", "test", "--resource-group", "rg-vote-other"]);

    assert_eq!(suffix(&first), suffix(&second), "a re-run finds the same names");
    assert_eq!(first_out, second_out, "and prints the same commands");
    assert_ne!(suffix(&first), suffix(&other_group), "another resource group gets other names");
    assert_eq!(suffix(&first).len(), 6);
    assert!(first_out.contains(&format!("--name app-vote-{}", suffix(&first))));
}
