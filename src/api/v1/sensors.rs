//! `GET /v1/nodes/{node}/sensors`, a Berth extension: the BMC sensor
//! readings the conductor collected (`[sensor_data]`). Without `since`,
//! the node's newest collection; with it, every retained sample since that
//! time, oldest first, at most `[api]max_limit`. `sensor_type` narrows
//! either to one family.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::node_access::node_with_rule;
use super::views::{only_arguments, timestamp};
use crate::api::ApiState;
use crate::db::datastore::node_sensor_sample::{
    node_sensor_samples_list, SampleWindow, SensorSampleRow,
};
use crate::drivers::bmc::SensorKind;
use crate::error::{Error, Result};

const RULE: &str = "berth:node:sensors:get";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/nodes/{node}/sensors", web::get().to(list));
}

fn view(s: &SensorSampleRow) -> Value {
    json!({
        "sensor_type": s.sensor_type,
        "name": s.name,
        "reading": s.reading,
        "unit": s.unit,
        "health": s.health,
        "thresholds": {
            "lower_critical": s.lower_critical,
            "lower_non_critical": s.lower_non_critical,
            "upper_non_critical": s.upper_non_critical,
            "upper_critical": s.upper_critical,
        },
        "collected_at": timestamp(Some(s.collected_at)),
    })
}

/// An ISO 8601 time; one with an offset is converted to UTC, one without
/// is taken as UTC (as Ironic stores times).
pub fn parse_time(name: &str, raw: &str) -> Result<NaiveDateTime> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(t);
        }
    }
    Err(Error::InvalidParameter(format!(
        "Invalid {name} {raw:?}: expected an ISO 8601 time such as 2026-12-07T22:00:00+00:00"
    )))
}

async fn list(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse> {
    only_arguments(&q, &["sensor_type", "since"])?;
    let sensor_type = match q.get("sensor_type") {
        Some(t) => Some(SensorKind::parse(t).ok_or_else(|| {
            Error::InvalidParameter(format!(
                "Invalid sensor_type {t:?}: expected one of {}",
                SensorKind::ALL.map(SensorKind::as_str).join(", ")
            ))
        })?),
        None => None,
    };
    let since = q.get("since").map(|s| parse_time("since", s)).transpose()?;
    let node = node_with_rule(&state, &req, &path.into_inner(), RULE).await?;
    let (id, limit) = (
        node.id,
        i64::try_from(state.conf.api.max_limit).unwrap_or(i64::MAX),
    );
    let kind = sensor_type.map(SensorKind::as_str);
    let rows = state
        .datastore
        .run(move |c| {
            let window = match since {
                Some(since) => SampleWindow::Since { since, limit },
                None => SampleWindow::Latest,
            };
            node_sensor_samples_list(c, id, window, kind)
        })
        .await?;
    let collected_at = rows.iter().map(|s| s.collected_at).max();
    Ok(HttpResponse::Ok().json(json!({
        "node_uuid": node.uuid,
        "collected_at": timestamp(collected_at),
        "sensors": rows.iter().map(view).collect::<Vec<_>>(),
    })))
}
