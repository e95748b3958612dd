//! BMC sensor gauges for `/metrics`, rendered from the newest stored
//! collection of every node. Names and node labels follow
//! ironic-prometheus-exporter (`baremetal_…`, `node_uuid`, `node_name`,
//! `instance_uuid`, `sensor_id`), with the unit in the name:
//!
//! - `baremetal_<type>_<unit>`: the reading (`baremetal_temperature_celsius`,
//!   `baremetal_fan_rpm`, `baremetal_voltage_volts`, `baremetal_current_amperes`,
//!   `baremetal_power_watts`); a sensor without a value has no sample;
//! - `baremetal_<type>_<unit>_threshold{threshold="upper_critical"|…}`;
//! - `baremetal_sensor_health`: 0 ok, 1 warning, 2 critical, as the BMC says;
//! - `baremetal_sensor_collected_timestamp_seconds`: when each node was read.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::db::datastore::node_sensor_sample::{SampleNode, SensorSampleRow};

/// Metric name → (help, type, sample lines), kept grouped as the text
/// format requires.
#[derive(Default)]
struct Families(BTreeMap<String, (String, Vec<String>)>);

impl Families {
    fn add(&mut self, name: String, help: impl FnOnce() -> String, labels: &str, value: f64) {
        let entry = self
            .0
            .entry(name.clone())
            .or_insert_with(|| (help(), Vec::new()));
        entry
            .1
            .push(format!("{name}{{{labels}}} {}", number(value)));
    }

    fn render(self, out: &mut String) {
        for (name, (help, lines)) in self.0 {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

/// Prometheus' spelling of a float (`+Inf`, `NaN`, or the shortest form).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `[a-z0-9_]` only, so a BMC's unit cannot break a metric name.
fn name_part(v: &str) -> String {
    v.to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn node_labels(n: &SampleNode) -> String {
    format!(
        "node_uuid=\"{}\",node_name=\"{}\",instance_uuid=\"{}\"",
        escape(&n.uuid),
        escape(n.name.as_deref().unwrap_or("")),
        escape(n.instance_uuid.as_deref().unwrap_or(""))
    )
}

fn health_value(h: &str) -> Option<f64> {
    match h.to_ascii_lowercase().as_str() {
        "ok" => Some(0.0),
        "warning" => Some(1.0),
        "critical" => Some(2.0),
        _ => None,
    }
}

/// Appends the sensor families for `samples` (each node's newest
/// collection) to `out`.
pub fn render(samples: &[(SampleNode, SensorSampleRow)], out: &mut String) {
    let mut f = Families::default();
    let mut collected: BTreeMap<String, (String, f64)> = BTreeMap::new();
    for (node, s) in samples {
        let nl = node_labels(node);
        let sensor = format!("{nl},sensor_id=\"{}\"", escape(&s.name));
        let kind = name_part(&s.sensor_type);
        let base = format!("baremetal_{kind}_{}", name_part(&s.unit));
        let at = s.collected_at.and_utc().timestamp() as f64;
        collected.entry(node.uuid.clone()).or_insert((nl, at));
        if let Some(r) = s.reading {
            let (t, u) = (s.sensor_type.clone(), s.unit.clone());
            f.add(
                base.clone(),
                || format!("{t} sensor reading in {u}."),
                &sensor,
                r,
            );
        }
        let thresholds = [
            ("lower_critical", s.lower_critical),
            ("lower_non_critical", s.lower_non_critical),
            ("upper_non_critical", s.upper_non_critical),
            ("upper_critical", s.upper_critical),
        ];
        for (which, value) in thresholds {
            if let Some(v) = value {
                let (t, u) = (s.sensor_type.clone(), s.unit.clone());
                f.add(
                    format!("{base}_threshold"),
                    || format!("{t} sensor thresholds the BMC publishes, in {u}."),
                    &format!("{sensor},threshold=\"{which}\""),
                    v,
                );
            }
        }
        if let Some(h) = s.health.as_deref().and_then(health_value) {
            f.add(
                "baremetal_sensor_health".into(),
                || "Sensor health as the BMC judges it: 0 ok, 1 warning, 2 critical.".into(),
                &format!("{sensor},sensor_type=\"{}\"", escape(&s.sensor_type)),
                h,
            );
        }
    }
    for (nl, at) in collected.into_values() {
        f.add(
            "baremetal_sensor_collected_timestamp_seconds".into(),
            || "Unix time of the newest sensor collection from the node's BMC.".into(),
            &nl,
            at,
        );
    }
    f.render(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, name: &str, reading: Option<f64>, unit: &str) -> SensorSampleRow {
        SensorSampleRow {
            id: 1,
            node_id: 1,
            sensor_type: kind.into(),
            name: name.into(),
            reading,
            unit: unit.into(),
            health: Some("ok".into()),
            lower_critical: None,
            lower_non_critical: None,
            upper_non_critical: Some(80.0),
            upper_critical: Some(90.5),
            latest: true,
            collected_at: chrono::DateTime::from_timestamp(1_800_000_000, 0)
                .unwrap()
                .naive_utc(),
        }
    }

    #[test]
    fn renders_grouped_families_with_node_labels() {
        let node = SampleNode {
            uuid: "u-1".into(),
            name: Some("rack1-\"a\"".into()),
            instance_uuid: None,
        };
        let samples = vec![
            (
                node.clone(),
                row("Temperature", "CPU Temp", Some(43.0), "celsius"),
            ),
            (node.clone(), row("Fan", "FAN 1", Some(5400.0), "rpm")),
            (node.clone(), row("Temperature", "Inlet", None, "celsius")),
        ];
        let mut out = String::new();
        render(&samples, &mut out);
        let labels = r#"node_uuid="u-1",node_name="rack1-\"a\"",instance_uuid="""#;
        assert!(
            out.contains(&format!(
                "baremetal_temperature_celsius{{{labels},sensor_id=\"CPU Temp\"}} 43\n"
            )),
            "{out}"
        );
        assert!(out.contains(&format!(
            "baremetal_fan_rpm{{{labels},sensor_id=\"FAN 1\"}} 5400\n"
        )));
        // No value, no sample; its thresholds still show.
        assert!(!out.contains("sensor_id=\"Inlet\"} "));
        assert!(out.contains(&format!(
            "baremetal_temperature_celsius_threshold{{{labels},sensor_id=\"Inlet\",threshold=\"upper_critical\"}} 90.5\n"
        )));
        assert!(out.contains(&format!(
            "baremetal_sensor_collected_timestamp_seconds{{{labels}}} 1800000000\n"
        )));
        // One HELP/TYPE per family, before its samples.
        assert_eq!(
            out.matches("# TYPE baremetal_temperature_celsius gauge")
                .count(),
            1
        );
        assert_eq!(
            out.matches("# TYPE baremetal_sensor_health gauge").count(),
            1
        );
        assert_eq!(out.matches("baremetal_sensor_health{").count(), 3);
    }
}
