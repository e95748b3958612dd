//! Prometheus metrics at `/metrics` (text exposition format 0.0.4).
//!
//! Request counts and latency per method, route pattern and status. Route
//! patterns, not raw paths, keep the label set bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{web, HttpResponse};

use super::ApiState;
use crate::db::datastore::node_sensor_sample::node_sensor_samples_latest_all;

const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    /// Cumulative counts per bucket of `BUCKETS`.
    buckets: Vec<u64>,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let Ok(mut map) = self.requests.lock() else {
            return;
        };
        let s = map
            .entry((method.to_string(), route.to_string(), status))
            .or_insert_with(|| Series {
                buckets: vec![0; BUCKETS.len()],
                ..Default::default()
            });
        s.count += 1;
        s.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP berth_build_info Berth version serving this API."
        );
        let _ = writeln!(out, "# TYPE berth_build_info gauge");
        let _ = writeln!(
            out,
            "berth_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let snapshot = match self.requests.lock() {
            Ok(map) => map.clone(),
            Err(_) => BTreeMap::new(),
        };
        let _ = writeln!(out, "# HELP berth_api_requests_total API requests handled.");
        let _ = writeln!(out, "# TYPE berth_api_requests_total counter");
        for ((m, r, st), s) in &snapshot {
            let _ = writeln!(
                out,
                "berth_api_requests_total{{method=\"{m}\",route=\"{}\",status=\"{st}\"}} {}",
                escape(r),
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP berth_api_request_duration_seconds API request latency."
        );
        let _ = writeln!(out, "# TYPE berth_api_request_duration_seconds histogram");
        // Merge statuses: latency is per method and route.
        let mut merged: BTreeMap<(String, String), Series> = BTreeMap::new();
        for ((m, r, _), s) in &snapshot {
            let e = merged
                .entry((m.clone(), r.clone()))
                .or_insert_with(|| Series {
                    buckets: vec![0; BUCKETS.len()],
                    ..Default::default()
                });
            e.count += s.count;
            e.sum += s.sum;
            for (i, b) in s.buckets.iter().enumerate() {
                e.buckets[i] += b;
            }
        }
        for ((m, r), s) in &merged {
            let labels = format!("method=\"{m}\",route=\"{}\"", escape(r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "berth_api_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "berth_api_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "berth_api_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "berth_api_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Request metrics, then the BMC sensor gauges of the stored samples. A
/// database failure drops the sensor part, not the scrape.
pub async fn render(state: web::Data<ApiState>) -> HttpResponse {
    let mut body = state.metrics.render();
    match state.datastore.run(node_sensor_samples_latest_all).await {
        Ok(samples) => super::sensor_metrics::render(&samples, &mut body),
        Err(e) => tracing::warn!(error = %e, "sensor samples not readable for /metrics"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/v1/nodes", 200, Duration::from_millis(3));
        m.observe("GET", "/v1/nodes", 200, Duration::from_millis(300));
        let text = m.render();
        assert!(text.contains(
            "berth_api_requests_total{method=\"GET\",route=\"/v1/nodes\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
    }
}
