//! Migrations up → down → up on SQLite and on a real MariaDB, with the
//! schema proven usable through the datastore after each upgrade, and
//! `berth-dbsync upgrade|version` run as a process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use berth::conf::Config;
use berth::db::datastore::conductor::{conductor_list_alive, conductor_register};
use berth::db::datastore::node::{node_create, node_get, node_list, NewNode, NodeFilter};
use berth::db::{migrate, DataStore};
use diesel::connection::SimpleConnection;
use diesel::Connection;

/// Writes and reads every kind of column through the shared diesel schema.
async fn exercise(conn_str: &str) {
    let conf = Config::from_ini(&format!("[database]\nconnection = {conn_str}\n")).unwrap();
    let store = DataStore::connect(&conf.database).unwrap();
    store.ping().await.unwrap();
    let uuid = uuid::Uuid::new_v4().to_string();
    let u = uuid.clone();
    let row = store
        .run(move |c| {
            node_create(
                c,
                NewNode {
                    uuid: u,
                    name: Some("node-0".into()),
                    driver: "fake-hardware".into(),
                    driver_info: Some(r#"{"ipmi_address": "198.18.0.10"}"#.into()),
                    provision_state: "enroll".into(),
                    ..Default::default()
                },
            )
        })
        .await
        .unwrap();
    assert_eq!(row.uuid, uuid);
    assert!(!row.maintenance && !row.protected && !row.console_enabled);
    assert_eq!(row.conductor_group, "");
    let by_name = store.run(|c| node_get(c, "node-0")).await.unwrap();
    assert_eq!(by_name.id, row.id);
    // The unique name is enforced by the database itself.
    let dup = store
        .run(|c| {
            node_create(
                c,
                NewNode {
                    uuid: uuid::Uuid::new_v4().to_string(),
                    name: Some("node-0".into()),
                    driver: "fake-hardware".into(),
                    provision_state: "enroll".into(),
                    ..Default::default()
                },
            )
        })
        .await
        .unwrap_err();
    assert!(matches!(dup, berth::error::Error::Conflict(_)), "{dup:?}");
    let listed = store
        .run(|c| node_list(c, &NodeFilter::default()))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let types = vec!["fake-hardware".to_string()];
    store
        .run(move |c| conductor_register(c, "c1", "", &types, 60))
        .await
        .unwrap();
    let alive = store.run(|c| conductor_list_alive(c, 60)).await.unwrap();
    assert_eq!(alive.len(), 1);
    assert_eq!(
        alive[0].hardware_types.as_deref(),
        Some(r#"["fake-hardware"]"#)
    );
    // Every column diesel's schema names exists in the migrated database.
    store
        .run(|c| {
            use berth::db::schema::*;
            use diesel::prelude::*;
            macro_rules! probe {
                ($($t:ident),*) => {$(
                    $t::table
                        .select($t::all_columns)
                        .limit(0)
                        .execute(c)
                        .map_err(|e| berth::error::Error::Internal(format!("{}: {e}", stringify!($t))))?;
                )*};
            }
            probe!(
                allocations, bios_settings, chassis, conductors, deploy_template_steps,
                deploy_templates, firmware_information, images, inspection_rules, node_history,
                node_inventory, node_sensor_samples, node_traits, nodes, portgroups, ports, runbook_steps,
                runbook_traits, runbooks, task_log_lines, tasks, volume_connectors, volume_targets
            );
            Ok(())
        })
        .await
        .unwrap();
    sensor_samples(&store, row.id).await;
    images(&store).await;
}

/// Sensor samples on this backend: floats, nulls and the `latest` flag
/// round-trip; a newer collection replaces the latest set and pruning
/// keeps what the retention allows.
async fn sensor_samples(store: &DataStore, node_id: i32) {
    use berth::db::datastore::node_sensor_sample::*;
    let sample = |reading: Option<f64>| NewSensorSample {
        sensor_type: "Voltage".into(),
        name: "Volt 12V".into(),
        reading,
        unit: "volts".into(),
        health: Some("ok".into()),
        lower_critical: Some(10.8),
        upper_critical: Some(13.2),
        ..Default::default()
    };
    let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0)
        .unwrap()
        .naive_utc();
    let t1 = t0 + chrono::Duration::seconds(60);
    let t2 = t1 + chrono::Duration::seconds(60);
    let (a, b, c2) = (
        vec![sample(Some(12.06))],
        vec![sample(None)],
        vec![sample(Some(11.5))],
    );
    store
        .run(move |c| node_sensor_samples_record(c, node_id, &a, t0, t0))
        .await
        .unwrap();
    store
        .run(move |c| node_sensor_samples_record(c, node_id, &b, t1, t0))
        .await
        .unwrap();
    let latest = store
        .run(move |c| node_sensor_samples_list(c, node_id, SampleWindow::Latest, Some("Voltage")))
        .await
        .unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!((latest[0].reading, latest[0].collected_at), (None, t1));
    assert_eq!(latest[0].upper_critical, Some(13.2));
    let all = store
        .run(move |c| {
            let window = SampleWindow::Since {
                since: t0,
                limit: 10,
            };
            node_sensor_samples_list(c, node_id, window, None)
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|s| s.reading).collect::<Vec<_>>(),
        [Some(12.06), None]
    );
    // Retention up to t1: the t0 sample goes, t1's stays as history.
    store
        .run(move |c| node_sensor_samples_record(c, node_id, &c2, t2, t1))
        .await
        .unwrap();
    let all = store
        .run(move |c| {
            let window = SampleWindow::Since {
                since: t0,
                limit: 10,
            };
            node_sensor_samples_list(c, node_id, window, None)
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|s| s.collected_at).collect::<Vec<_>>(),
        [t1, t2]
    );
    assert_eq!(
        all.iter().map(|s| s.latest).collect::<Vec<_>>(),
        [false, true]
    );
    let labelled = store.run(node_sensor_samples_latest_all).await.unwrap();
    assert_eq!(labelled.len(), 1);
    assert_eq!(labelled[0].0.name.as_deref(), Some("node-0"));
    assert_eq!(labelled[0].1.reading, Some(11.5));
    store
        .run(move |c| node_sensor_samples_destroy(c, node_id))
        .await
        .unwrap();
    assert!(store
        .run(node_sensor_samples_latest_all)
        .await
        .unwrap()
        .is_empty());
}

/// Images on this backend: unique names, 64-bit sizes, the conditional
/// status changes (one upload at a time), paging by a nullable column, and
/// destroy.
async fn images(store: &DataStore) {
    use berth::db::datastore::image::*;
    use berth::error::Error;
    let new = |name: Option<&str>| NewImage {
        uuid: uuid::Uuid::new_v4().to_string(),
        name: name.map(str::to_string),
        disk_format: "qcow2".into(),
        extra: Some(r#"{"os": "debian"}"#.into()),
    };
    let (a, b, c0) = (new(Some("debian-12")), new(Some("debian-12")), new(None));
    let ua = a.uuid.clone();
    let row = store.run(move |c| image_create(c, a)).await.unwrap();
    assert_eq!((row.status.as_str(), row.size), ("queued", None));
    let dup = store.run(move |c| image_create(c, b)).await.unwrap_err();
    assert!(matches!(dup, Error::Conflict(_)), "{dup:?}");
    let unnamed = store.run(move |c| image_create(c, c0)).await.unwrap();
    assert_eq!(
        store.run(|c| image_get(c, "debian-12")).await.unwrap().uuid,
        ua
    );
    let u = ua.clone();
    store
        .run(move |c| image_set_status(c, &u, &[ImageStatus::Queued], ImageStatus::Saving, None))
        .await
        .unwrap();
    // A second upload cannot start.
    let u = ua.clone();
    let again = store
        .run(move |c| image_set_status(c, &u, &[ImageStatus::Queued], ImageStatus::Saving, None))
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again:?}");
    let stored = StoredImage {
        size: 21_474_836_480,
        virtual_size: 21_474_836_480,
        os_hash_algo: "sha256".into(),
        os_hash_value: "ab".repeat(32),
        uploaded_checksum: "cd".repeat(32),
        uploaded_size: 5_000_000_000,
    };
    let (u, s) = (ua.clone(), stored.clone());
    let active = store
        .run(move |c| image_set_active(c, &u, &s))
        .await
        .unwrap();
    assert_eq!(active.status, "active");
    assert_eq!(active.size, Some(21_474_836_480));
    assert_eq!(active.uploaded_size, Some(5_000_000_000));
    assert_eq!(active.os_hash_value, Some("ab".repeat(32)));
    let u = ua.clone();
    let twice = store
        .run(move |c| image_set_active(c, &u, &stored))
        .await
        .unwrap_err();
    assert!(matches!(twice, Error::Conflict(_)), "{twice:?}");
    // NULL names sort first; paging continues after the marker.
    let first = store
        .run(|c| image_list(c, 1, None, "name", false))
        .await
        .unwrap();
    assert_eq!(first[0].uuid, unnamed.uuid);
    let m = unnamed.uuid.clone();
    let rest = store
        .run(move |c| image_list(c, 10, Some(&m), "name", false))
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|r| r.uuid.as_str()).collect::<Vec<_>>(),
        [ua.as_str()]
    );
    let by_size = store
        .run(|c| image_list(c, 10, None, "size", true))
        .await
        .unwrap();
    assert_eq!(by_size[0].uuid, ua);
    for ident in ["debian-12".to_string(), unnamed.uuid.clone()] {
        store.run(move |c| image_destroy(c, &ident)).await.unwrap();
    }
    assert!(store
        .run(|c| image_list(c, 10, None, "id", false))
        .await
        .unwrap()
        .is_empty());
}

