//! VIFs: a tenant network port id recorded on one of the node's ports or
//! portgroups (`internal_info.tenant_vif_port_id`), as Ironic's network
//! interfaces record it. Callers hold the node's reservation.

use diesel::prelude::*;
use serde_json::{Map, Value};

use super::now;
use crate::db::schema::{portgroups, ports};
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// The `internal_info` key holding the attached tenant VIF.
pub const TENANT_VIF_KEY: &str = "tenant_vif_port_id";

/// A port or portgroup, as VIF selection sees it.
#[derive(Clone, Debug)]
struct PortLike {
    id: i32,
    uuid: String,
    is_group: bool,
    portgroup_id: Option<i32>,
    pxe_enabled: bool,
    internal_info: Map<String, Value>,
    extra: Map<String, Value>,
}

impl PortLike {
    fn vif(&self) -> Option<&str> {
        self.internal_info
            .get(TENANT_VIF_KEY)
            .and_then(Value::as_str)
    }

    fn kind(&self) -> &'static str {
        if self.is_group {
            "Portgroup"
        } else {
            "Port"
        }
    }
}

fn object(raw: Option<String>) -> Map<String, Value> {
    match raw.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    }
}

fn column(m: &Map<String, Value>) -> Option<String> {
    if m.is_empty() {
        None
    } else {
        Some(Value::Object(m.clone()).to_string())
    }
}

type PortCols = (
    i32,
    String,
    Option<i32>,
    bool,
    Option<String>,
    Option<String>,
);
type GroupCols = (i32, String, Option<String>, Option<String>);

fn ports_of(c: &mut DbConnection, node_id: i32) -> Result<Vec<PortLike>> {
    let rows: Vec<PortCols> = ports::table
        .filter(ports::node_id.eq(node_id))
        .select((
            ports::id,
            ports::uuid,
            ports::portgroup_id,
            ports::pxe_enabled,
            ports::internal_info,
            ports::extra,
        ))
        .order(ports::id.asc())
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, uuid, portgroup_id, pxe_enabled, info, extra)| PortLike {
                id,
                uuid,
                is_group: false,
                portgroup_id,
                pxe_enabled,
                internal_info: object(info),
                extra: object(extra),
            },
        )
        .collect())
}

fn portgroups_of(c: &mut DbConnection, node_id: i32) -> Result<Vec<PortLike>> {
    let rows: Vec<GroupCols> = portgroups::table
        .filter(portgroups::node_id.eq(node_id))
        .select((
            portgroups::id,
            portgroups::uuid,
            portgroups::internal_info,
            portgroups::extra,
        ))
        .order(portgroups::id.asc())
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(id, uuid, info, extra)| PortLike {
            id,
            uuid,
            is_group: true,
            portgroup_id: None,
            // Ironic ranks portgroups as PXE-capable.
            pxe_enabled: true,
            internal_info: object(info),
            extra: object(extra),
        })
        .collect())
}

