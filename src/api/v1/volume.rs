//! `/v1/volume` and `/v1/nodes/{node}/volume` (Ironic 1.32): the link
//! documents of the volume API, and what its two collections share —
//! listing arguments, list policy and the views' field selection.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::node_access::{allowed_on_node, denied};
use crate::api::microversion::Version;
use crate::api::middleware::{context_of, version_of};
use crate::api::ApiState;
use crate::db::datastore::node::{node_get_by_uuid, NodeRow};
use crate::error::{Error, Result};

/// Volume connectors and targets appeared in 1.32.
pub const VOLUME: Version = Version::new(1, 32);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/volume", web::get().to(root))
        .route("/v1/volume/", web::get().to(root))
        .route("/v1/nodes/{node}/volume", web::get().to(node_root))
        .route("/v1/nodes/{node}/volume/", web::get().to(node_root));
}

/// Below 1.32 the volume root answers as Ironic's version guard does.
fn not_supported() -> Error {
    Error::NotFound("The API is not supported for this version".into())
}

fn link_pair(base: &str, path: &str) -> Value {
    json!([
        {"href": format!("{base}/v1/{path}"), "rel": "self"},
        {"href": format!("{base}/{path}"), "rel": "bookmark"},
    ])
}

fn document(base: &str, prefix: &str) -> Value {
    json!({
        "links": link_pair(base, prefix),
        "connectors": link_pair(base, &format!("{prefix}connectors")),
        "targets": link_pair(base, &format!("{prefix}targets")),
    })
}

fn check_get(state: &ApiState, req: &HttpRequest) -> Result<()> {
    if allowed_on_node(state, req, "baremetal:volume:get", None, None) {
        Ok(())
    } else {
        Err(denied("baremetal:volume:get"))
    }
}

async fn root(state: web::Data<ApiState>, req: HttpRequest) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Err(not_supported());
    }
    check_get(&state, &req)?;
    let base = crate::api::links::base_url(&state, &req);
    Ok(HttpResponse::Ok().json(document(&base, "volume/")))
}

/// As Ironic, the node is not looked up: the document only holds links.
async fn node_root(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    if !version_of(&req).at_least(VOLUME) {
        return Err(not_supported());
    }
    check_get(&state, &req)?;
    let base = crate::api::links::base_url(&state, &req);
    Ok(HttpResponse::Ok().json(document(&base, &format!("nodes/{path}/volume/"))))
}

/// Validated arguments of a connector or target listing.
#[derive(Clone, Debug)]
pub struct ListArgs {
    pub node: Option<String>,
    pub limit: i64,
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
    pub detail: bool,
    /// What each item shows (the default subset unless `detail`).
    pub fields: Option<Vec<String>>,
}

pub use super::field_table::strict_bool as parse_bool;

fn python_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// What a listing of one volume resource accepts.
pub struct ListSpec {
    /// Every field a view has (what `fields=` may name).
    pub fields: &'static [&'static str],
    /// What a list shows without `fields` or `detail`.
    pub default_fields: &'static [&'static str],
    /// Columns Ironic refuses to sort by.
    pub unsortable: &'static [&'static str],
    /// Columns Berth can sort by.
    pub sortable: &'static [&'static str],
}

