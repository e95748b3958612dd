//! Sensor data end to end against real BMCs: the conductor's periodic
//! collection reads OpenIPMI's `ipmi_sim` (its SDR) and sushy-tools'
//! Redfish Thermal, and the readings come out of
//! `GET /v1/nodes/{node}/sensors`, `/metrics` and the real
//! `openstack berth node sensor list`, equal to what ipmitool and the
//! emulator's own API report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::cli::Cli;
use common::ipmi_sim::{IpmiSim, SENSORS};
use common::sushy::{Sushy, SushyOptions};
use common::{cli_field, client, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::Value;

const V: &str = "1.115";

fn conf(data_types: &str) -> String {
    format!(
        "[DEFAULT]\nauth_strategy = noauth\n[ipmi]\nmin_command_interval = 0\n\
         command_retry_timeout = 6\n[conductor]\nsync_power_state_interval = 0\n\
         [sensor_data]\nsend_sensor_data = true\ninterval = 2\nwait_timeout = 30\n\
         enable_for_undeployed_nodes = true\ndata_types = {data_types}\n"
    )
}

/// The node's newest collection, once there is one (60 s at most).
async fn collected(base: &str, node: &str) -> Value {
    let url = format!("{base}/v1/nodes/{node}/sensors");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = ok_json(send(&client(), M::GET, &url, V, None).await, 200).await;
        if !s["sensors"].as_array().unwrap().is_empty() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "no sensors collected for {node}: {s}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn find<'a>(sensors: &'a Value, name: &str) -> &'a Value {
    sensors
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name || cli_field(s, "name") == name)
        .unwrap_or_else(|| panic!("no sensor {name} in {sensors}"))
}

