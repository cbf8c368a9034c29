//! Redis Cluster, as Azure Managed Redis presents it with the OSS clustering policy: three
//! masters with a replica each, `redis-server` processes of the test's own. Votes go to the node
//! holding the counters' slot; when that master is killed, its replica takes over and no
//! acknowledged vote is lost.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{
    Voters, counted, free_port, fresh_database, ledger_counts, poll_until, spawn_app, unique_key,
};

/// Six `redis-server` processes in cluster mode, joined as three masters and three replicas.
struct OwnCluster {
    ports: Vec<u16>,
    nodes: Vec<Child>,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A directory removed on drop.
    pub(super) struct Dir(pub(super) std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl OwnCluster {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("vote-cluster-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
        let nodes = ports
            .iter()
            .map(|port| {
                let config = dir.join(format!("nodes-{port}.conf"));
                Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
                    .args(["--cluster-config-file", config.to_str().unwrap()])
                    .args(["--save", "", "--appendonly", "no", "--dir", dir.to_str().unwrap()])
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("redis-server must be installed (ci/test.sh installs it)")
            })
            .collect();
        let cluster = Self { ports, nodes, _dir: tempdir::Dir(dir) };
        for port in &cluster.ports {
            let up =
                poll_until(Duration::from_secs(10), || async { cli(*port, &["ping"]) == "PONG" });
            assert!(up.await, "node {port} did not start");
        }
        let addresses: Vec<String> =
            cluster.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "redis-cli --cluster create failed");
        cluster.wait_until_ok(&cluster.ports).await;
        // A replica that never synced with its master refuses to replace it.
        for port in &cluster.ports {
            let synced = poll_until(Duration::from_secs(30), || async {
                let replication = cli(*port, &["info", "replication"]);
                replication.contains("role:master") || replication.contains("master_link_status:up")
            });
            assert!(synced.await, "node {port} did not sync with its master");
        }
        cluster
    }

    /// Waits until every node in `ports` reports the cluster healthy.
    async fn wait_until_ok(&self, ports: &[u16]) {
        for port in ports {
            let ok = poll_until(Duration::from_secs(30), || async {
                cli(*port, &["cluster", "info"]).contains("cluster_state:ok")
            });
            assert!(ok.await, "the cluster is not ok on node {port}");
        }
    }

    /// The port of the master holding `key`'s slot, as node `via` sees the cluster (none
    /// while a failover is under way).
    fn master_of(&self, key: &str, via: u16) -> Option<u16> {
        let slot: u16 = cli(via, &["cluster", "keyslot", key]).parse().unwrap();
        let nodes = cli(via, &["cluster", "nodes"]);
        let holds = |line: &&str| {
            line.contains("master")
                && !line.contains("fail")
                && line.split(' ').skip(8).any(|range| match range.split_once('-') {
                    Some((first, last)) => (first.parse().unwrap_or(u16::MAX)
                        ..=last.parse().unwrap_or(0))
                        .contains(&slot),
                    None => range.parse() == Ok(slot),
                })
        };
        let address = nodes.lines().find(holds)?.split(' ').nth(1)?;
        address.split(['@', ':']).nth(1)?.parse().ok()
    }

    fn kill(&mut self, port: u16) {
        let index = self.ports.iter().position(|p| *p == port).unwrap();
        let _ = self.nodes[index].kill();
        let _ = self.nodes[index].wait();
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.kill();
            let _ = node.wait();
        }
    }
}

/// `redis-cli -p PORT ARGS…`, its output trimmed.
fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli").args(["-p", &port.to_string()]).args(args).output();
    output.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn votes_on_a_three_master_cluster_survive_the_failover_of_the_counters_master() {
    let mut cluster = OwnCluster::start().await;
    let (database, key) = (fresh_database().await, unique_key());
    let url = format!("redis://127.0.0.1:{}/0", cluster.ports[0]);
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("REDIS_CLUSTER", "true"),
        ("REDIS_KEY", &key),
        ("DATABASE_URL", &database),
    ];
    let app = Arc::new(spawn_app(&vars).await);
    app.wait_until_ready(Duration::from_secs(20)).await;

    let voters = Voters::start(&app, 16);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let master = cluster.master_of(&key, cluster.ports[0]).expect("a master holds the slot");
    cluster.kill(master);
    let survivors: Vec<u16> = cluster.ports.iter().copied().filter(|p| *p != master).collect();
    let taken_over = poll_until(Duration::from_secs(30), || async {
        cluster.master_of(&key, survivors[0]).is_some_and(|now| now != master)
    });
    assert!(taken_over.await, "a replica takes over the counters' slot");
    cluster.wait_until_ok(&survivors).await;
    // Votes flow again through the new master.
    let resumed = poll_until(Duration::from_secs(30), || async {
        app.votes().await["total"].as_u64() > Some(0)
    });
    assert!(resumed.await);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let statuses = voters.stop().await;

    assert!(statuses.iter().all(|(_, status)| [303, 503].contains(status)), "{statuses:?}");
    let acknowledged = |choice: &str| {
        statuses.iter().filter(|(c, status)| *c == choice && *status == 303).count() as u64
    };
    let failed = statuses.iter().filter(|(_, status)| *status == 503).count() as u64;
    let tail = &statuses[statuses.len().saturating_sub(16)..];
    assert!(tail.iter().any(|(_, status)| *status == 303), "votes resumed after the failover");

    let expected = (acknowledged("Cats"), acknowledged("Dogs"));
    assert_eq!(ledger_counts(&database).await, expected, "the ledger holds the acknowledged votes");
    // The counters hold every acknowledged vote: a vote whose answer the dead master never
    // sent may have reached its replica, so at most the failed ones more.
    let (counted_cats, counted_dogs) = counted(&app).await;
    assert!(
        counted_cats >= expected.0 && counted_dogs >= expected.1,
        "lost: {:?} < {expected:?}",
        (counted_cats, counted_dogs)
    );
    assert!(counted_cats + counted_dogs <= expected.0 + expected.1 + failed);
}
