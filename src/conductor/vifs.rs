//! VIF attach, detach and list (`/v1/nodes/{node}/vifs`): without a
//! networking service the VIF id is recorded on a free port or portgroup,
//! as Ironic's network interfaces record it. Attach and detach hold the
//! node's reservation for the write.

use serde_json::{json, Value};

use super::task::NodeTask;
use crate::db::datastore::node::node_get_by_uuid;
use crate::db::datastore::vif::{vif_attach, vif_detach, vif_list, VifTarget};
use crate::db::DataStore;
use crate::error::{Error, Result};

fn arg<'a>(args: &'a Value, key: &str) -> Result<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidParameter(format!("RPC argument {key} is missing")))
}

/// `{"vifs": [{"id": …}, …]}` of the node `args.uuid` (no lock, as
/// Ironic's shared task).
pub async fn list(datastore: &DataStore, args: &Value) -> Result<Value> {
    let uuid = arg(args, "uuid")?.to_string();
    let ids = datastore
        .run(move |c| {
            let node = node_get_by_uuid(c, &uuid)?;
            vif_list(c, node.id)
        })
        .await?;
    let vifs: Vec<Value> = ids.into_iter().map(|id| json!({"id": id})).collect();
    Ok(json!({"vifs": vifs}))
}

/// The port or portgroup `vif_info` asks for. As Ironic's network
/// interfaces: a `port_uuid` key wins over `portgroup_uuid`, an empty value
/// asks for nothing, and the keys count at every API version.
fn vif_target(vif_info: &Value) -> VifTarget {
    let wanted = |key: &str| match vif_info.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    if vif_info.get("port_uuid").is_some() {
        VifTarget {
            port_uuid: wanted("port_uuid"),
            portgroup_uuid: None,
        }
    } else {
        VifTarget {
            port_uuid: None,
            portgroup_uuid: wanted("portgroup_uuid"),
        }
    }
}

/// Attaches `args.vif_info.id` to the node `args.uuid`, on the port or
/// portgroup `vif_info` names if it names one.
pub async fn attach(datastore: &DataStore, host: &str, args: &Value) -> Result<Value> {
    let uuid = arg(args, "uuid")?;
    let vif_info = args.get("vif_info").cloned().unwrap_or(Value::Null);
    let target = vif_target(&vif_info);
    let vif_id = vif_info
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidParameter("RPC argument vif_info.id is missing".into()))?
        .to_string();
    let task = NodeTask::acquire(datastore, host, uuid).await?;
    let (node_id, v) = (task.node.id, vif_id.clone());
    let result = datastore
        .run(move |c| vif_attach(c, node_id, &v, &target))
        .await;
    task.release().await;
    let on = result?;
    tracing::info!(node = %uuid, vif = %vif_id, port = %on, "VIF attached");
    Ok(Value::Null)
}

/// Detaches `args.vif_id` from the node `args.uuid`.
pub async fn detach(datastore: &DataStore, host: &str, args: &Value) -> Result<Value> {
    let uuid = arg(args, "uuid")?;
    let vif_id = arg(args, "vif_id")?.to_string();
    let task = NodeTask::acquire(datastore, host, uuid).await?;
    let (node_id, node_uuid, v) = (task.node.id, task.node.uuid.clone(), vif_id.clone());
    let result = datastore
        .run(move |c| vif_detach(c, node_id, &node_uuid, &v))
        .await;
    task.release().await;
    result?;
    tracing::info!(node = %uuid, vif = %vif_id, "VIF detached");
    Ok(Value::Null)
}
