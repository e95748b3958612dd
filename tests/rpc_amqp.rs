//! Berth's RPC over a real RabbitMQ: round trips, errors, timeouts, a shared topic, a broker restart.
//!
//! Needs `BERTH_TEST_AMQP_URL` (and, for the restart test,
//! `BERTH_TEST_RABBITMQ_CTL`, a script whose `restart` restarts the broker
//! keeping its data), as printed by `tools/peers/rabbitmq.sh env` after
//! `tools/peers/rabbitmq.sh start`. Without them each test prints a skip line
//! and passes, unless `BERTH_REQUIRE_PEERS=1`, which makes it fail.
//!
//! Every test uses its own topic and host names (UUIDs), so they run in
//! parallel; the restart test holds [`BROKER`] exclusively so that no other
//! test sees the broker go away under it.

#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth::context::RequestContext;
use berth::error::{Error, Result};
use berth::rpc::amqp::{AmqpConfig, AmqpServer, AmqpTransport};
use berth::rpc::{Handler, Target, Transport};
use serde_json::{json, Value};
use uuid::Uuid;

/// Shared by the tests that only use the broker; taken exclusively by the
/// test that restarts it.
static BROKER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The value of a peer variable, or `None` after printing a skip line
/// (a failure instead when `BERTH_REQUIRE_PEERS=1`).
fn peer_env(var: &str, test: &str) -> Option<String> {
    init_logging();
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            let hint = "start the broker with tools/peers/rabbitmq.sh start and \
                        eval \"$(tools/peers/rabbitmq.sh env)\"";
            if std::env::var("BERTH_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("{test}: {var} is not set but BERTH_REQUIRE_PEERS=1; {hint}");
            }
            eprintln!("SKIP {test}: {var} is not set ({hint})");
            None
        }
    }
}

/// Logs to the test's output when `RUST_LOG` is set (e.g. `RUST_LOG=berth=debug`).
fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// A config with a topic of its own, so parallel tests never share queues.
/// Queues expire a minute after their last consumer goes, so test runs do
/// not pile up durable queues in the broker.
fn test_config(url: &str) -> AmqpConfig {
    let mut config = AmqpConfig::new(url);
    config.topic = format!("berth-test.{}", Uuid::new_v4().simple());
    config.queue_expiry = Some(Duration::from_secs(60));
    config
}

fn unique_host(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::new_v4().simple())
}

fn ctx() -> RequestContext {
    let mut ctx = RequestContext::internal(RequestContext::new_request_id());
    ctx.project_id = Some("p-1".into());
    ctx.user_id = Some("u-1".into());
    ctx
}

/// The conductor side used by every test.
///
/// - `echo`: returns the host, the args and the context it received;
/// - `record`: after `args.ms` (if given), remembers `args.id` (counting
///   repeats), returns null;
/// - `sleep`: sleeps `args.ms`, returns the host;
/// - `fail`: returns the error named by `args.kind`.
struct Recorder {
    host: String,
    recorded: Mutex<HashMap<String, usize>>,
    echoes: AtomicUsize,
}

impl Recorder {
    fn new(host: &str) -> Arc<Self> {
        Arc::new(Recorder {
            host: host.to_owned(),
            recorded: Mutex::new(HashMap::new()),
            echoes: AtomicUsize::new(0),
        })
    }

    fn recorded_ids(&self) -> HashSet<String> {
        self.recorded.lock().unwrap().keys().cloned().collect()
    }

    fn deliveries(&self) -> usize {
        self.recorded.lock().unwrap().values().sum()
    }
}

#[async_trait::async_trait]
impl Handler for Recorder {
    async fn handle(&self, ctx: RequestContext, method: &str, args: Value) -> Result<Value> {
        match method {
            "echo" => {
                self.echoes.fetch_add(1, Ordering::SeqCst);
                Ok(json!({"host": self.host, "args": args, "context": ctx}))
            }
            "record" => {
                if let Some(ms) = args["ms"].as_u64() {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let id = args["id"].as_str().unwrap_or_default().to_owned();
                *self.recorded.lock().unwrap().entry(id).or_default() += 1;
                Ok(Value::Null)
            }
            "sleep" => {
                tokio::time::sleep(Duration::from_millis(args["ms"].as_u64().unwrap_or(0))).await;
                Ok(json!({"host": self.host}))
            }
            "fail" => Err(match args["kind"].as_str().unwrap_or_default() {
                "NotFound" => Error::NotFound(format!("Node {} could not be found.", args["node"])),
                "NodeLocked" => Error::NodeLocked {
                    node: "node-1".into(),
                    host: self.host.clone(),
                },
                _ => Error::Conflict("a port with this address already exists".into()),
            }),
            other => Err(Error::InvalidParameter(format!("no method {other}"))),
        }
    }
}

/// Every test fails rather than hangs: the whole file stays well under a minute.
async fn within_limit(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(50), test)
        .await
        .expect("test did not finish within 50 s");
}

