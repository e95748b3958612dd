//! Power actions (`PUT /v1/nodes/{id}/states/power`). Until the BMC drivers
//! land only `fake-hardware` nodes can be powered: the requested state is
//! reached at once; other hardware types are refused.

use crate::db::datastore::node::node_set_power_state;
use crate::db::DataStore;
use crate::error::{Error, Result};
use crate::states::PowerState;

use super::task::NodeTask;

pub async fn change(
    datastore: &DataStore,
    host: &str,
    uuid: &str,
    target: PowerState,
) -> Result<()> {
    let task = NodeTask::acquire(datastore, host, uuid).await?;
    if let Err(e) = task.require_fake_hardware("change the power of") {
        task.release().await;
        return Err(e);
    }
    let reached = match target {
        PowerState::PowerOn | PowerState::Rebooting | PowerState::SoftRebooting => "power on",
        PowerState::PowerOff | PowerState::SoftPowerOff => "power off",
        other => {
            task.release().await;
            return Err(Error::InvalidParameter(format!(
                "Invalid power target {}",
                other.as_str()
            )));
        }
    };
    let (u, h) = (uuid.to_string(), host.to_string());
    let result = datastore
        .run(move |c| node_set_power_state(c, &u, &h, Some(reached), None, None))
        .await;
    task.release().await;
    result
}