impl ListArgs {
    pub fn parse(
        q: &HashMap<String, String>,
        spec: &ListSpec,
        max_limit: usize,
        v: Version,
    ) -> Result<ListArgs> {
        const KNOWN: &[&str] = &[
            "detail", "fields", "limit", "marker", "node", "sort_dir", "sort_key",
        ];
        let mut unknown: Vec<&str> = q
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN.contains(k))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(Error::InvalidParameter(format!(
                "Unexpected arguments: {}",
                unknown.join(", ")
            )));
        }
        let max = i64::try_from(max_limit).unwrap_or(i64::MAX);
        let limit = match q.get("limit") {
            None => max,
            Some(raw) => {
                let l: i64 = raw.parse().map_err(|_| {
                    Error::InvalidParameter(format!("Expected an integer for limit: {raw}"))
                })?;
                if l <= 0 {
                    return Err(Error::InvalidParameter("Limit must be positive".into()));
                }
                l.min(max)
            }
        };
        let marker = match q.get("marker") {
            None => None,
            Some(m) if uuid::Uuid::parse_str(m).is_ok() => Some(m.clone()),
            Some(m) => {
                return Err(Error::InvalidParameter(format!(
                    "Expected UUID for marker: {m}"
                )))
            }
        };
        let node = match q.get("node") {
            None => None,
            Some(n) if uuid::Uuid::parse_str(n).is_ok() || is_logical_name(n) => Some(n.clone()),
            Some(n) => {
                return Err(Error::InvalidParameter(format!(
                    "Expected UUID or name for node: {n}"
                )))
            }
        };
        let detail = match q.get("detail") {
            None => false,
            Some(raw) => parse_bool("detail", raw)?,
        };
        let descending = match q.get("sort_dir").map(String::as_str) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(Error::InvalidParameter(format!(
                    "Schema error: '{other}' is not one of ['asc', 'desc']"
                )))
            }
        };
        let fields = match q.get("fields") {
            None => None,
            Some(raw) => {
                if !v.at_least(super::collection::FIELDS_SELECTOR) {
                    return Err(Error::NotAcceptable("Request not acceptable.".into()));
                }
                let list: Vec<String> = raw
                    .split(',')
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect();
                if let Some(bad) = list.iter().find(|f| !spec.fields.contains(&f.as_str())) {
                    return Err(Error::InvalidParameter(format!(
                        "Schema error: '{bad}' is not one of {}",
                        python_list(spec.fields)
                    )));
                }
                Some(list)
            }
        };
        if fields.is_some() && detail {
            return Err(Error::InvalidParameter(
                "Can't fetch a subset of fields with 'detail' set".into(),
            ));
        }
        let sort_key = q.get("sort_key").cloned().unwrap_or_else(|| "id".into());
        if spec.unsortable.contains(&sort_key.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "The sort_key value {sort_key} is an invalid field for sorting"
            )));
        }
        if !spec.sortable.contains(&sort_key.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "The sort_key value \"{sort_key}\" is an invalid field for sorting"
            )));
        }
        let fields = match (fields, detail) {
            (Some(f), _) => Some(f),
            (None, true) => None,
            (None, false) => Some(spec.default_fields.iter().map(|s| s.to_string()).collect()),
        };
        Ok(ListArgs {
            node,
            limit,
            marker,
            sort_key,
            descending,
            detail,
            fields,
        })
    }

    /// Arguments echoed in the `next` link.
    pub fn echo(&self) -> Vec<(&'static str, String)> {
        let mut args = Vec::new();
        if let Some(n) = &self.node {
            args.push(("node", n.clone()));
        }
        if let Some(f) = &self.fields {
            args.push(("fields", f.join(",")));
        }
        if self.detail {
            args.push(("detail", "True".into()));
        }
        args
    }

    pub fn page(&self) -> super::collection::Page {
        super::collection::Page {
            limit: self.limit,
            marker: self.marker.clone(),
            sort_key: self.sort_key.clone(),
            sort_dir: if self.descending {
                super::collection::SortDir::Desc
            } else {
                super::collection::SortDir::Asc
            },
        }
    }
}

pub use super::field_table::is_logical_name;

