//! The production shape as processes: berth-dbsync, berth-conductor and
//! berth-api with MariaDB and RabbitMQ. A node created through the API
//! travels over AMQP to the conductor, which writes it to MariaDB; the
//! conductor registers itself and unregisters on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};

/// A child process that is stopped (SIGTERM, then SIGKILL) when dropped.
struct Service {
    name: &'static str,
    child: Child,
    log: std::path::PathBuf,
}

impl Service {
    fn spawn(
        name: &'static str,
        bin: &str,
        conf: &std::path::Path,
        dir: &std::path::Path,
    ) -> Service {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin)
            .args(["--config-file", conf.to_str().unwrap()])
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap();
        Service { name, child, log }
    }

    /// SIGTERM and wait; returns whether it exited by itself in time.
    fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            eprintln!("--- {} log ---\n{}", self.name, self.log());
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn online(server: &str, db: &str, host: &str) -> Option<bool> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        online: bool,
    }
    let mut c = diesel::MysqlConnection::establish(&format!("{server}/{db}")).ok()?;
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT online FROM conductors WHERE hostname = '{host}'"
    ))
    .load(&mut c)
    .ok()?;
    rows.first().map(|r| r.online)
}

#[tokio::test(flavor = "multi_thread")]
async fn api_and_conductor_processes_over_amqp_and_mariadb() {
    let Some(mysql) = common::peer("BERTH_TEST_MYSQL_URL") else {
        return;
    };
    let Some(amqp) = common::peer("BERTH_TEST_AMQP_URL") else {
        return;
    };
    let mysql = mysql.trim_end_matches('/').to_string();
    let db = format!("berth_split_{}", uuid::Uuid::new_v4().simple());
    diesel::MysqlConnection::establish(&mysql)
        .unwrap()
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    struct DropDb(String, String);
    impl Drop for DropDb {
        fn drop(&mut self) {
            if let Ok(mut c) = diesel::MysqlConnection::establish(&self.0) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.1));
            }
        }
    }
    let _cleanup = DropDb(mysql.clone(), db.clone());

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let host = format!("conductor-{}", uuid::Uuid::new_v4().simple());
    // oslo.messaging and oslo.db URL forms, as an operator writes them.
    let transport = amqp
        .replacen("amqp://", "rabbit://", 1)
        .replace("/%2f", "/");
    let conf = dir.path().join("berth.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nhost = {host}\nauth_strategy = noauth\ntransport_url = {transport}\nrpc_response_timeout = 20\n\
             [database]\nconnection = mysql+pymysql://{}/{db}?charset=utf8\n\
             [api]\nhost_ip = 127.0.0.1\nport = {port}\n[conductor]\nheartbeat_interval = 1\n",
            mysql.trim_start_matches("mysql://")
        ),
    )
    .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_berth-dbsync"))
        .args(["--config-file", conf.to_str().unwrap(), "upgrade"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut conductor = Service::spawn(
        "conductor",
        env!("CARGO_BIN_EXE_berth-conductor"),
        &conf,
        dir.path(),
    );
    let api = Service::spawn("api", env!("CARGO_BIN_EXE_berth-api"), &conf, dir.path());
    let base = format!("http://127.0.0.1:{port}");
    let http = common::client();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = http.get(format!("{base}/v1")).send().await.is_ok();
        if up && online(&mysql, &db, &host) == Some(true) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "services did not come up\n{}\n{}",
            conductor.log(),
            api.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware", "driver_info": {"ipmi_address": "198.18.0.21"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", conductor.log());
    let request_id = resp.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let node: Value = resp.json().await.unwrap();
    let uuid = node["uuid"].as_str().unwrap().to_string();
    // The conductor, not the API, wrote it, under the API's request id.
    let log = conductor.log();
    assert!(log.contains(&uuid) && log.contains(&request_id), "{log}");
    let shown: Value = http
        .get(format!("{base}/v1/nodes/{uuid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["driver_info"]["ipmi_address"], "198.18.0.21");

    // A clean stop unregisters the conductor; then the API has nobody to
    // send work to and says so instead of hanging.
    assert!(
        conductor.terminate(),
        "conductor ignored SIGTERM\n{}",
        conductor.log()
    );
    assert_eq!(online(&mysql, &db, &host), Some(false));
    let resp = http
        .post(format!("{base}/v1/nodes"))
        .json(&json!({"driver": "fake-hardware"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let inner = common::fault(resp).await;
    assert!(inner["faultstring"]
        .as_str()
        .unwrap()
        .contains("No valid host was found"));
    drop(api);
}
