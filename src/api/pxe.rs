//! Network boot over HTTP (`/pxe/…`, unversioned and public like Ironic's
//! HTTP boot root: a booting machine has no credentials). dnsmasq hands
//! iPXE `/pxe/boot.ipxe`, which chains to the script for the machine's
//! MAC. The boot decision per MAC:
//!
//! - unknown MAC: the discovery image when `[auto_discovery]` is on, else
//!   local boot;
//! - a node being inspected (`inspecting`, `inspect wait`): the discovery
//!   image, which reports to `continue_inspection`;
//! - a node being deployed, cleaned, rescued or serviced: the same image
//!   as the node's ramdisk (it looks itself up and heartbeats);
//! - a node imported ahead of its hardware (`enroll`, never inspected)
//!   with auto-discovery on: the discovery image, which fills it in;
//! - anything else (active, protected, available, …): local boot. A known
//!   server never lands in a ramdisk by accident.

use actix_web::{web, HttpRequest, HttpResponse};

use super::ApiState;
use crate::db::datastore::node_agent::node_list_by_port_addresses;
use crate::error::{Error, Result};
use crate::inspection::hooks::normalize_mac;
use crate::states::ProvisionState as S;

const IPXE: &str = "text/plain; charset=utf-8";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/pxe/boot.ipxe", web::get().to(boot_script))
        .route("/pxe/nodes/{mac}", web::get().to(node_script))
        .route("/pxe/images/{file}", web::get().to(image));
}

/// Public: what a PXE-booting machine fetches.
pub fn is_public_path(path: &str) -> bool {
    path == "/pxe/boot.ipxe" || path.starts_with("/pxe/nodes/") || path.starts_with("/pxe/images/")
}

/// What a machine with this MAC boots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootDecision {
    /// The discovery image, reporting its inventory.
    Discovery,
    /// The image as the node's agent for deploy/clean/rescue/service.
    Ramdisk,
    /// Its own disk; the text says why.
    Local(String),
}

/// The fields of a node the decision reads.
pub struct Known<'a> {
    pub uuid: &'a str,
    pub provision_state: &'a str,
    pub protected: bool,
    /// In `enroll` and never inspected: imported ahead of its hardware.
    pub never_inspected: bool,
}

/// The decision for the node owning a MAC (`None`: unknown MAC).
pub fn decide(node: Option<Known<'_>>, auto_discovery: bool) -> BootDecision {
    let Some(node) = node else {
        return if auto_discovery {
            BootDecision::Discovery
        } else {
            BootDecision::Local("unknown machine and auto-discovery is off".into())
        };
    };
    if node.protected {
        return BootDecision::Local(format!("node {} is protected", node.uuid));
    }
    let state: Option<S> = node.provision_state.parse().ok();
    if auto_discovery && state == Some(S::Enroll) && node.never_inspected {
        // Imported ahead of its hardware: discovery fills it in.
        return BootDecision::Discovery;
    }
    match state {
        Some(S::Inspecting | S::InspectWait) => BootDecision::Discovery,
        Some(
            S::Deploying
            | S::DeployWait
            | S::Cleaning
            | S::CleanWait
            | S::Rescuing
            | S::RescueWait
            | S::Servicing
            | S::ServiceWait,
        ) => BootDecision::Ramdisk,
        _ => BootDecision::Local(format!("node {} is {}", node.uuid, node.provision_state)),
    }
}