/// Keeps the requested fields, and always the links, as Ironic does.
pub fn pick(view: Value, fields: Option<&[String]>) -> Value {
    let (Some(fields), Value::Object(map)) = (fields, &view) else {
        return view;
    };
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| k.as_str() == "links" || fields.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

/// Ironic's list policy: the parent node (by UUID only, as Ironic looks it
/// up) must be visible; `list_all` sees everything, `list` the caller's
/// project's nodes (the returned filter).
pub async fn list_scope(
    state: &ApiState,
    req: &HttpRequest,
    parent: Option<&str>,
) -> Result<(Option<NodeRow>, Option<String>)> {
    let parent_row = match parent {
        None => None,
        Some(p) => {
            let u = p.to_string();
            let row = state
                .datastore
                .run(move |c| node_get_by_uuid(c, &u))
                .await
                .map_err(|_| Error::NotFound(format!("Node {p} could not be found.")))?;
            if !allowed_on_node(
                state,
                req,
                "baremetal:node:get",
                row.owner.as_deref(),
                row.lessee.as_deref(),
            ) {
                return Err(Error::NotFound(format!("Node {p} could not be found.")));
            }
            Some(row)
        }
    };
    if allowed_on_node(state, req, "baremetal:volume:list_all", None, None) {
        return Ok((parent_row, None));
    }
    let project = context_of(req)
        .project_id
        .clone()
        .ok_or_else(|| denied("baremetal:volume:list_all"))?;
    if !allowed_on_node(state, req, "baremetal:volume:list", None, None) {
        return Err(denied("baremetal:volume:list"));
    }
    Ok((parent_row, Some(project)))
}

/// The UUID in a volume resource path, or Ironic's 400.
pub fn path_uuid(raw: &str, name: &str) -> Result<String> {
    uuid::Uuid::parse_str(raw)
        .map(|_| raw.to_string())
        .map_err(|_| Error::InvalidParameter(format!("Expected UUID for {name}: {raw}")))
}

/// Ironic's answer to a single-resource request under `/v1/nodes/{node}/volume`.
pub fn malformed() -> Error {
    Error::InvalidParameter("Malformed request URI.".into())
}

/// A schema message for a value that is not a string, as jsonschema words it.
pub fn not_a(kind: &str, resource: &str, v: &Value) -> Error {
    Error::InvalidParameter(format!(
        "Schema error for {resource}: {} is not of type {kind}",
        crate::api::patch::python_repr(v)
    ))
}

/// JSON types of a volume resource's body fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    StrOrNull,
    Int,
    ObjOrNull,
}

impl Kind {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Kind::Str => v.is_string(),
            Kind::StrOrNull => v.is_string() || v.is_null(),
            // Draft 4: a float is never an integer; 32 bits is the column.
            Kind::Int => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
            Kind::ObjOrNull => v.is_object() || v.is_null(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Str => "'string'",
            Kind::StrOrNull => "'string', 'null'",
            Kind::Int => "'integer'",
            Kind::ObjOrNull => "'object', 'null'",
        }
    }
}

/// Ironic's JSON schema check of a volume body: types, then required
/// fields, then unknown fields, with jsonschema's wording.
pub fn check_schema(
    resource: &str,
    body: &Value,
    props: &[(&str, Kind)],
    required: &[&str],
) -> Result<()> {
    let err = |m: String| Error::InvalidParameter(format!("Schema error for {resource}: {m}"));
    let Value::Object(map) = body else {
        return Err(err(format!(
            "{} is not of type 'object'",
            crate::api::patch::python_repr(body)
        )));
    };
    for (name, kind) in props {
        if let Some(v) = map.get(*name) {
            if !kind.accepts(v) {
                return Err(err(format!(
                    "{} is not of type {}",
                    crate::api::patch::python_repr(v),
                    kind.name()
                )));
            }
        }
    }
    if let Some(missing) = required.iter().find(|r| !map.contains_key(**r)) {
        return Err(err(format!("'{missing}' is a required property")));
    }
    let extra: Vec<String> = map
        .keys()
        .filter(|k| !props.iter().any(|(p, _)| p == k))
        .map(|k| format!("'{k}'"))
        .collect();
    match extra.len() {
        0 => Ok(()),
        1 => Err(err(format!(
            "Additional properties are not allowed ({} was unexpected)",
            extra[0]
        ))),
        _ => Err(err(format!(
            "Additional properties are not allowed ({} were unexpected)",
            extra.join(", ")
        ))),
    }
}

/// The node a create names in `node_uuid`, checked as Ironic checks it:
/// `rule` against the node's owner (or no owner when the node is missing),
/// then a missing node is invalid input.
pub async fn node_for_create(
    state: &ApiState,
    req: &HttpRequest,
    node_uuid: &str,
    rule: &str,
) -> Result<NodeRow> {
    let u = node_uuid.to_string();
    let node = state
        .datastore
        .run(move |c| node_get_by_uuid(c, &u))
        .await
        .ok();
    let (owner, lessee) = node
        .as_ref()
        .map_or((None, None), |n| (n.owner.as_deref(), n.lessee.as_deref()));
    if !allowed_on_node(state, req, rule, owner, lessee) {
        return Err(denied(rule));
    }
    node.ok_or_else(|| {
        Error::InvalidParameter(format!(
            "Invalid input for field/attribute node_uuid. Value: '{node_uuid}'. "
        ))
    })
}