/// Tables the migrations create (all of them, so a down.sql that forgets
/// one is caught).
const TABLES: usize = 23;

fn table_count_sqlite(path: &str) -> usize {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = diesel::SqliteConnection::establish(path).unwrap();
    let r: N = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
    )
    .get_result(&mut c)
    .unwrap();
    r.n as usize
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_up_down_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.sqlite");
    let url = format!("sqlite:///{}", path.display());
    let known = migrate::known_versions().unwrap();
    assert!(!known.is_empty());

    assert_eq!(migrate::version(&url).unwrap(), None);
    assert_eq!(migrate::upgrade(&url).unwrap(), known);
    assert_eq!(migrate::version(&url).unwrap().as_ref(), known.last());
    assert_eq!(table_count_sqlite(path.to_str().unwrap()), TABLES);
    exercise(&url).await;

    let mut reverted = migrate::downgrade_all(&url).unwrap();
    reverted.reverse();
    assert_eq!(reverted, known);
    assert_eq!(migrate::version(&url).unwrap(), None);
    assert_eq!(table_count_sqlite(path.to_str().unwrap()), 0);

    assert_eq!(migrate::upgrade(&url).unwrap(), known);
    assert!(
        migrate::upgrade(&url).unwrap().is_empty(),
        "upgrade is idempotent"
    );
    exercise(&url).await;
}