/// Wait until `done()` or `limit` passes; true when done.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_round_trips_to_a_host_and_to_the_topic() {
    within_limit(async {
        let Some(url) = peer_env(
            "BERTH_TEST_AMQP_URL",
            "call_round_trips_to_a_host_and_to_the_topic",
        ) else {
            return;
        };
        let _broker = BROKER.read().await;
        let config = test_config(&url);
        let host = unique_host("cond");
        let recorder = Recorder::new(&host);
        let server = AmqpServer::start(config.clone(), &host, recorder.clone())
            .await
            .unwrap();
        let client = AmqpTransport::connect(config).await.unwrap();
        assert!(client.is_connected());

        let ctx = ctx();
        for target in [Target::Conductor(host.clone()), Target::AnyConductor] {
            let out = client
                .call(
                    &target,
                    &ctx,
                    "echo",
                    json!({"node": "n-1", "n": [1, 2]}),
                    CALL_TIMEOUT,
                )
                .await
                .unwrap();
            assert_eq!(out["host"], host.as_str());
            assert_eq!(out["args"], json!({"node": "n-1", "n": [1, 2]}));
            // The whole request context, request id included, reached the handler.
            let seen: RequestContext = serde_json::from_value(out["context"].clone()).unwrap();
            assert_eq!(seen, ctx);
        }
        assert_eq!(recorder.echoes.load(Ordering::SeqCst), 2);

        server.shutdown().await;
        client.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_casts_are_delivered_to_a_host_and_to_the_topic() {
    within_limit(async {
        let Some(url) = peer_env("BERTH_TEST_AMQP_URL", "confirmed_casts_are_delivered") else {
            return;
        };
        let _broker = BROKER.read().await;
        let config = test_config(&url);
        let host = unique_host("cond");
        let recorder = Recorder::new(&host);
        let server = AmqpServer::start(config.clone(), &host, recorder.clone())
            .await
            .unwrap();
        let client = AmqpTransport::connect(config).await.unwrap();

        let mut sent = HashSet::new();
        for i in 0..20 {
            let target = if i % 2 == 0 {
                Target::AnyConductor
            } else {
                Target::Conductor(host.clone())
            };
            let id = format!("cast-{i}");
            client
                .cast(&target, &ctx(), "record", json!({"id": id}))
                .await
                .unwrap();
            sent.insert(id);
        }
        assert!(
            eventually(Duration::from_secs(10), || recorder.recorded_ids() == sent).await,
            "handled {:?}",
            recorder.recorded_ids()
        );

        // A cast to a host nobody ever declared is refused, not silently lost.
        let err = client
            .cast(
                &Target::Conductor(unique_host("nobody")),
                &ctx(),
                "record",
                json!({"id": "lost"}),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ServiceUnavailable(_)), "{err:?}");

        server.shutdown().await;
        client.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_errors_keep_their_variant_across_amqp() {
    within_limit(async {
    let Some(url) = peer_env("BERTH_TEST_AMQP_URL", "handler_errors_keep_their_variant") else {
        return;
    };
    let _broker = BROKER.read().await;
    let config = test_config(&url);
    let host = unique_host("cond");
    let server = AmqpServer::start(config.clone(), &host, Recorder::new(&host))
        .await
        .unwrap();
    let client = AmqpTransport::connect(config).await.unwrap();
    let target = Target::Conductor(host.clone());

    let err = client
        .call(
            &target,
            &ctx(),
            "fail",
            json!({"kind": "NotFound", "node": "n-9"}),
            CALL_TIMEOUT,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound(ref m) if m == "Node \"n-9\" could not be found."),
        "{err:?}"
    );
    let err = client
        .call(
            &target,
            &ctx(),
            "fail",
            json!({"kind": "NodeLocked"}),
            CALL_TIMEOUT,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NodeLocked { ref node, host: ref by } if node == "node-1" && *by == host),
        "{err:?}"
    );
    let err = client
        .call(
            &target,
            &ctx(),
            "fail",
            json!({"kind": "Conflict"}),
            CALL_TIMEOUT,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let err = client
        .call(&target, &ctx(), "no_such_method", json!({}), CALL_TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidParameter(_)), "{err:?}");

    server.shutdown().await;
    client.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_without_a_running_conductor_times_out_and_does_not_run_later() {
    within_limit(async {
        let Some(url) = peer_env("BERTH_TEST_AMQP_URL", "call_without_a_running_conductor") else {
            return;
        };
        let _broker = BROKER.read().await;
        let config = test_config(&url);
        let client = AmqpTransport::connect(config.clone()).await.unwrap();

        // Nobody ever declared this host's queue: refused at once, no waiting.
        let started = Instant::now();
        let err = client
            .call(
                &Target::Conductor(unique_host("nobody")),
                &ctx(),
                "echo",
                json!({}),
                CALL_TIMEOUT,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ServiceUnavailable(_)), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        // The conductor existed (its durable queue is there) but is stopped.
        let host = unique_host("cond");
        let first = AmqpServer::start(config.clone(), &host, Recorder::new(&host))
            .await
            .unwrap();
        first.shutdown().await;

        let request = ctx();
        let started = Instant::now();
        let err = client
            .call(
                &Target::Conductor(host.clone()),
                &request,
                "echo",
                json!({}),
                Duration::from_millis(700),
            )
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        match &err {
            Error::ServiceUnavailable(m) => {
                assert!(m.contains("timed out"), "{m}");
                assert!(m.contains(&request.request_id), "{m}");
            }
            other => panic!("expected ServiceUnavailable, got {other:?}"),
        }
        assert!(
            elapsed >= Duration::from_millis(700) && elapsed < Duration::from_millis(2000),
            "{elapsed:?}"
        );

        // A cast meanwhile is kept for it.
        client
            .cast(
                &Target::Conductor(host.clone()),
                &ctx(),
                "record",
                json!({"id": "kept"}),
            )
            .await
            .unwrap();

        // When the conductor comes back it gets the cast but not the expired call.
        let recorder = Recorder::new(&host);
        let second = AmqpServer::start(config, &host, recorder.clone())
            .await
            .unwrap();
        assert!(eventually(Duration::from_secs(10), || recorder.deliveries() == 1).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            recorder.echoes.load(Ordering::SeqCst),
            0,
            "an expired call was run"
        );

        second.shutdown().await;
        client.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_conductors_share_the_topic() {
    within_limit(async {
        let Some(url) = peer_env("BERTH_TEST_AMQP_URL", "two_conductors_share_the_topic") else {
            return;
        };
        let _broker = BROKER.read().await;
        let config = test_config(&url);
        let (host_a, host_b) = (unique_host("cond-a"), unique_host("cond-b"));
        let a = AmqpServer::start(config.clone(), &host_a, Recorder::new(&host_a))
            .await
            .unwrap();
        let b = AmqpServer::start(config.clone(), &host_b, Recorder::new(&host_b))
            .await
            .unwrap();
        let client = Arc::new(AmqpTransport::connect(config).await.unwrap());

        let calls = (0..30).map(|_| {
            let client = client.clone();
            async move {
                client
                    .call(
                        &Target::AnyConductor,
                        &ctx(),
                        "sleep",
                        json!({"ms": 100}),
                        CALL_TIMEOUT,
                    )
                    .await
                    .unwrap()["host"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        });
        let hosts = futures_util::future::join_all(calls).await;
        let by_a = hosts.iter().filter(|h| **h == host_a).count();
        let by_b = hosts.iter().filter(|h| **h == host_b).count();
        assert_eq!(by_a + by_b, 30);
        assert!(by_a > 0 && by_b > 0, "a: {by_a}, b: {by_b}");

        // A host's own queue reaches only that host.
        for _ in 0..5 {
            let out = client
                .call(
                    &Target::Conductor(host_b.clone()),
                    &ctx(),
                    "echo",
                    json!({}),
                    CALL_TIMEOUT,
                )
                .await
                .unwrap();
            assert_eq!(out["host"], host_b.as_str());
        }

        a.shutdown().await;
        b.shutdown().await;
        client.close().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_running_handlers_before_closing() {
    within_limit(async {
        let Some(url) = peer_env("BERTH_TEST_AMQP_URL", "shutdown_finishes_running_handlers")
        else {
            return;
        };
        let _broker = BROKER.read().await;
        let config = test_config(&url);
        let host = unique_host("cond");
        let server = AmqpServer::start(config.clone(), &host, Recorder::new(&host))
            .await
            .unwrap();
        let client = Arc::new(AmqpTransport::connect(config).await.unwrap());

        let slow = tokio::spawn({
            let client = client.clone();
            let target = Target::Conductor(host.clone());
            async move {
                client
                    .call(&target, &ctx(), "sleep", json!({"ms": 800}), CALL_TIMEOUT)
                    .await
            }
        });
        assert!(eventually(Duration::from_secs(5), || server.running_handlers() == 1).await);
        let started = Instant::now();
        server.shutdown().await;
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(server.running_handlers(), 0);
        // The handler ran to the end and its reply went out before the close.
        let out = slow.await.unwrap().unwrap();
        assert_eq!(out["host"], host.as_str());

        client.close().await;
    })
    .await
}

/// Upper bound on the casts the restart test gets confirmed (bounds its drain time).
const MAX_CASTS: usize = 1000;

/// What the load generator saw for one call.
struct CallOutcome {
    started: Instant,
    elapsed: Duration,
    result: std::result::Result<(), Error>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_loses_no_confirmed_cast_and_rpc_recovers() {
    within_limit(async {
        let test = "broker_restart_loses_no_confirmed_cast_and_rpc_recovers";
        let Some(url) = peer_env("BERTH_TEST_AMQP_URL", test) else {
            return;
        };
        let Some(ctl) = peer_env("BERTH_TEST_RABBITMQ_CTL", test) else {
            return;
        };
        let _broker = BROKER.write().await;
        let test_started = Instant::now();
        // Production reconnect settings (0.2 s doubling to 5 s).
        let config = test_config(&url);
        let host = unique_host("cond");
        let recorder = Recorder::new(&host);
        let server = AmqpServer::start(config.clone(), &host, recorder.clone())
            .await
            .unwrap();
        let client = Arc::new(AmqpTransport::connect(config).await.unwrap());

        let stop = Arc::new(AtomicBool::new(false));
        let confirmed = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
        let refused_casts = Arc::new(Mutex::new(Vec::<Error>::new()));
        let calls = Arc::new(Mutex::new(Vec::<CallOutcome>::new()));
        // Casts faster than the conductor handles them (each takes 100 ms, at
        // most 2 x prefetch at once), so when the broker stops there is a backlog
        // in the queues and handlers mid-way whose acks will never arrive.
        let cast_load = tokio::spawn({
            let (client, host, stop) = (client.clone(), host.clone(), stop.clone());
            let (confirmed, refused_casts) = (confirmed.clone(), refused_casts.clone());
            async move {
                let mut i = 0u64;
                while !stop.load(Ordering::SeqCst) && confirmed.lock().unwrap().len() < MAX_CASTS {
                    i += 1;
                    let target = if i % 2 == 0 {
                        Target::AnyConductor
                    } else {
                        Target::Conductor(host.clone())
                    };
                    let id = format!("cast-{i}");
                    let args = json!({"id": id, "ms": 100});
                    match client.cast(&target, &ctx(), "record", args).await {
                        Ok(()) => confirmed.lock().unwrap().push((Instant::now(), id)),
                        Err(err) => {
                            refused_casts.lock().unwrap().push(err);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        });
        let call_load = tokio::spawn({
            let (client, host, stop) = (client.clone(), host.clone(), stop.clone());
            let calls = calls.clone();
            async move {
                let mut i = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let target = if i % 2 == 0 {
                        Target::AnyConductor
                    } else {
                        Target::Conductor(host.clone())
                    };
                    let started = Instant::now();
                    let result = client
                        .call(
                            &target,
                            &ctx(),
                            "echo",
                            json!({"i": i}),
                            Duration::from_secs(3),
                        )
                        .await
                        .map(|_| ());
                    calls.lock().unwrap().push(CallOutcome {
                        started,
                        elapsed: started.elapsed(),
                        result,
                    });
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            }
        });

        tokio::time::sleep(Duration::from_secs(1)).await;
        // A call whose handler is running when the broker goes away.
        let in_flight = tokio::spawn({
            let (client, host) = (client.clone(), host.clone());
            async move {
                let started = Instant::now();
                let result = client
                    .call(
                        &Target::Conductor(host),
                        &ctx(),
                        "sleep",
                        json!({"ms": 4000}),
                        Duration::from_secs(30),
                    )
                    .await;
                (started.elapsed(), result)
            }
        });
        // Let it reach the handler (published, delivered, sleeping).
        tokio::time::sleep(Duration::from_millis(300)).await;

        let restart_started = Instant::now();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(&ctl).arg("restart").output()
        })
        .await
        .unwrap()
        .unwrap();
        let restart_finished = Instant::now();
        assert!(
            output.status.success(),
            "{ctl} restart failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            ctl = std::env::var("BERTH_TEST_RABBITMQ_CTL").unwrap_or_default()
        );
        let restart_took = restart_finished - restart_started;

        // The in-flight call failed as soon as the connection dropped, not at its
        // 30 s timeout nor when its 4 s handler would have finished.
        let (in_flight_elapsed, in_flight_result) = in_flight.await.unwrap();
        match &in_flight_result {
            Err(Error::ServiceUnavailable(m)) => assert!(!m.contains("timed out"), "{m}"),
            other => panic!("in-flight call: expected ServiceUnavailable, got {other:?}"),
        }
        assert!(
            in_flight_elapsed < Duration::from_secs(4),
            "{in_flight_elapsed:?}"
        );

        // Keep going until calls succeed again on the same objects.
        let recovered = eventually(Duration::from_secs(20), || {
            let calls = calls.lock().unwrap();
            calls
                .iter()
                .filter(|c| c.started > restart_finished && c.result.is_ok())
                .count()
                >= 5
        })
        .await;
        stop.store(true, Ordering::SeqCst);
        cast_load.await.unwrap();
        call_load.await.unwrap();
        assert!(
            recovered,
            "calls did not succeed again after the broker restart"
        );
        assert!(client.is_connected());

        // Every cast the broker confirmed is handled (at least once).
        let confirmed_ids: HashSet<String> = confirmed
            .lock()
            .unwrap()
            .iter()
            .map(|(_, id)| id.clone())
            .collect();
        let all_handled = eventually(Duration::from_secs(15), || {
            recorder.recorded_ids().is_superset(&confirmed_ids)
        })
        .await;
        let handled = recorder.recorded_ids();
        let missing: Vec<_> = confirmed_ids.difference(&handled).cloned().collect();
        assert!(all_handled, "confirmed casts never handled: {missing:?}");

        // The load tasks are done: take what they recorded.
        let calls = std::mem::take(&mut *calls.lock().unwrap());
        let refused_casts = std::mem::take(&mut *refused_casts.lock().unwrap());
        let failed: Vec<&CallOutcome> = calls.iter().filter(|c| c.result.is_err()).collect();
        assert!(
            !failed.is_empty(),
            "no call failed: did the broker really restart?"
        );
        for call in &failed {
            assert!(
                matches!(call.result, Err(Error::ServiceUnavailable(_))),
                "{:?}",
                call.result
            );
            assert!(
                call.elapsed <= Duration::from_millis(3500),
                "{:?}",
                call.elapsed
            );
        }
        for err in &refused_casts {
            assert!(matches!(err, Error::ServiceUnavailable(_)), "{err:?}");
        }
        let confirmed_after_restart = confirmed
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| *at > restart_finished)
            .count();
        assert!(
            confirmed_after_restart > 0,
            "no cast confirmed after the restart"
        );
        let first_success_after = calls
            .iter()
            .filter(|c| c.started > restart_finished && c.result.is_ok())
            .map(|c| c.started + c.elapsed - restart_finished)
            .min()
            .unwrap_or_default();
        let max_failed = failed.iter().map(|c| c.elapsed).max().unwrap_or_default();
        eprintln!(
            "{test}: broker restart took {restart_took:?}; first call OK {first_success_after:?} \
         after it; in-flight call failed after {in_flight_elapsed:?}; calls: {} ok, {} failed \
         (slowest failure {max_failed:?}); casts: {} confirmed ({confirmed_after_restart} after \
         the restart), {} refused, {} distinct handled, {} deliveries (redeliveries: {}); \
         test took {:?}",
            calls.len() - failed.len(),
            failed.len(),
            confirmed_ids.len(),
            refused_casts.len(),
            handled.len(),
            recorder.deliveries(),
            recorder.deliveries() - handled.len(),
            test_started.elapsed(),
        );

        server.shutdown().await;
        client.close().await;
    })
    .await
}