/// A PATCH moving a volume resource to another node: the node must be
/// visible and have the same owner, or the value is simply invalid.
pub async fn node_for_move(
    state: &ApiState,
    req: &HttpRequest,
    current_owner: Option<&str>,
    new_uuid: &str,
) -> Result<NodeRow> {
    let invalid = || {
        Error::InvalidParameter(format!(
            "Unable to apply the requested node_uuid '{new_uuid}'. Requested value was invalid."
        ))
    };
    if uuid::Uuid::parse_str(new_uuid).is_err() {
        return Err(Error::InvalidParameter(format!(
            "Expected a UUID for node_uuid, but received {new_uuid}."
        )));
    }
    let u = new_uuid.to_string();
    let node = state
        .datastore
        .run(move |c| node_get_by_uuid(c, &u))
        .await
        .map_err(|_| invalid())?;
    let (owner, lessee) = (node.owner.as_deref(), node.lessee.as_deref());
    if !allowed_on_node(state, req, "baremetal:node:get", owner, lessee) || owner != current_owner {
        return Err(invalid());
    }
    Ok(node)
}

/// The checks every single-resource request makes: `baremetal:node:get` on
/// the owning node (else the resource "does not exist"), then `rule`.
pub fn authorize_on_owner(
    state: &ApiState,
    req: &HttpRequest,
    rule: &str,
    owner: Option<&str>,
    lessee: Option<&str>,
    hidden: impl FnOnce() -> Error,
) -> Result<()> {
    if !allowed_on_node(state, req, "baremetal:node:get", owner, lessee) {
        return Err(hidden());
    }
    if !allowed_on_node(state, req, rule, owner, lessee) {
        return Err(denied(rule));
    }
    Ok(())
}

/// The `fields` of a single-resource GET (the only argument it takes).
pub fn show_fields(
    q: &HashMap<String, String>,
    spec: &ListSpec,
    v: Version,
) -> Result<Option<Vec<String>>> {
    let mut unknown: Vec<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "fields")
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(Error::InvalidParameter(format!(
            "Unexpected arguments: {}",
            unknown.join(", ")
        )));
    }
    if q.contains_key("fields") {
        return Ok(ListArgs::parse(q, spec, 1, v)?.fields);
    }
    Ok(None)
}

/// The node a PATCH moves a volume resource to, if another one. Every
/// `/node_uuid` value must be a UUID, as Ironic checks before applying.
pub fn moved_to(
    ops: &[crate::api::patch::PatchOp],
    patched: &Value,
    current: &str,
) -> Result<Option<String>> {
    for op in ops.iter().filter(|o| o.path == "/node_uuid") {
        if let Some(v) = &op.value {
            if v.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .is_none()
            {
                let shown = v
                    .as_str()
                    .map_or_else(|| crate::api::patch::python_repr(v), str::to_string);
                return Err(Error::InvalidParameter(format!(
                    "Expected a UUID for node_uuid, but received {shown}."
                )));
            }
        }
    }
    Ok(match patched.get("node_uuid").and_then(Value::as_str) {
        Some(n) if n != current => Some(n.to_string()),
        _ => None,
    })
}

/// A patched document with removed (null) non-nullable fields left out,
/// so the schema reports them missing, as Ironic's does.
pub fn without_removed(patched: &Value, props: &[(&str, Kind)]) -> Value {
    let Value::Object(map) = patched else {
        return patched.clone();
    };
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, v)| {
            !(v.is_null()
                && props
                    .iter()
                    .any(|(p, kind)| p == k && matches!(kind, Kind::Str | Kind::Int)))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

/// Under 1.32 the volume collections are unknown paths.
pub async fn unknown_path(req: HttpRequest) -> HttpResponse {
    crate::api::middleware::not_found(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_are_olso_strict() {
        assert!(parse_bool("detail", "True").unwrap());
        assert!(!parse_bool("detail", "off").unwrap());
        assert!(parse_bool("detail", "maybe").is_err());
    }

    #[test]
    fn picking_fields_keeps_links() {
        let v = json!({"uuid": "u", "type": "iqn", "links": []});
        let picked = pick(v, Some(&["type".to_string()]));
        assert_eq!(picked, json!({"type": "iqn", "links": []}));
    }
}
