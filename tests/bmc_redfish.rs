//! The Redfish BMC client against a real Redfish service (sushy-tools'
//! emulator, fake systems driver), driven through `Registry::for_node` as
//! the conductor does, with the emulator's own view read by plain GETs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth::conf::Config;
use berth::drivers::bmc::{
    Bmc, BmcError, BmcTarget, BootDevice, BootMode, PowerAction, Registry, SensorKind,
};
use berth::states::PowerState;
use common::sushy::{Sushy, SushyOptions};
use serde_json::{json, Value};

const NODE: &str = "4a1f3c8e-5b2d-4e6f-8a9b-0c1d2e3f4a5b";

/// `[redfish]` options short enough for tests.
fn config(redfish: &str) -> Arc<Config> {
    let ini = format!("[redfish]\n{redfish}\n");
    Arc::new(Config::from_sources(&[("berth.conf".into(), ini)]).unwrap())
}

fn bmc(conf: &Arc<Config>, info: &Value) -> Result<Arc<dyn Bmc>, BmcError> {
    Registry::new(conf.clone()).for_node(&BmcTarget {
        uuid: NODE,
        power_interface: "redfish",
        driver_info: info,
        power_state: None,
    })
}

async fn emulator(opts: SushyOptions) -> Option<(Sushy, Arc<dyn Bmc>)> {
    let sushy = Sushy::start(opts).await?;
    let bmc = bmc(&config(""), &sushy.driver_info(0)).unwrap();
    Some((sushy, bmc))
}

/// Waits for the (delayed) power change, then checks the emulator agrees.
async fn wait_power(sushy: &Sushy, bmc: &Arc<dyn Bmc>, want: PowerState) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if bmc.power_state().await.unwrap() == want {
            break;
        }
        assert!(Instant::now() < deadline, "power never became {want:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let seen = sushy.get(&sushy.system_path(0)).await["PowerState"].clone();
    let expected = if want == PowerState::PowerOn {
        "On"
    } else {
        "Off"
    };
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn power_on_off_and_status() {
    let Some((sushy, bmc)) = emulator(SushyOptions::default()).await else {
        return;
    };
    assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOff);
    bmc.power(PowerAction::On).await.unwrap();
    wait_power(&sushy, &bmc, PowerState::PowerOn).await;
    bmc.power(PowerAction::Off).await.unwrap();
    wait_power(&sushy, &bmc, PowerState::PowerOff).await;
    sushy.stop();
}

#[tokio::test]
async fn reboot_and_soft_off_of_a_running_system() {
    let opts = SushyOptions {
        power_on: true,
        ..SushyOptions::default()
    };
    let Some((sushy, bmc)) = emulator(opts).await else {
        return;
    };
    assert_eq!(bmc.power_state().await.unwrap(), PowerState::PowerOn);
    // ForceRestart: the emulator goes off at once and comes back on later.
    bmc.power(PowerAction::Reset).await.unwrap();
    assert_eq!(sushy.get(&sushy.system_path(0)).await["PowerState"], "Off");
    wait_power(&sushy, &bmc, PowerState::PowerOn).await;
    bmc.power(PowerAction::SoftOff).await.unwrap();
    wait_power(&sushy, &bmc, PowerState::PowerOff).await;
    sushy.stop();
}

