//! Collections as Ironic serves them: `limit`/`marker`/`sort_key`/`sort_dir`
//! validation, `fields=` (1.8+), and the `next` link that clients follow.

use serde_json::{json, Value};

use crate::api::microversion::Version;
use crate::error::{Error, Result};

/// `fields=` selects a subset of attributes.
pub const FIELDS_SELECTOR: Version = Version::new(1, 8);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

impl SortDir {
    pub fn as_str(&self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }
}

/// Validated paging arguments.
#[derive(Clone, Debug)]
pub struct Page {
    pub limit: i64,
    pub marker: Option<String>,
    pub sort_key: String,
    pub sort_dir: SortDir,
}

impl Page {
    /// `sortable`: the columns a caller may sort by (`id` is always allowed).
    pub fn from_query(
        limit: Option<i64>,
        marker: Option<String>,
        sort_key: Option<String>,
        sort_dir: Option<String>,
        max_limit: usize,
        sortable: &[&str],
    ) -> Result<Page> {
        let max = i64::try_from(max_limit).unwrap_or(i64::MAX);
        let limit = match limit {
            None => max,
            Some(l) if l <= 0 => {
                return Err(Error::InvalidParameter("Limit must be positive".into()))
            }
            Some(l) => l.min(max),
        };
        let sort_dir = match sort_dir.as_deref() {
            None | Some("asc") => SortDir::Asc,
            Some("desc") => SortDir::Desc,
            Some(other) => {
                return Err(Error::InvalidParameter(format!(
                    "Invalid sort direction: {other}. Acceptable values are 'asc' or 'desc'"
                )))
            }
        };
        let sort_key = sort_key.unwrap_or_else(|| "id".into());
        if sort_key != "id" && !sortable.contains(&sort_key.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "The sort_key value \"{sort_key}\" is an invalid field for sorting"
            )));
        }
        Ok(Page {
            limit,
            marker,
            sort_key,
            sort_dir,
        })
    }

    pub fn descending(&self) -> bool {
        self.sort_dir == SortDir::Desc
    }
}

/// Parses `fields=a,b` after checking the version allows it.
pub fn requested_fields(raw: Option<&str>, v: Version) -> Result<Option<Vec<String>>> {
    let Some(raw) = raw else { return Ok(None) };
    if !v.at_least(FIELDS_SELECTOR) {
        return Err(Error::NotAcceptable("Request not acceptable.".into()));
    }
    Ok(Some(
        raw.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect(),
    ))
}

/// Keeps only `fields`, plus `links` (Ironic's `sanitize_dict` always keeps
/// them); unknown names are a 400.
pub fn select_fields(item: Value, fields: &[String]) -> Result<Value> {
    let Value::Object(map) = item else {
        return Ok(item);
    };
    let unknown: Vec<&str> = fields
        .iter()
        .filter(|f| !map.contains_key(f.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(Error::InvalidParameter(format!(
            "Field(s) \"{}\" are not valid",
            unknown.join(", ")
        )));
    }
    Ok(Value::Object(
        map.into_iter()
            .filter(|(k, _)| k == "links" || fields.contains(k))
            .collect(),
    ))
}

/// `{"<name>": items, "next": …}`; `next` only when the page is full.
/// `path` is relative to `/v1/` (e.g. `chassis/detail`); `args` are echoed.
pub fn collection(
    name: &str,
    items: Vec<Value>,
    page: &Page,
    base: &str,
    path: &str,
    args: &[(&str, String)],
) -> Value {
    collection_keyed(name, items, page, base, path, args, "uuid")
}

/// `collection` for resources whose marker is `key` rather than `uuid`
/// (conductors page by hostname).
pub fn collection_keyed(
    name: &str,
    items: Vec<Value>,
    page: &Page,
    base: &str,
    path: &str,
    args: &[(&str, String)],
    key: &str,
) -> Value {
    let mut body = json!({ name: items });
    let full = i64::try_from(items_len(&body, name)).unwrap_or(0) == page.limit && page.limit > 0;
    if full {
        if let Some(last) = body[name]
            .as_array()
            .and_then(|a| a.last())
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
        {
            let mut q = String::new();
            for (k, v) in args {
                q.push_str(&format!("{k}={v}&"));
            }
            q.push_str(&format!(
                "sort_key={}&sort_dir={}&",
                page.sort_key,
                page.sort_dir.as_str()
            ));
            body["next"] = json!(format!(
                "{base}/v1/{path}?{q}limit={}&marker={last}",
                page.limit
            ));
        }
    }
    body
}

fn items_len(body: &Value, name: &str) -> usize {
    body[name].as_array().map_or(0, Vec::len)
}

/// A path UUID, or a 400.
pub fn checked_uuid(raw: &str) -> Result<String> {
    uuid::Uuid::parse_str(raw)
        .map(|_| raw.to_string())
        .map_err(|_| Error::InvalidParameter(format!("Expected a UUID but received {raw}.")))
}

/// The query of a single-resource GET.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    pub fields: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_ironic() {
        let p = Page::from_query(None, None, None, None, 1000, &[]).unwrap();
        assert_eq!(p.limit, 1000);
        assert_eq!(
            Page::from_query(Some(5000), None, None, None, 1000, &[])
                .unwrap()
                .limit,
            1000
        );
        assert!(Page::from_query(Some(0), None, None, None, 1000, &[]).is_err());
        assert!(Page::from_query(None, None, None, Some("up".into()), 1000, &[]).is_err());
        assert!(Page::from_query(None, None, Some("extra".into()), None, 1000, &["uuid"]).is_err());
    }

    #[test]
    fn next_link_only_on_a_full_page() {
        let page = Page::from_query(Some(1), None, None, None, 1000, &[]).unwrap();
        let body = collection(
            "chassis",
            vec![json!({"uuid": "u1"})],
            &page,
            "http://h",
            "chassis",
            &[],
        );
        assert_eq!(
            body["next"],
            "http://h/v1/chassis?sort_key=id&sort_dir=asc&limit=1&marker=u1"
        );
        let page = Page::from_query(Some(2), None, None, None, 1000, &[]).unwrap();
        let body = collection(
            "chassis",
            vec![json!({"uuid": "u1"})],
            &page,
            "http://h",
            "chassis",
            &[],
        );
        assert!(body.get("next").is_none());
    }

    #[test]
    fn fields_need_1_8_and_must_exist() {
        assert!(requested_fields(Some("uuid"), Version::new(1, 7)).is_err());
        let f = requested_fields(Some("uuid,extra"), Version::new(1, 8))
            .unwrap()
            .unwrap();
        let v = select_fields(json!({"uuid": 1, "extra": {}, "x": 2, "links": []}), &f).unwrap();
        assert_eq!(v, json!({"uuid": 1, "extra": {}, "links": []}));
        assert!(select_fields(json!({"uuid": 1}), &["nope".to_string()]).is_err());
    }
}
