//! Sensor readings from a chassis' `Thermal` (Temperatures, Fans) and
//! `Power` (Voltages, PowerSupplies, PowerControl) resources.

use serde_json::Value;

use crate::drivers::bmc::{SensorKind, SensorReading, Thresholds};

fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn thresholds(v: &Value) -> Thresholds {
    Thresholds {
        lower_critical: number(v, "LowerThresholdCritical"),
        lower_non_critical: number(v, "LowerThresholdNonCritical"),
        upper_non_critical: number(v, "UpperThresholdNonCritical"),
        upper_critical: number(v, "UpperThresholdCritical"),
    }
}

fn health(v: &Value) -> Option<String> {
    v.pointer("/Status/Health")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

/// A sensor whose `Status.State` says it is not there has no reading.
fn present(v: &Value) -> bool {
    !matches!(
        v.pointer("/Status/State").and_then(Value::as_str),
        Some("Absent") | Some("Disabled") | Some("UnavailableOffline")
    )
}

fn name(v: &Value, fallback_key: &str, kind: SensorKind) -> String {
    v.get("Name")
        .or_else(|| v.get(fallback_key))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let member = v.get("MemberId").and_then(Value::as_str).unwrap_or("?");
            format!("{} {member}", kind.as_str())
        })
}

fn reading(
    v: &Value,
    kind: SensorKind,
    name: String,
    value_key: &str,
    unit: &str,
) -> SensorReading {
    SensorReading {
        kind,
        name,
        reading: if present(v) {
            number(v, value_key)
        } else {
            None
        },
        unit: unit.to_string(),
        health: health(v),
        thresholds: thresholds(v),
    }
}

fn members<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Temperatures (°C) and fans (RPM, or percent where the BMC says so).
pub fn thermal(thermal: &Value) -> Vec<SensorReading> {
    let mut out = Vec::new();
    for t in members(thermal, "Temperatures") {
        let n = name(t, "Name", SensorKind::Temperature);
        out.push(reading(
            t,
            SensorKind::Temperature,
            n,
            "ReadingCelsius",
            "celsius",
        ));
    }
    for f in members(thermal, "Fans") {
        let unit = match f.get("ReadingUnits").and_then(Value::as_str) {
            Some("Percent") => "percent",
            _ => "rpm",
        };
        let n = name(f, "FanName", SensorKind::Fan);
        out.push(reading(f, SensorKind::Fan, n, "Reading", unit));
    }
    out
}

/// Voltages, power supplies' output (and input voltage) and the chassis'
/// consumed power.
pub fn power(power: &Value) -> Vec<SensorReading> {
    let mut out = Vec::new();
    for v in members(power, "Voltages") {
        let n = name(v, "Name", SensorKind::Voltage);
        out.push(reading(v, SensorKind::Voltage, n, "ReadingVolts", "volts"));
    }
    for psu in members(power, "PowerSupplies") {
        let n = name(psu, "Name", SensorKind::Power);
        if psu.get("LineInputVoltage").is_some() {
            let mut input = reading(
                psu,
                SensorKind::Voltage,
                format!("{n} Input Voltage"),
                "LineInputVoltage",
                "volts",
            );
            input.thresholds = Thresholds::default();
            out.push(input);
        }
        let mut output = reading(psu, SensorKind::Power, n, "LastPowerOutputWatts", "watts");
        output.thresholds = Thresholds {
            upper_critical: number(psu, "PowerCapacityWatts"),
            ..Thresholds::default()
        };
        out.push(output);
    }
    for pc in members(power, "PowerControl") {
        let n = name(pc, "Name", SensorKind::Power);
        let mut consumed = reading(pc, SensorKind::Power, n, "PowerConsumedWatts", "watts");
        consumed.thresholds = Thresholds {
            upper_critical: number(pc, "PowerCapacityWatts"),
            ..Thresholds::default()
        };
        out.push(consumed);
    }
    out
}

/// Makes names unique per node: a repeated name gets `@<chassis>`, as
/// Ironic's sensor keys do.
pub fn push_unique(all: &mut Vec<SensorReading>, mut s: SensorReading, chassis: &str) {
    if all.iter().any(|o| o.name == s.name) {
        s.name = format!("{}@{chassis}", s.name);
    }
    let mut n = 2;
    let base = s.name.clone();
    while all.iter().any(|o| o.name == s.name) {
        s.name = format!("{base} #{n}");
        n += 1;
    }
    all.push(s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thermal_readings_carry_units_and_thresholds() {
        let t = json!({
            "Temperatures": [{"MemberId": "0", "Name": "CPU Temp", "ReadingCelsius": 41,
                "UpperThresholdNonCritical": 42, "UpperThresholdCritical": 45,
                "LowerThresholdCritical": 5, "Status": {"State": "Enabled", "Health": "OK"}},
                {"MemberId": "1", "Name": "Gone", "ReadingCelsius": 0,
                "Status": {"State": "Absent"}}],
            "Fans": [{"MemberId": "0", "FanName": "Fan 1", "Reading": 40, "ReadingUnits": "Percent",
                "Status": {"Health": "Warning"}}],
        });
        let s = thermal(&t);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].kind, SensorKind::Temperature);
        assert_eq!(s[0].reading, Some(41.0));
        assert_eq!(s[0].unit, "celsius");
        assert_eq!(s[0].health.as_deref(), Some("ok"));
        assert_eq!(
            s[0].thresholds,
            Thresholds {
                lower_critical: Some(5.0),
                lower_non_critical: None,
                upper_non_critical: Some(42.0),
                upper_critical: Some(45.0)
            }
        );
        assert_eq!(s[1].reading, None);
        assert_eq!(
            (s[2].name.as_str(), s[2].unit.as_str()),
            ("Fan 1", "percent")
        );
        assert_eq!(s[2].health.as_deref(), Some("warning"));
    }

    #[test]
    fn power_readings_cover_voltages_supplies_and_control() {
        let p = json!({
            "Voltages": [{"Name": "VRM1 Voltage", "ReadingVolts": 12.1, "UpperThresholdCritical": 13}],
            "PowerSupplies": [{"Name": "PSU1", "LineInputVoltage": 230, "LastPowerOutputWatts": 180,
                "PowerCapacityWatts": 800}],
            "PowerControl": [{"Name": "System Power", "PowerConsumedWatts": 200}],
        });
        let s = power(&p);
        let kinds: Vec<_> = s
            .iter()
            .map(|r| (r.kind, r.name.as_str(), r.unit.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (SensorKind::Voltage, "VRM1 Voltage", "volts"),
                (SensorKind::Voltage, "PSU1 Input Voltage", "volts"),
                (SensorKind::Power, "PSU1", "watts"),
                (SensorKind::Power, "System Power", "watts"),
            ]
        );
        assert_eq!(s[2].thresholds.upper_critical, Some(800.0));
        let mut all = Vec::new();
        push_unique(&mut all, s[0].clone(), "1");
        push_unique(&mut all, s[0].clone(), "2");
        assert_eq!(all[1].name, "VRM1 Voltage@2");
    }
}