/// A database of its own on the shared MariaDB, dropped at the end.
struct MysqlDb {
    server: String,
    name: String,
}

impl MysqlDb {
    fn create(server: &str) -> MysqlDb {
        let name = format!("berth_test_{}", uuid::Uuid::new_v4().simple());
        let mut c = diesel::MysqlConnection::establish(server).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .unwrap();
        MysqlDb {
            server: server.to_string(),
            name,
        }
    }

    /// oslo.db style, as operators write it.
    fn url(&self) -> String {
        let rest = self
            .server
            .trim_start_matches("mysql://")
            .trim_end_matches('/');
        format!("mysql+pymysql://{rest}/{}?charset=utf8", self.name)
    }

    fn tables(&self) -> usize {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut c = diesel::MysqlConnection::establish(&self.server).unwrap();
        let r: N = diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = '{}' AND table_name <> '__diesel_schema_migrations'",
            self.name
        ))
        .get_result(&mut c)
        .unwrap();
        r.n as usize
    }
}

impl Drop for MysqlDb {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::MysqlConnection::establish(&self.server) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.name));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_up_down_up() {
    let Some(server) = common::peer("BERTH_TEST_MYSQL_URL") else {
        return;
    };
    let db = MysqlDb::create(&server);
    let url = db.url();
    let known = migrate::known_versions().unwrap();

    assert_eq!(migrate::version(&url).unwrap(), None);
    assert_eq!(migrate::upgrade(&url).unwrap(), known);
    assert_eq!(db.tables(), TABLES);
    exercise(&url).await;

    migrate::downgrade_all(&url).unwrap();
    assert_eq!(db.tables(), 0, "down.sql must drop everything up.sql made");
    assert_eq!(migrate::version(&url).unwrap(), None);

    assert_eq!(migrate::upgrade(&url).unwrap(), known);
    exercise(&url).await;
}

#[test]
fn dbsync_upgrade_and_version_as_a_process() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("berth.conf");
    std::fs::write(
        &conf,
        format!(
            "[database]\nconnection = sqlite:///{}/db/berth.sqlite\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let dbsync = env!("CARGO_BIN_EXE_berth-dbsync");
    let run = |arg: &str| {
        let out = std::process::Command::new(dbsync)
            .args(["--config-file", conf.to_str().unwrap(), arg])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{arg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run("version").trim(), "None");
    let known = migrate::known_versions().unwrap();
    assert!(run("upgrade").contains(&format!("Applied migration {}", known[0])));
    assert!(run("upgrade").contains("already at the latest version"));
    assert_eq!(run("version").trim(), known.last().unwrap());

    // A bad option value stops it with the option named.
    std::fs::write(&conf, "[database]\nmax_pool_size = many\n").unwrap();
    let out = std::process::Command::new(dbsync)
        .args(["--config-file", conf.to_str().unwrap(), "version"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("max_pool_size") && err.contains("[database]"),
        "{err}"
    );
}