async fn metrics(base: &str) -> String {
    let resp = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn ipmi_sdr_sensors_reach_api_metrics_and_cli() {
    let Some(mut sim) = IpmiSim::start() else {
        return;
    };
    let berth = TestBerth::start(&conf("ALL")).await;
    let Some(cli) = Cli::find(&berth.base) else {
        berth.stop().await;
        return;
    };
    let node = cli.create_node("ipmi", "rack1-ipmi", &sim.driver_info());
    let got = collected(&berth.base, &node).await;
    let sensors = &got["sensors"];
    // Every SDR sensor of a kind Berth reports, none other ("CPU Usage").
    assert_eq!(
        sensors.as_array().unwrap().len(),
        SENSORS.len() - 1,
        "{got}"
    );
    assert!(!got.to_string().contains("CPU Usage"));
    let text = metrics(&berth.base).await;
    let labels = format!("node_uuid=\"{node}\",node_name=\"rack1-ipmi\",instance_uuid=\"\"");
    let units = ["celsius", "rpm", "volts", "amperes", "watts"];
    for (s, unit) in SENSORS.iter().zip(units) {
        let ours = find(sensors, s.name);
        // The BMC's own view, through ipmitool.
        let (reading, thresholds) = sim.sensor(s.name);
        let value = ours["reading"].as_f64().unwrap();
        assert!(
            (value - reading).abs() < 1e-3,
            "{}: {ours} vs {reading}",
            s.name
        );
        assert_eq!(ours["unit"], unit);
        assert_eq!(ours["health"], "ok");
        for (label, key) in [
            ("Lower Critical", "lower_critical"),
            ("Upper Critical", "upper_critical"),
        ] {
            let theirs = thresholds.iter().find(|(k, _)| k == label).map(|(_, v)| *v);
            let mine = ours["thresholds"][key].as_f64();
            match (mine, theirs) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-3, "{}: {key}", s.name),
                (None, None) => {}
                _ => panic!("{}: {key} {mine:?} vs ipmitool {theirs:?}", s.name),
            }
        }
        let kind = ours["sensor_type"].as_str().unwrap().to_ascii_lowercase();
        let line = format!(
            "baremetal_{kind}_{unit}{{{labels},sensor_id=\"{}\"}} ",
            s.name
        );
        let shown = text
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("no {line} in /metrics:\n{text}"));
        assert!(
            (shown.parse::<f64>().unwrap() - reading).abs() < 1e-3,
            "{line}{shown}"
        );
    }
    assert!(text.contains(&format!(
        "baremetal_temperature_celsius_threshold{{{labels},sensor_id=\"CPU Temp\",threshold=\"upper_critical\"}} 85\n"
    )));

    // The OSC plugin shows the same rows.
    let rows = cli.json(&["berth", "node", "sensor", "list", "rack1-ipmi", "--long"]);
    assert_eq!(rows.as_array().unwrap().len(), SENSORS.len() - 1, "{rows}");
    let cpu = find(&rows, "CPU Temp");
    assert_eq!(cli_field(cpu, "Sensor Type"), "Temperature");
    assert_eq!(
        cli_field(cpu, "Reading").as_f64(),
        Some(SENSORS[0].value(SENSORS[0].raw))
    );
    assert_eq!(cli_field(cpu, "Upper Critical").as_f64(), Some(85.0));
    let fans = cli.json(&[
        "berth",
        "node",
        "sensor",
        "list",
        &node,
        "--sensor-type",
        "Fan",
    ]);
    assert_eq!(fans.as_array().unwrap().len(), 1, "{fans}");
    assert_eq!(cli_field(&fans[0], "Name"), "Fan 1");
    let err = cli.fails(&["berth", "node", "sensor", "list", "no-such-node"]);
    assert!(
        err.contains("Node no-such-node could not be found."),
        "{err}"
    );

    berth.stop().await;
    sim.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn redfish_thermal_sensors_with_a_type_filter() {
    let Some(sushy) = Sushy::start(SushyOptions::default()).await else {
        return;
    };
    let berth = TestBerth::start(&conf("Temperature")).await;
    let Some(cli) = Cli::find(&berth.base) else {
        berth.stop().await;
        sushy.stop();
        return;
    };
    let node = cli.create_node("redfish", "rack1-redfish", &sushy.driver_info(0));
    let got = collected(&berth.base, &node).await;

    let system = sushy.get(&sushy.system_path(0)).await;
    let chassis = system["Links"]["Chassis"][0]["@odata.id"].as_str().unwrap();
    let chassis = sushy.get(chassis).await;
    let thermal = sushy
        .get(chassis["Thermal"]["@odata.id"].as_str().unwrap())
        .await;
    let temps = thermal["Temperatures"].as_array().unwrap();
    assert!(!thermal["Fans"].as_array().unwrap().is_empty());
    // data_types = Temperature: the emulator's fans are read but not kept.
    let sensors = got["sensors"].as_array().unwrap();
    assert_eq!(sensors.len(), temps.len(), "{got}");
    let text = metrics(&berth.base).await;
    for t in temps {
        let name = t["Name"].as_str().unwrap();
        let ours = find(&got["sensors"], name);
        assert_eq!(ours["sensor_type"], "Temperature");
        assert_eq!(ours["reading"].as_f64(), t["ReadingCelsius"].as_f64());
        assert_eq!(
            ours["thresholds"]["upper_critical"].as_f64(),
            t["UpperThresholdCritical"].as_f64()
        );
        let line = format!(
            "baremetal_temperature_celsius{{node_uuid=\"{node}\",node_name=\"rack1-redfish\",\
             instance_uuid=\"\",sensor_id=\"{name}\"}} {}",
            t["ReadingCelsius"].as_f64().unwrap()
        );
        assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
    }
    assert!(!text.contains("baremetal_fan_rpm"), "{text}");
    let rows = cli.json(&["berth", "node", "sensor", "list", "rack1-redfish"]);
    assert_eq!(rows.as_array().unwrap().len(), temps.len());
    berth.stop().await;
    sushy.stop();
}