fn save(c: &mut DbConnection, p: &PortLike) -> Result<()> {
    let (info, extra, at) = (column(&p.internal_info), column(&p.extra), now());
    if p.is_group {
        diesel::update(portgroups::table.filter(portgroups::id.eq(p.id)))
            .set((
                portgroups::internal_info.eq(info),
                portgroups::extra.eq(extra),
                portgroups::updated_at.eq(Some(at)),
            ))
            .execute(c)?;
    } else {
        diesel::update(ports::table.filter(ports::id.eq(p.id)))
            .set((
                ports::internal_info.eq(info),
                ports::extra.eq(extra),
                ports::updated_at.eq(Some(at)),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// The VIF ids attached to the node: ports first, then portgroups.
pub fn vif_list(c: &mut DbConnection, node_id: i32) -> Result<Vec<String>> {
    let mut all = ports_of(c, node_id)?;
    all.extend(portgroups_of(c, node_id)?);
    Ok(all
        .iter()
        .filter_map(|p| p.vif().map(str::to_string))
        .collect())
}

/// The port or portgroup a VIF attach asks for (Ironic 1.67's
/// `port_uuid` / `portgroup_uuid` in the VIF body); none means any.
#[derive(Clone, Debug, Default)]
pub struct VifTarget {
    pub port_uuid: Option<String>,
    pub portgroup_uuid: Option<String>,
}

/// Chooses where `vif_id` goes, as Ironic does without physical network
/// information: free portgroups before free ports, PXE-enabled ports first;
/// the ports of a portgroup that already carries a VIF are used one by one.
/// A requested port or portgroup is the only candidate of its kind.
fn choose(
    ports: &[PortLike],
    groups: &[PortLike],
    vif_id: &str,
    target: &VifTarget,
) -> Result<PortLike> {
    let already = |p: &PortLike| {
        Error::Conflict(format!(
            "Unable to attach VIF because VIF {vif_id} is already attached to Ironic {} {}",
            p.kind(),
            p.uuid
        ))
    };
    let (want_port, want_group) = (
        target.port_uuid.as_deref(),
        target.portgroup_uuid.as_deref(),
    );
    let mut free: Vec<PortLike> = Vec::new();
    let mut busy_groups: Vec<Option<i32>> = Vec::new();
    let mut by_group: std::collections::HashMap<Option<i32>, Vec<PortLike>> = Default::default();
    for p in ports {
        if want_port.is_some_and(|u| u != p.uuid) {
            continue;
        }
        match p.vif() {
            Some(v) if v == vif_id => return Err(already(p)),
            Some(_) => {
                busy_groups.push(p.portgroup_id);
                continue;
            }
            None => {}
        }
        if p.portgroup_id.is_none() && want_group.is_none() {
            free.push(p.clone());
        } else {
            by_group.entry(p.portgroup_id).or_default().push(p.clone());
        }
    }
    if want_port.is_none() {
        for g in groups {
            if want_group.is_some_and(|u| u != g.uuid) {
                continue;
            }
            match g.vif() {
                Some(v) if v == vif_id => return Err(already(g)),
                Some(_) => continue,
                None => {}
            }
            let members = by_group.remove(&Some(g.id)).unwrap_or_default();
            if busy_groups.contains(&Some(g.id)) {
                if want_group.is_none() {
                    free.extend(members);
                }
            } else if !members.is_empty() {
                free.push(g.clone());
            }
        }
    }
    // A stable sort keeps the database order among equals, as Python's does.
    free.sort_by_key(|p| std::cmp::Reverse((p.is_group, p.pxe_enabled)));
    free.into_iter().next().ok_or_else(|| {
        Error::InvalidParameter(format!(
            "Unable to attach VIF {vif_id}, not enough free physical ports."
        ))
    })
}

/// Records `vif_id` on a free port or portgroup of the node (the requested
/// one, if any); returns the UUID of the one chosen.
pub fn vif_attach(
    c: &mut DbConnection,
    node_id: i32,
    vif_id: &str,
    target: &VifTarget,
) -> Result<String> {
    c.transaction(|c| {
        let ports = ports_of(c, node_id)?;
        let groups = portgroups_of(c, node_id)?;
        let mut chosen = choose(&ports, &groups, vif_id, target)?;
        chosen
            .internal_info
            .insert(TENANT_VIF_KEY.into(), Value::String(vif_id.into()));
        save(c, &chosen)?;
        Ok(chosen.uuid)
    })
}

/// Forgets `vif_id` (also the legacy `extra.vif_port_id`).
pub fn vif_detach(c: &mut DbConnection, node_id: i32, node_uuid: &str, vif_id: &str) -> Result<()> {
    c.transaction(|c| {
        let mut all = portgroups_of(c, node_id)?;
        all.extend(ports_of(c, node_id)?);
        let mut found = all
            .into_iter()
            .find(|p| p.vif() == Some(vif_id))
            .ok_or_else(|| {
                Error::InvalidParameter(format!(
                    "Unable to detach VIF {vif_id} from node {node_uuid} because it is not attached to it."
                ))
            })?;
        found.internal_info.remove(TENANT_VIF_KEY);
        found.extra.remove("vif_port_id");
        save(c, &found)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(id: i32, group: Option<i32>, pxe: bool, vif: Option<&str>) -> PortLike {
        let mut info = Map::new();
        if let Some(v) = vif {
            info.insert(TENANT_VIF_KEY.into(), Value::String(v.into()));
        }
        PortLike {
            id,
            uuid: format!("p{id}"),
            is_group: false,
            portgroup_id: group,
            pxe_enabled: pxe,
            internal_info: info,
            extra: Map::new(),
        }
    }

    fn group(id: i32, vif: Option<&str>) -> PortLike {
        PortLike {
            is_group: true,
            uuid: format!("g{id}"),
            pxe_enabled: true,
            ..port(id, None, true, vif)
        }
    }

    fn any() -> VifTarget {
        VifTarget::default()
    }

    #[test]
    fn a_requested_port_or_portgroup_is_the_only_candidate() {
        let ports = [
            port(1, None, true, None),
            port(2, None, false, None),
            port(3, Some(7), false, None),
        ];
        let groups = [group(7, None)];
        let on = |port: Option<&str>, group: Option<&str>| {
            let target = VifTarget {
                port_uuid: port.map(str::to_string),
                portgroup_uuid: group.map(str::to_string),
            };
            choose(&ports, &groups, "v", &target).map(|p| p.uuid)
        };
        assert_eq!(on(Some("p2"), None).unwrap(), "p2");
        // As Ironic: a member of a portgroup is never free on its own.
        assert!(matches!(
            on(Some("p3"), None),
            Err(Error::InvalidParameter(_))
        ));
        assert_eq!(on(None, Some("g7")).unwrap(), "g7");
        assert!(matches!(
            on(Some("p9"), None),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            on(None, Some("g9")),
            Err(Error::InvalidParameter(_))
        ));
    }

    #[test]
    fn portgroups_then_pxe_ports_are_preferred() {
        let ports = [port(1, None, false, None), port(2, None, true, None)];
        assert_eq!(choose(&ports, &[], "v", &any()).unwrap().uuid, "p2");
        let ports = [port(1, None, true, None), port(2, Some(7), false, None)];
        assert_eq!(
            choose(&ports, &[group(7, None)], "v", &any()).unwrap().uuid,
            "g7"
        );
        // An empty portgroup is no candidate.
        assert_eq!(
            choose(
                &[port(1, None, false, None)],
                &[group(8, None)],
                "v",
                &any()
            )
            .unwrap()
            .uuid,
            "p1"
        );
    }

    #[test]
    fn busy_portgroups_offer_their_free_ports() {
        let ports = [
            port(1, Some(7), true, Some("a")),
            port(2, Some(7), true, None),
        ];
        assert_eq!(
            choose(&ports, &[group(7, None)], "v", &any()).unwrap().uuid,
            "p2"
        );
    }

    #[test]
    fn duplicates_and_exhaustion_are_refused() {
        let ports = [port(1, None, true, Some("v"))];
        assert!(matches!(
            choose(&ports, &[], "v", &any()),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            choose(&ports, &[], "w", &any()),
            Err(Error::InvalidParameter(_))
        ));
    }
}
