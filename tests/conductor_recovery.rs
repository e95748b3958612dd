//! A conductor that restarts frees the nodes it held and fails the ones it
//! left half-way, as Ironic does, instead of leaving them locked forever.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use berth::conductor::recovery::recover_after_restart;
use berth::conf::Config;
use berth::db::datastore::node::{
    node_create, node_get, node_reserve, node_set_provision_state, NewNode, ProvisionWrite,
};
use berth::db::{migrate, DataStore};

#[tokio::test(flavor = "multi_thread")]
async fn restart_fails_transient_nodes_and_frees_locks() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}/b.sqlite", dir.path().display());
    migrate::upgrade(&url).unwrap();
    let conf = Config::from_ini(&format!("[database]\nconnection = {url}\n")).unwrap();
    let store = DataStore::connect(&conf.database).unwrap();
    for (name, state) in [
        ("mid-deploy", "available"),
        ("idle", "available"),
        ("other-host", "available"),
    ] {
        let new = NewNode {
            uuid: uuid::Uuid::new_v4().to_string(),
            name: Some(name.into()),
            driver: "fake-hardware".into(),
            provision_state: state.into(),
            ..Default::default()
        };
        store.run(move |c| node_create(c, new)).await.unwrap();
    }
    store
        .run(|c| {
            let mid = node_get(c, "mid-deploy")?.uuid;
            let idle = node_get(c, "idle")?.uuid;
            let other = node_get(c, "other-host")?.uuid;
            let n = node_reserve(c, &mid, "c1")?;
            node_set_provision_state(
                c,
                &n.uuid,
                "c1",
                &ProvisionWrite {
                    from: "available".into(),
                    to: "deploying".into(),
                    target: Some("active".into()),
                    ..Default::default()
                },
            )?;
            node_reserve(c, &idle, "c1")?;
            node_reserve(c, &other, "c2")
        })
        .await
        .unwrap();

    assert_eq!(recover_after_restart(&store, "c1").await.unwrap(), 2);

    let failed = store.run(|c| node_get(c, "mid-deploy")).await.unwrap();
    assert_eq!(failed.provision_state, "deploy failed");
    assert_eq!(failed.target_provision_state.as_deref(), Some("active"));
    assert!(failed.reservation.is_none());
    assert!(failed
        .last_error
        .unwrap()
        .contains("Conductor c1 restarted"));
    let idle = store.run(|c| node_get(c, "idle")).await.unwrap();
    assert_eq!(idle.provision_state, "available");
    assert!(idle.reservation.is_none());
    // Another conductor's lock is not ours to free.
    let other = store.run(|c| node_get(c, "other-host")).await.unwrap();
    assert_eq!(other.reservation.as_deref(), Some("c2"));
}
