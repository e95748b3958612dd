//! `[DEFAULT]`: identity of this host, auth strategy, RPC and paths.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const AUTH_STRATEGIES: &[&str] = &["keystone", "noauth", "http_basic"];

pub const GROUP: Group = Group {
    name: "DEFAULT",
    help: "",
    opts: &[
        Opt::new(
            "host",
            OptKind::Str,
            "Name of this node. Used as the conductor's host name and in its RPC queue; it must be unique among conductors. Defaults to the machine's host name.",
        ),
        Opt::new(
            "auth_strategy",
            OptKind::Choice(AUTH_STRATEGIES),
            "Authentication strategy used by berth-api. \"noauth\" should not be used in a production environment because all authentication will be disabled.",
        )
        .default("keystone"),
        Opt::new(
            "http_basic_auth_user_file",
            OptKind::Str,
            "Path to the Apache format user authentication file used when auth_strategy=http_basic.",
        )
        .default("/etc/berth/htpasswd"),
        Opt::new(
            "state_path",
            OptKind::Str,
            "Top-level directory for maintaining Berth's state (the SQLite database of the embedded default lives here).",
        )
        .default("/var/lib/berth"),
        Opt::new(
            "rpc_transport",
            OptKind::Choice(&["amqp", "none"]),
            "Which RPC transport carries API-to-conductor calls: \"amqp\" uses transport_url; \"none\" runs the conductor inside the API process (the all-in-one berth binary always uses \"none\").",
        )
        .default("amqp"),
        Opt::new(
            "transport_url",
            OptKind::Str,
            "The network address and optional user credentials for connecting to the messaging backend, in URL format: rabbit://user:pass@host:port/virtual_host (amqp:// is accepted too).",
        )
        .secret(),
        Opt::new(
            "rpc_response_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Seconds to wait for a response from a call.",
        )
        .default("60"),
        Opt::new(
            "enabled_hardware_types",
            OptKind::List,
            "Specify the list of hardware types to load during service initialization.",
        )
        .default("ipmi,redfish,fake-hardware"),
        Opt::new(
            "enabled_bios_interfaces",
            OptKind::List,
            "Specify the list of bios interfaces to load during service initialization. A node's bios_interface must be one of these and supported by its hardware type.",
        )
        .default("no-bios,fake,redfish"),
        Opt::new(
            "default_bios_interface",
            OptKind::Str,
            "Default bios interface to be used for nodes that do not have bios_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_boot_interfaces",
            OptKind::List,
            "Specify the list of boot interfaces to load during service initialization. A node's boot_interface must be one of these and supported by its hardware type.",
        )
        .default("ipxe,pxe,fake,redfish-virtual-media"),
        Opt::new(
            "default_boot_interface",
            OptKind::Str,
            "Default boot interface to be used for nodes that do not have boot_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_console_interfaces",
            OptKind::List,
            "Specify the list of console interfaces to load during service initialization. A node's console_interface must be one of these and supported by its hardware type.",
        )
        .default("no-console,fake"),
        Opt::new(
            "default_console_interface",
            OptKind::Str,
            "Default console interface to be used for nodes that do not have console_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_deploy_interfaces",
            OptKind::List,
            "Specify the list of deploy interfaces to load during service initialization. A node's deploy_interface must be one of these and supported by its hardware type.",
        )
        .default("direct,ramdisk,fake"),
        Opt::new(
            "default_deploy_interface",
            OptKind::Str,
            "Default deploy interface to be used for nodes that do not have deploy_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_firmware_interfaces",
            OptKind::List,
            "Specify the list of firmware interfaces to load during service initialization. A node's firmware_interface must be one of these and supported by its hardware type.",
        )
        .default("no-firmware,fake,redfish"),
        Opt::new(
            "default_firmware_interface",
            OptKind::Str,
            "Default firmware interface to be used for nodes that do not have firmware_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_inspect_interfaces",
            OptKind::List,
            "Specify the list of inspect interfaces to load during service initialization. A node's inspect_interface must be one of these and supported by its hardware type.",
        )
        .default("no-inspect,agent,fake,redfish"),
        Opt::new(
            "default_inspect_interface",
            OptKind::Str,
            "Default inspect interface to be used for nodes that do not have inspect_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_management_interfaces",
            OptKind::List,
            "Specify the list of management interfaces to load during service initialization. A node's management_interface must be one of these and supported by its hardware type.",
        )
        .default("ipmitool,redfish,fake"),
        Opt::new(
            "default_management_interface",
            OptKind::Str,
            "Default management interface to be used for nodes that do not have management_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_network_interfaces",
            OptKind::List,
            "Specify the list of network interfaces to load during service initialization. A node's network_interface must be one of these and supported by its hardware type.",
        )
        .default("flat,noop"),
        Opt::new(
            "default_network_interface",
            OptKind::Str,
            "Default network interface to be used for nodes that do not have network_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_power_interfaces",
            OptKind::List,
            "Specify the list of power interfaces to load during service initialization. A node's power_interface must be one of these and supported by its hardware type.",
        )
        .default("ipmitool,redfish,fake"),
        Opt::new(
            "default_power_interface",
            OptKind::Str,
            "Default power interface to be used for nodes that do not have power_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_raid_interfaces",
            OptKind::List,
            "Specify the list of raid interfaces to load during service initialization. A node's raid_interface must be one of these and supported by its hardware type.",
        )
        .default("agent,no-raid,fake,redfish"),
        Opt::new(
            "default_raid_interface",
            OptKind::Str,
            "Default raid interface to be used for nodes that do not have raid_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_rescue_interfaces",
            OptKind::List,
            "Specify the list of rescue interfaces to load during service initialization. A node's rescue_interface must be one of these and supported by its hardware type.",
        )
        .default("no-rescue,fake"),
        Opt::new(
            "default_rescue_interface",
            OptKind::Str,
            "Default rescue interface to be used for nodes that do not have rescue_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_storage_interfaces",
            OptKind::List,
            "Specify the list of storage interfaces to load during service initialization. A node's storage_interface must be one of these and supported by its hardware type.",
        )
        .default("noop,fake"),
        Opt::new(
            "default_storage_interface",
            OptKind::Str,
            "Default storage interface to be used for nodes that do not have storage_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "enabled_vendor_interfaces",
            OptKind::List,
            "Specify the list of vendor interfaces to load during service initialization. A node's vendor_interface must be one of these and supported by its hardware type.",
        )
        .default("ipmitool,redfish,no-vendor,fake"),
        Opt::new(
            "default_vendor_interface",
            OptKind::Str,
            "Default vendor interface to be used for nodes that do not have vendor_interface field set. If not set, the first supported and enabled implementation of the node's hardware type is used.",
        ),
        Opt::new(
            "debug",
            OptKind::Bool,
            "If set to true, the logging level will be set to DEBUG instead of the default INFO level.",
        )
        .default("false"),
    ],
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthStrategy {
    Keystone,
    Noauth,
    HttpBasic,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RpcTransportKind {
    Amqp,
    None,
}

#[derive(Clone, Debug)]
pub struct DefaultConf {
    pub host: String,
    pub auth_strategy: AuthStrategy,
    pub http_basic_auth_user_file: String,
    pub state_path: String,
    pub rpc_transport: RpcTransportKind,
    pub transport_url: Option<crate::secret::Secret<String>>,
    pub rpc_response_timeout: u64,
    pub enabled_hardware_types: Vec<String>,
    /// `enabled_<kind>_interfaces` and `default_<kind>_interface`, by kind.
    pub interfaces: crate::drivers::InterfaceConf,
    pub debug: bool,
}

impl DefaultConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        let host = match v.string(g, "host")? {
            Some(h) => h,
            None => local_hostname(),
        };
        let auth_strategy = match v.required_string(g, "auth_strategy")?.as_str() {
            "noauth" => AuthStrategy::Noauth,
            "http_basic" => AuthStrategy::HttpBasic,
            _ => AuthStrategy::Keystone,
        };
        let rpc_transport = match v.required_string(g, "rpc_transport")?.as_str() {
            "none" => RpcTransportKind::None,
            _ => RpcTransportKind::Amqp,
        };
        Ok(DefaultConf {
            host,
            auth_strategy,
            http_basic_auth_user_file: v.required_string(g, "http_basic_auth_user_file")?,
            state_path: v.required_string(g, "state_path")?,
            rpc_transport,
            transport_url: v
                .string(g, "transport_url")?
                .map(crate::secret::Secret::new),
            rpc_response_timeout: v.int(g, "rpc_response_timeout")?.unsigned_abs(),
            enabled_hardware_types: v.list(g, "enabled_hardware_types")?,
            interfaces: crate::drivers::InterfaceConf::from_values(v, g)?,
            debug: v.bool(g, "debug")?,
        })
    }
}

fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