/// The API root the booted image talks to: the inspection callback
/// override, `[pxe]http_url`, or the address this request came to.
fn api_url(state: &ApiState, req: &HttpRequest) -> String {
    if let Some(u) = &state.conf.inspector.callback_endpoint_override {
        return u.trim_end_matches('/').to_string();
    }
    if let Some(u) = &state.conf.pxe.http_url {
        return u.clone();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn script(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type(IPXE).body(body)
}

async fn boot_script() -> HttpResponse {
    // Relative: iPXE resolves it against this script's own URL.
    script("#!ipxe\nchain /pxe/nodes/${mac:hexhyp}.ipxe\n".into())
}

async fn node_script(
    state: web::Data<ApiState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let raw = path.into_inner();
    let mac = normalize_mac(raw.trim_end_matches(".ipxe"))
        .ok_or_else(|| Error::InvalidParameter(format!("{raw} is not a MAC address")))?;
    let m = vec![mac.clone()];
    let nodes = state
        .datastore
        .run(move |c| node_list_by_port_addresses(c, &m))
        .await?;
    let never_inspected = match nodes.first() {
        Some(n) => {
            let id = n.id;
            state
                .datastore
                .run(move |c| crate::db::datastore::node_inventory::node_inventory_get(c, id))
                .await
                .is_err()
        }
        None => false,
    };
    let known = nodes.first().map(|n| Known {
        uuid: &n.uuid,
        provision_state: &n.provision_state,
        protected: n.protected,
        never_inspected,
    });
    let decision = decide(known, state.conf.auto_discovery.enabled);
    tracing::info!(mac = %mac, node = ?nodes.first().map(|n| &n.uuid), decision = ?decision, "PXE boot");
    let api = api_url(&state, &req);
    let bootif = format!("01-{}", mac.replace(':', "-"));
    let extra = &state.conf.inspector.extra_kernel_params;
    let body = match decision {
        BootDecision::Local(why) => {
            format!("#!ipxe\necho Berth: {why}: booting from the local disk\nexit\n")
        }
        BootDecision::Discovery | BootDecision::Ramdisk => {
            let mut args = format!("ipa-api-url={api} BOOTIF={bootif}");
            if decision == BootDecision::Discovery {
                args = format!("ipa-inspection-callback-url={api}/v1/continue_inspection {args}");
            }
            format!(
                "#!ipxe\necho Berth: {mac} boots the {what} image\n\
                 kernel /pxe/images/vmlinuz initrd=initramfs.gz console=ttyS0 {args} {extra} || goto fail\n\
                 initrd --name initramfs.gz /pxe/images/initramfs.gz || goto fail\n\
                 boot || goto fail\n\
                 :fail\necho Berth: network boot failed; retrying in 10 s\nsleep 10\nchain /pxe/boot.ipxe\n",
                what = if decision == BootDecision::Discovery { "discovery" } else { "ramdisk" },
            )
        }
    };
    Ok(script(body))
}

async fn image(state: web::Data<ApiState>, path: web::Path<String>) -> Result<HttpResponse> {
    let file = path.into_inner();
    let source = match file.as_str() {
        "vmlinuz" => state.conf.pxe.kernel.clone(),
        "initramfs.gz" => state.conf.pxe.ramdisk.clone(),
        _ => None,
    }
    .ok_or_else(|| Error::NotFound(format!("Boot image {file} could not be found.")))?;
    let bytes = tokio::fs::read(state.conf.resolve_path(&source))
        .await
        .map_err(|e| Error::NotFound(format!("Boot image {file} could not be read: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(provision_state: &str, protected: bool) -> Option<Known<'_>> {
        Some(Known {
            uuid: "u",
            provision_state,
            protected,
            never_inspected: false,
        })
    }

    #[test]
    fn a_known_server_never_boots_a_ramdisk_by_accident() {
        assert_eq!(decide(None, true), BootDecision::Discovery);
        assert!(matches!(decide(None, false), BootDecision::Local(_)));
        assert_eq!(
            decide(node("inspect wait", false), false),
            BootDecision::Discovery
        );
        assert_eq!(
            decide(node("wait call-back", false), false),
            BootDecision::Ramdisk
        );
        for s in [
            "active",
            "available",
            "manageable",
            "enroll",
            "deploy failed",
            "adopting",
        ] {
            assert!(
                matches!(decide(node(s, false), true), BootDecision::Local(_)),
                "{s}"
            );
        }
        assert!(matches!(
            decide(node("inspect wait", true), true),
            BootDecision::Local(_)
        ));
        // Imported ahead of its hardware: discovered, with auto-discovery only.
        let imported = || Known {
            uuid: "u",
            provision_state: "enroll",
            protected: false,
            never_inspected: true,
        };
        assert_eq!(decide(Some(imported()), true), BootDecision::Discovery);
        assert!(matches!(
            decide(Some(imported()), false),
            BootDecision::Local(_)
        ));
    }
}