#[tokio::test]
async fn boot_device_persistent_once_and_boot_mode() {
    let Some((sushy, bmc)) = emulator(SushyOptions::default()).await else {
        return;
    };
    let boot = |v: Value| v["Boot"].clone();
    let path = sushy.system_path(0);

    bmc.set_boot_device("pxe", true, Some(BootMode::Uefi))
        .await
        .unwrap();
    let seen = boot(sushy.get(&path).await);
    assert_eq!(seen["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(seen["BootSourceOverrideEnabled"], "Continuous");
    assert_eq!(seen["BootSourceOverrideMode"], "UEFI");
    assert_eq!(
        bmc.boot_device().await.unwrap(),
        BootDevice {
            boot_device: Some("pxe".into()),
            persistent: Some(true)
        }
    );

    // Next boot only, legacy: the emulator keeps no once/continuous
    // distinction (it always reports Continuous), so only the device and
    // the mode can be checked on its side.
    bmc.set_boot_device("disk", false, Some(BootMode::Bios))
        .await
        .unwrap();
    let seen = boot(sushy.get(&path).await);
    assert_eq!(seen["BootSourceOverrideTarget"], "Hdd");
    assert_eq!(seen["BootSourceOverrideMode"], "Legacy");
    assert_eq!(
        bmc.boot_device().await.unwrap().boot_device.as_deref(),
        Some("disk")
    );

    bmc.set_boot_device("cdrom", true, None).await.unwrap();
    assert_eq!(
        boot(sushy.get(&path).await)["BootSourceOverrideTarget"],
        "Cd"
    );

    // The emulator lists Pxe, Cd, Hdd (and UefiHttp in UEFI mode) only.
    assert_eq!(bmc.supported_boot_devices(), vec!["pxe", "disk", "cdrom"]);
    let err = bmc.set_boot_device("bios", true, None).await.unwrap_err();
    assert!(
        matches!(&err, BmcError::Unsupported(m) if m.contains("BiosSetup") && m.contains(&sushy.address)),
        "{err:?}"
    );
    assert_eq!(
        boot(sushy.get(&path).await)["BootSourceOverrideTarget"],
        "Cd"
    );
    sushy.stop();
}

#[tokio::test]
async fn sensors_from_the_chassis_thermal_with_units_and_thresholds() {
    let Some((sushy, bmc)) = emulator(SushyOptions::default()).await else {
        return;
    };
    let sensors = bmc.sensors().await.unwrap();
    let system = sushy.get(&sushy.system_path(0)).await;
    let chassis_path = system["Links"]["Chassis"][0]["@odata.id"].as_str().unwrap();
    let chassis = sushy.get(chassis_path).await;
    let thermal = sushy
        .get(chassis["Thermal"]["@odata.id"].as_str().unwrap())
        .await;
    let temps = thermal["Temperatures"].as_array().unwrap();
    let fans = thermal["Fans"].as_array().unwrap();
    assert_eq!(sensors.len(), temps.len() + fans.len(), "{sensors:#?}");

    let intake = sensors
        .iter()
        .find(|s| s.name == "Chassis Intake Temp")
        .unwrap();
    let raw = temps
        .iter()
        .find(|t| t["Name"] == "Chassis Intake Temp")
        .unwrap();
    assert_eq!(intake.kind, SensorKind::Temperature);
    assert_eq!(intake.unit, "celsius");
    assert_eq!(intake.reading, raw["ReadingCelsius"].as_f64());
    assert_eq!(intake.health.as_deref(), Some("ok"));
    assert_eq!(
        intake.thresholds.lower_critical,
        raw["LowerThresholdCritical"].as_f64()
    );
    assert_eq!(
        intake.thresholds.upper_critical,
        raw["UpperThresholdCritical"].as_f64()
    );
    assert!(intake.thresholds.lower_non_critical.is_some());

    let fan = sensors.iter().find(|s| s.kind == SensorKind::Fan).unwrap();
    assert_eq!(fan.unit, "rpm");
    assert_eq!(fan.reading, fans[0]["Reading"].as_f64());
    // The emulator's chassis has no Power resource: no voltage or power.
    assert!(chassis.get("Power").is_none());
    assert!(sensors
        .iter()
        .all(|s| matches!(s.kind, SensorKind::Temperature | SensorKind::Fan)));
    sushy.stop();
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_and_session_needs_a_session_service() {
    let Some(sushy) = Sushy::start(SushyOptions::default()).await else {
        return;
    };
    let conf = config("");
    let mut info = sushy.driver_info(0);
    info["redfish_password"] = json!("wrong");
    for auth_type in ["basic", "auto"] {
        info["redfish_auth_type"] = json!(auth_type);
        let err = bmc(&conf, &info).unwrap().power_state().await.unwrap_err();
        assert!(
            matches!(&err, BmcError::Auth(m) if m.contains(&sushy.address) && m.contains("HTTP 401") && m.contains("redfish_password")),
            "{auth_type}: {err:?}"
        );
    }
    // No session service in the emulator: `session` says so, `auto`
    // (above and below) falls back to basic as sushy does.
    let mut good = sushy.driver_info(0);
    good["redfish_auth_type"] = json!("session");
    let err = bmc(&conf, &good).unwrap().power_state().await.unwrap_err();
    assert!(
        matches!(&err, BmcError::Unsupported(m) if m.contains("SessionService")),
        "{err:?}"
    );
    good["redfish_auth_type"] = json!("auto");
    assert_eq!(
        bmc(&conf, &good).unwrap().power_state().await.unwrap(),
        PowerState::PowerOff
    );
    sushy.stop();
}

#[tokio::test]
async fn several_systems_need_a_system_id_and_nmi_is_refused() {
    let opts = SushyOptions {
        systems: 2,
        credentials: None,
        ..SushyOptions::default()
    };
    let Some(sushy) = Sushy::start(opts).await else {
        return;
    };
    let conf = config("");
    let err = bmc(&conf, &json!({"redfish_address": sushy.address}))
        .unwrap()
        .power_state()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BmcError::Config(m) if m.contains("redfish_system_id") && m.contains(&sushy.systems[1])),
        "{err:?}"
    );
    let second = bmc(
        &conf,
        &json!({"redfish_address": sushy.address, "redfish_system_id": sushy.system_path(1)}),
    )
    .unwrap();
    assert_eq!(second.power_state().await.unwrap(), PowerState::PowerOff);
    // The fake driver answers 501 to an Nmi reset.
    let err = second.inject_nmi().await.unwrap_err();
    assert!(
        matches!(&err, BmcError::Unsupported(m) if m.contains("HTTP 501")),
        "{err:?}"
    );
    sushy.stop();
}

#[tokio::test]
async fn tls_verification_off_with_a_ca_and_on() {
    let opts = SushyOptions {
        tls: true,
        ..SushyOptions::default()
    };
    let Some(sushy) = Sushy::start(opts).await else {
        return;
    };
    let conf = config("connection_attempts = 1");
    let mut info = sushy.driver_info(0);
    // The test CA as redfish_verify_ca (a file), and its directory.
    assert_eq!(
        bmc(&conf, &info).unwrap().power_state().await.unwrap(),
        PowerState::PowerOff
    );
    let ca_dir = sushy.dir.path().join("cas");
    std::fs::create_dir(&ca_dir).unwrap();
    std::fs::copy(sushy.ca_file.as_ref().unwrap(), ca_dir.join("ca.pem")).unwrap();
    info["redfish_verify_ca"] = json!(ca_dir.display().to_string());
    assert_eq!(
        bmc(&conf, &info).unwrap().power_state().await.unwrap(),
        PowerState::PowerOff
    );
    info["redfish_verify_ca"] = json!(false);
    assert_eq!(
        bmc(&conf, &info).unwrap().power_state().await.unwrap(),
        PowerState::PowerOff
    );
    // Default (true): the built-in roots do not know the test CA.
    for verify in [json!(true), json!("yes")] {
        info["redfish_verify_ca"] = verify;
        let err = bmc(&conf, &info).unwrap().power_state().await.unwrap_err();
        assert!(
            matches!(&err, BmcError::Failed(m) if m.contains("redfish_verify_ca") && m.contains(&sushy.address)),
            "{err:?}"
        );
    }
    sushy.stop();
}

#[tokio::test]
async fn unreachable_bmc_fails_within_the_timeouts() {
    let conf = config(
        "connect_timeout = 2\nread_timeout = 2\nconnection_attempts = 2\nconnection_retry_interval = 1",
    );
    // Nothing listens: refused, retried once, then Unreachable.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let started = Instant::now();
    let err = bmc(&conf, &json!({"redfish_address": address}))
        .unwrap()
        .power_state()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BmcError::Unreachable(m) if m.contains(&address) && m.contains("2 attempt")),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Accepts the connection but never answers: the read timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let started = Instant::now();
    let err = bmc(
        &conf,
        &json!({"redfish_address": address, "redfish_auth_type": "basic"}),
    )
    .unwrap()
    .power_state()
    .await
    .unwrap_err();
    assert!(
        matches!(&err, BmcError::Unreachable(m) if m.contains(&address) && m.contains("read_timeout")),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}

#[tokio::test]
async fn driver_info_errors_come_before_any_connection() {
    let conf = config("");
    let err = bmc(&conf, &json!({"redfish_password": "x"})).err().unwrap();
    assert_eq!(
        err,
        BmcError::Config(format!(
            "Missing the following Redfish properties in node {NODE} driver_info: ['redfish_address']"
        ))
    );
    let err = bmc(
        &conf,
        &json!({"redfish_address": "127.0.0.1:1", "redfish_verify_ca": "/no/such/ca"}),
    )
    .err()
    .unwrap();
    assert!(matches!(err, BmcError::Config(_)), "{err:?}");
}

/// A minimal Redfish service with a SessionService, for what sushy-tools
/// lacks: every resource but the root and the login wants the current
/// X-Auth-Token; `expire` forgets it as a BMC does when a session times out.
struct SessionMock {
    address: String,
    state: actix_web::web::Data<MockState>,
    handle: actix_web::dev::ServerHandle,
}

struct MockState {
    password: &'static str,
    token: std::sync::Mutex<Option<String>>,
    logins: std::sync::atomic::AtomicUsize,
}

async fn session_mock_handler(
    req: actix_web::HttpRequest,
    body: actix_web::web::Bytes,
    st: actix_web::web::Data<MockState>,
) -> actix_web::HttpResponse {
    use actix_web::HttpResponse;
    use std::sync::atomic::Ordering;
    let error = |status: u16, message: &str| {
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(
            json!({"error": {"code": "Base.1.0.GeneralError", "message": message,
                "@Message.ExtendedInfo": [{"MessageId": "Base.1.0.NoValidSession",
                    "Message": format!("{message} (mock)")}]}}),
        )
    };
    let sessions = "/redfish/v1/SessionService/Sessions";
    match (req.method().as_str(), req.path().trim_end_matches('/')) {
        ("GET", "/redfish/v1") => {
            return HttpResponse::Ok().json(json!({
                "Systems": {"@odata.id": "/redfish/v1/Systems"},
                "Links": {"Sessions": {"@odata.id": sessions}},
            }))
        }
        ("POST", p) if p == sessions => {
            let creds: Value = serde_json::from_slice(&body).unwrap_or_default();
            if creds["UserName"] != "admin" || creds["Password"] != st.password {
                return error(401, "Invalid credentials");
            }
            let n = st.logins.fetch_add(1, Ordering::SeqCst) + 1;
            let token = format!("token-{n}");
            *st.token.lock().unwrap() = Some(token.clone());
            return HttpResponse::Created()
                .insert_header(("X-Auth-Token", token))
                .insert_header(("Location", format!("{sessions}/{n}")))
                .json(json!({"Id": n.to_string()}));
        }
        _ => {}
    }
    let sent = req
        .headers()
        .get("X-Auth-Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if sent.is_none() || sent != *st.token.lock().unwrap() {
        return error(401, "No valid session");
    }
    match (req.method().as_str(), req.path().trim_end_matches('/')) {
        ("GET", "/redfish/v1/Systems") => {
            HttpResponse::Ok().json(json!({"Members": [{"@odata.id": "/redfish/v1/Systems/1"}]}))
        }
        ("GET", "/redfish/v1/Systems/1") => HttpResponse::Ok()
            .json(json!({"@odata.id": "/redfish/v1/Systems/1", "PowerState": "On"})),
        _ => error(404, "Not found"),
    }
}

impl SessionMock {
    async fn start() -> SessionMock {
        let state = actix_web::web::Data::new(MockState {
            password: "secret",
            token: std::sync::Mutex::new(None),
            logins: std::sync::atomic::AtomicUsize::new(0),
        });
        let data = state.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .default_service(actix_web::web::to(session_mock_handler))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        SessionMock {
            address: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    fn logins(&self) -> usize {
        self.state.logins.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn expire(&self) {
        *self.state.token.lock().unwrap() = None;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_reused_renewed_on_401_and_refused_on_bad_credentials() {
    let mock = SessionMock::start().await;
    let conf = config("connection_attempts = 1");
    let info = |auth: &str, password: &str| {
        json!({"redfish_address": mock.address, "redfish_username": "admin",
            "redfish_password": password, "redfish_auth_type": auth})
    };
    let bmc_session = bmc(&conf, &info("session", "secret")).unwrap();
    assert_eq!(
        bmc_session.power_state().await.unwrap(),
        PowerState::PowerOn
    );
    assert_eq!(
        bmc_session.power_state().await.unwrap(),
        PowerState::PowerOn
    );
    assert_eq!(mock.logins(), 1, "one session for both calls");
    mock.expire();
    assert_eq!(
        bmc_session.power_state().await.unwrap(),
        PowerState::PowerOn
    );
    assert_eq!(mock.logins(), 2, "a 401 renews the session");

    // `auto` takes the session the service offers.
    let bmc_auto = bmc(&conf, &info("auto", "secret")).unwrap();
    assert_eq!(bmc_auto.power_state().await.unwrap(), PowerState::PowerOn);
    assert_eq!(mock.logins(), 3);

    // A refused login: `session` reports it; `auto` falls back to basic,
    // which this service refuses too.
    for auth in ["session", "auto"] {
        let err = bmc(&conf, &info(auth, "wrong"))
            .unwrap()
            .power_state()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, BmcError::Auth(m) if m.contains(&mock.address) && m.contains("HTTP 401")),
            "{auth}: {err:?}"
        );
    }
    assert_eq!(mock.logins(), 3);
    mock.handle.stop(true).await;
}
