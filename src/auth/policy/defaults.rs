//! Berth's default policy rules, in code, mirroring Ironic's secure-RBAC defaults.
//!
//! Rule names, check strings and scope types are Ironic's
//! (`ironic/common/policy.py`), so an operator's Ironic `policy.yaml` means
//! the same thing here. The persona strings are spelled out inside each rule,
//! as Ironic does, so overriding one named rule never silently changes
//! another. Ironic's deprecated (pre-RBAC) check strings are not carried:
//! with `enforce_new_defaults = True`, oslo's default, they are never
//! evaluated for rules that kept their name.

use super::RuleDefault;

// Persona check strings. Macros rather than consts so `concat!` can build the
// composite strings at compile time.
macro_rules! system_admin {
    () => {
        "role:admin and system_scope:all"
    };
}
macro_rules! system_member {
    () => {
        "(role:member and system_scope:all) or rule:service_role"
    };
}
macro_rules! system_reader {
    () => {
        "(role:reader and system_scope:all) or (role:service and system_scope:all) or rule:service_role"
    };
}
macro_rules! system_service {
    () => {
        "role:service and system_scope:all"
    };
}
macro_rules! project_admin {
    () => {
        "role:admin and project_id:%(node.owner)s"
    };
}
macro_rules! project_member {
    () => {
        "role:member and (project_id:%(node.owner)s or project_id:%(node.lessee)s)"
    };
}
macro_rules! project_reader {
    () => {
        "role:reader and (project_id:%(node.owner)s or project_id:%(node.lessee)s)"
    };
}
macro_rules! project_service {
    () => {
        "role:service and project_id:%(node.owner)s"
    };
}
macro_rules! project_owner_admin {
    () => {
        "role:admin and project_id:%(node.owner)s"
    };
}
macro_rules! project_owner_manager {
    () => {
        "role:manager and project_id:%(node.owner)s"
    };
}
macro_rules! project_owner_member {
    () => {
        "role:member and project_id:%(node.owner)s"
    };
}
macro_rules! project_owner_reader {
    () => {
        "role:reader and project_id:%(node.owner)s"
    };
}
macro_rules! project_lessee_admin {
    () => {
        "role:admin and project_id:%(node.lessee)s"
    };
}
macro_rules! project_lessee_manager {
    () => {
        "role:manager and project_id:%(node.lessee)s"
    };
}

const SYSTEM_ADMIN: &str = system_admin!();
const SYSTEM_MEMBER: &str = system_member!();
const SYSTEM_READER: &str = system_reader!();
const PROJECT_ADMIN: &str = project_admin!();
const PROJECT_MEMBER: &str = project_member!();
const PROJECT_READER: &str = project_reader!();

/// Reading lists, where the API itself narrows the result to the caller's project.
const API_READER: &str = "(role:reader) or (role:service)";

const SYSTEM_OR_PROJECT_MEMBER: &str = concat!(
    "(",
    system_member!(),
    ") or (",
    project_member!(),
    ") or (",
    system_service!(),
    ")"
);
const SYSTEM_OR_PROJECT_READER: &str = concat!(
    "(",
    system_reader!(),
    ") or (",
    project_reader!(),
    ") or (",
    project_service!(),
    ")"
);
/// Provision state changes: the owner's members, or the lessee's admins and managers.
const SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN: &str = concat!(
    "(",
    system_member!(),
    ") or (",
    system_service!(),
    ") or (",
    project_owner_member!(),
    ") or (",
    project_lessee_admin!(),
    ") or (",
    project_lessee_manager!(),
    ") or (",
    project_service!(),
    ")"
);
/// Creating and deleting ports.
const SYSTEM_ADMIN_OR_OWNER_ADMIN: &str = concat!(
    "(",
    system_admin!(),
    ") or (",
    system_service!(),
    ") or (",
    project_owner_admin!(),
    ") or (",
    project_owner_manager!(),
    ") or (",
    project_service!(),
    ")"
);
/// Updating ports.
const SYSTEM_MEMBER_OR_OWNER_ADMIN: &str = concat!(
    "(",
    system_member!(),
    ") or (",
    system_service!(),
    ") or (",
    project_owner_admin!(),
    ") or (",
    project_owner_manager!(),
    ") or (",
    project_service!(),
    ")"
);

/// Creating and deleting volume connectors and targets.
const SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN: &str = concat!(
    "(",
    system_member!(),
    ") or (",
    system_service!(),
    ") or (",
    project_owner_admin!(),
    ") or (",
    project_owner_manager!(),
    ") or (",
    project_lessee_admin!(),
    ") or (",
    project_lessee_manager!(),
    ") or (",
    project_service!(),
    ")"
);
/// Seeing volume target properties (they may hold iSCSI credentials).
const TARGET_PROPERTIES_READER: &str = concat!("(", system_reader!(), ") or (role:admin)");

/// Console and RAID: the owner's members, not the lessee's.
const SYSTEM_MEMBER_OR_OWNER_MEMBER: &str = concat!(
    "(",
    system_member!(),
    ") or (",
    system_service!(),
    ") or (",
    project_owner_member!(),
    ") or (",
    project_service!(),
    ")"
);

/// Allocations are owned by a project, not by a node's owner: the system
/// manages them on behalf of projects, projects' members their own.
const ALLOCATION_MEMBER: &str = concat!(
    "(",
    system_member!(),
    ") or (role:member and project_id:%(allocation.owner)s)"
);
const ALLOCATION_READER: &str = concat!(
    "(",
    system_reader!(),
    ") or (role:reader and project_id:%(allocation.owner)s)"
);
const ALLOCATION_CREATOR: &str = concat!("(", system_member!(), ") or (role:member)");
/// History and inventory: the owner's readers, not the lessee's.
const SYSTEM_OR_OWNER_READER: &str = concat!(
    "(",
    system_reader!(),
    ") or (",
    system_service!(),
    ") or (",
    project_owner_reader!(),
    ") or (",
    project_service!(),
    ")"
);
/// Runbooks: checked against the runbook's owner.
macro_rules! runbook_owner_manager {
    () => {
        "role:manager and project_id:%(runbook.owner)s"
    };
}
macro_rules! runbook_owner_reader {
    () => {
        "role:reader and project_id:%(runbook.owner)s"
    };
}
const RUNBOOK_ADMIN: &str = concat!(
    "(",
    system_member!(),
    ") or (",
    runbook_owner_manager!(),
    ") or role:service"
);
const RUNBOOK_READER: &str = concat!(
    "(",
    system_reader!(),
    ") or (",
    runbook_owner_reader!(),
    ") or role:service"
);
const RUNBOOK_CREATOR: &str = concat!("(", system_member!(), ") or role:manager or role:service");

const SYSTEM: &[&str] = &["system"];
const PROJECT: &[&str] = &["project"];
const SYSTEM_PROJECT: &[&str] = &["system", "project"];

const GET: &str = "GET";
const POST: &str = "POST";
const PATCH: &str = "PATCH";
const PUT: &str = "PUT";
const DELETE: &str = "DELETE";

/// Every rule Berth registers, in sample-file order.
pub const DEFAULTS: &[RuleDefault] = &[
    // Base rules, as Ironic registers them.
    RuleDefault {
        name: "admin_api",
        check_str: "role:admin or role:administrator",
        description: "Legacy rule for cloud admin access",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "public_api",
        check_str: "is_public_api:True",
        description: "Internal flag for public API routes",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "show_password",
        check_str: "!",
        description: "Show or mask secrets within node driver information in API responses. \
                      This setting should be used with the utmost care as its use can present \
                      a security risk.",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "show_instance_secrets",
        check_str: "!",
        description: "Show or mask secrets within instance information in API responses. \
                      This setting should be used with the utmost care as its use can present \
                      a security risk.",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "service_role",
        check_str: "role:service and project_name:%(config.service_project_name)s",
        description: "Rule to match service role usage with a service project, delineated as \
                      a separate rule to enable customization.",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "is_member",
        check_str: "(project_domain_id:default or project_domain_id:None) and \
                    (project_name:demo or project_name:baremetal)",
        description: "May be used to restrict access to specific projects",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "is_observer",
        check_str: "rule:is_member and (role:observer or role:baremetal_observer)",
        description: "Read-only API access",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "is_admin",
        check_str: "rule:admin_api or (rule:is_member and role:baremetal_admin)",
        description: "Full read/write API access",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "is_node_owner",
        check_str: "project_id:%(node.owner)s",
        description: "Owner of node",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "is_node_lessee",
        check_str: "project_id:%(node.lessee)s",
        description: "Lessee of node",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "is_allocation_owner",
        check_str: "project_id:%(allocation.owner)s",
        description: "Owner of allocation",
        operations: &[],
        scope_types: &[],
    },
    // Named personas. Ironic keeps these as Python constants; Berth also
    // registers them so operators can compose overrides with `rule:`.
    RuleDefault {
        name: "system_admin",
        check_str: SYSTEM_ADMIN,
        description: "Administrators of the whole deployment (system-scoped admin).",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "system_member",
        check_str: SYSTEM_MEMBER,
        description: "System-scoped members, or the service role in the service project.",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "system_reader",
        check_str: SYSTEM_READER,
        description: "Read-only access to the whole deployment (system-scoped reader or \
                      service).",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "project_admin",
        check_str: PROJECT_ADMIN,
        description: "Administrators of the project that owns the node.",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "project_member",
        check_str: PROJECT_MEMBER,
        description: "Members of the project that owns or leases the node.",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "project_reader",
        check_str: PROJECT_READER,
        description: "Readers of the project that owns or leases the node.",
        operations: &[],
        scope_types: &[],
    },
    RuleDefault {
        name: "service_or_admin",
        check_str: concat!(
            "(",
            system_admin!(),
            ") or (",
            system_service!(),
            ") or rule:service_role"
        ),
        description: "System administrators or other OpenStack services.",
        operations: &[],
        scope_types: &[],
    },
    // Nodes.
    RuleDefault {
        name: "baremetal:node:create",
        check_str: concat!("(", system_admin!(), ") or (", system_service!(), ")"),
        description: "Create Node records",
        operations: &[(POST, "/nodes")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:create:self_owned_node",
        check_str: "(role:admin) or (role:service)",
        description: "Create node records which will be tracked as owned by the associated \
                      user project.",
        operations: &[(POST, "/nodes")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:list",
        check_str: API_READER,
        description: "Retrieve multiple Node records, filtered by an explicit owner or the \
                      client project_id",
        operations: &[(GET, "/nodes"), (GET, "/nodes/detail")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:list_all",
        check_str: SYSTEM_READER,
        description: "Retrieve multiple Node records",
        operations: &[(GET, "/nodes"), (GET, "/nodes/detail")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:get",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Retrieve a single Node record",
        operations: &[(GET, "/nodes/{node_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:update",
        check_str: SYSTEM_OR_PROJECT_MEMBER,
        description: "Generalized update of node records",
        operations: &[(PATCH, "/nodes/{node_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:delete",
        check_str: SYSTEM_ADMIN,
        description: "Delete Node records",
        operations: &[(DELETE, "/nodes/{node_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:delete:self_owned_node",
        check_str: PROJECT_ADMIN,
        description: "Delete node records which are associated with the requesting project.",
        operations: &[(DELETE, "/nodes/{node_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:validate",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Request active validation of Nodes",
        operations: &[(GET, "/nodes/{node_ident}/validate")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_maintenance",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Set maintenance flag, taking a Node out of service",
        operations: &[(PUT, "/nodes/{node_ident}/maintenance")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:clear_maintenance",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Clear maintenance flag, placing the Node into service again",
        operations: &[(DELETE, "/nodes/{node_ident}/maintenance")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:get_boot_device",
        check_str: SYSTEM_MEMBER_OR_OWNER_ADMIN,
        description: "Retrieve Node boot device metadata",
        operations: &[
            (GET, "/nodes/{node_ident}/management/boot_device"),
            (GET, "/nodes/{node_ident}/management/boot_device/supported"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_boot_device",
        check_str: SYSTEM_MEMBER_OR_OWNER_ADMIN,
        description: "Change Node boot device",
        operations: &[(PUT, "/nodes/{node_ident}/management/boot_device")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:inject_nmi",
        check_str: SYSTEM_MEMBER_OR_OWNER_ADMIN,
        description: "Inject NMI for a node",
        operations: &[(PUT, "/nodes/{node_ident}/management/inject_nmi")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_power_state",
        check_str: SYSTEM_OR_PROJECT_MEMBER,
        description: "Change Node power status",
        operations: &[(PUT, "/nodes/{node_ident}/states/power")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_provision_state",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Change Node provision status",
        operations: &[(PUT, "/nodes/{node_ident}/states/provision")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_provision_state:clean_steps",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Allow execution of arbitrary steps on a node",
        operations: &[(PUT, "/nodes/{node_ident}/states/provision")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_provision_state:service_steps",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Allow execution of arbitrary steps on a node",
        operations: &[(PUT, "/nodes/{node_ident}/states/provision")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_boot_mode",
        check_str: SYSTEM_OR_PROJECT_MEMBER,
        description: "Change Node boot mode",
        operations: &[(PUT, "/nodes/{node_ident}/states/boot_mode")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_secure_boot",
        check_str: SYSTEM_OR_PROJECT_MEMBER,
        description: "Change Node secure boot state",
        operations: &[(PUT, "/nodes/{node_ident}/states/secure_boot")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:vif:list",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "List VIFs attached to node",
        operations: &[(GET, "/nodes/{node_ident}/vifs")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:vif:attach",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Attach a VIF to a node",
        operations: &[(POST, "/nodes/{node_ident}/vifs")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:vif:detach",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Detach a VIF from a node",
        operations: &[(DELETE, "/nodes/{node_ident}/vifs/{node_vif_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:traits:list",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "List node traits",
        operations: &[(GET, "/nodes/{node_ident}/traits")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:traits:set",
        check_str: SYSTEM_MEMBER_OR_OWNER_ADMIN,
        description: "Add a trait to, or replace all traits of, a node",
        operations: &[
            (PUT, "/nodes/{node_ident}/traits"),
            (PUT, "/nodes/{node_ident}/traits/{trait}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:traits:delete",
        check_str: SYSTEM_MEMBER_OR_OWNER_ADMIN,
        description: "Remove one or all traits from a node",
        operations: &[
            (DELETE, "/nodes/{node_ident}/traits"),
            (DELETE, "/nodes/{node_ident}/traits/{trait}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:inventory:get",
        check_str: SYSTEM_OR_OWNER_READER,
        description: "Retrieve inspection data for a node.",
        operations: &[(GET, "/nodes/{node_ident}/inventory")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:bios:get",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Retrieve Node BIOS information",
        operations: &[
            (GET, "/nodes/{node_ident}/bios"),
            (GET, "/nodes/{node_ident}/bios/{setting}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_raid_state",
        check_str: SYSTEM_MEMBER_OR_OWNER_MEMBER,
        description: "Change Node RAID status",
        operations: &[(PUT, "/nodes/{node_ident}/states/raid")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:get_console",
        check_str: SYSTEM_MEMBER_OR_OWNER_MEMBER,
        description: "Get Node console connection information",
        operations: &[(GET, "/nodes/{node_ident}/states/console")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_console_state",
        check_str: SYSTEM_MEMBER_OR_OWNER_MEMBER,
        description: "Change Node console status",
        operations: &[(PUT, "/nodes/{node_ident}/states/console")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:get_indicator_state",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Retrieve Node indicators and their states",
        operations: &[
            (
                GET,
                "/nodes/{node_ident}/management/indicators/{component}/{indicator}",
            ),
            (GET, "/nodes/{node_ident}/management/indicators"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:set_indicator_state",
        check_str: SYSTEM_MEMBER_OR_OWNER_MEMBER,
        description: "Change Node indicator state",
        operations: &[(
            PUT,
            "/nodes/{node_ident}/management/indicators/{component}/{indicator}",
        )],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:history:get",
        check_str: SYSTEM_OR_OWNER_READER,
        description: "Filter to allow operators to retrieve history records for a node.",
        operations: &[
            (GET, "/nodes/{node_ident}/history"),
            (GET, "/nodes/{node_ident}/history/{event_ident}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "berth:node:sensors:get",
        check_str: SYSTEM_OR_OWNER_READER,
        description: "Retrieve the sensor readings collected from a node's BMC (a Berth extension).",
        operations: &[(GET, "/nodes/{node_ident}/sensors")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "berth:task:get",
        check_str: SYSTEM_OR_OWNER_READER,
        description: "Retrieve a node's tasks and their logs (a Berth extension).",
        operations: &[
            (GET, "/nodes/{node_ident}/tasks"),
            (GET, "/tasks/{task_uuid}"),
            (GET, "/tasks/{task_uuid}/log"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:firmware:get",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Retrieve Node Firmware components information",
        operations: &[(GET, "/nodes/{node_ident}/firmware")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:vmedia:attach",
        check_str: SYSTEM_OR_PROJECT_MEMBER,
        description: "Attach a virtual media device to a node",
        operations: &[(POST, "/nodes/{node_ident}/vmedia")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:vmedia:detach",
        check_str: SYSTEM_OR_PROJECT_MEMBER,
        description: "Detach a virtual media device from a node",
        operations: &[(DELETE, "/nodes/{node_ident}/vmedia")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:vmedia:get",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Get virtual media device details from a node",
        operations: &[(GET, "/nodes/{node_ident}/vmedia")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:node:vendor_passthru",
        check_str: SYSTEM_ADMIN,
        description: "Access vendor-specific Node functions",
        operations: &[
            (GET, "nodes/{node_ident}/vendor_passthru/methods"),
            (
                GET,
                "nodes/{node_ident}/vendor_passthru?method={method_name}",
            ),
            (
                PUT,
                "nodes/{node_ident}/vendor_passthru?method={method_name}",
            ),
            (
                POST,
                "nodes/{node_ident}/vendor_passthru?method={method_name}",
            ),
            (
                PATCH,
                "nodes/{node_ident}/vendor_passthru?method={method_name}",
            ),
            (
                DELETE,
                "nodes/{node_ident}/vendor_passthru?method={method_name}",
            ),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    // Agent (IPA) endpoints: unauthenticated by design, like Ironic.
    RuleDefault {
        name: "baremetal:node:ipa_heartbeat",
        check_str: "",
        description: "Receive heartbeats from IPA ramdisk",
        operations: &[(POST, "/heartbeat/{node_ident}")],
        scope_types: &[],
    },
    RuleDefault {
        name: "baremetal:driver:ipa_lookup",
        check_str: "",
        description: "Access IPA ramdisk lookup endpoint",
        operations: &[(GET, "/lookup")],
        scope_types: &[],
    },
    RuleDefault {
        name: "baremetal:driver:ipa_continue_inspection",
        check_str: "",
        description: "Receive inspection data from the ramdisk",
        operations: &[(POST, "/continue_inspection")],
        scope_types: &[],
    },
    // Ports.
    RuleDefault {
        name: "baremetal:port:get",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Retrieve Port records",
        operations: &[
            (GET, "/ports/{port_id}"),
            (GET, "/nodes/{node_ident}/ports"),
            (GET, "/nodes/{node_ident}/ports/detail"),
            (GET, "/portgroups/{portgroup_ident}/ports"),
            (GET, "/portgroups/{portgroup_ident}/ports/detail"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:port:list",
        check_str: API_READER,
        description: "Retrieve multiple Port records, filtered by owner",
        operations: &[(GET, "/ports"), (GET, "/ports/detail")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:port:list_all",
        check_str: SYSTEM_READER,
        description: "Retrieve multiple Port records",
        operations: &[(GET, "/ports"), (GET, "/ports/detail")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:port:create",
        check_str: SYSTEM_ADMIN_OR_OWNER_ADMIN,
        description: "Create Port records",
        operations: &[(POST, "/ports")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:port:delete",
        check_str: SYSTEM_ADMIN_OR_OWNER_ADMIN,
        description: "Delete Port records",
        operations: &[(DELETE, "/ports/{port_id}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:port:update",
        check_str: SYSTEM_MEMBER_OR_OWNER_ADMIN,
        description: "Update Port records",
        operations: &[(PATCH, "/ports/{port_id}")],
        scope_types: SYSTEM_PROJECT,
    },
    // Portgroups: checked against the owning node, like ports.
    RuleDefault {
        name: "baremetal:portgroup:get",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Retrieve Portgroup records",
        operations: &[
            (GET, "/portgroups"),
            (GET, "/portgroups/detail"),
            (GET, "/portgroups/{portgroup_ident}"),
            (GET, "/nodes/{node_ident}/portgroups"),
            (GET, "/nodes/{node_ident}/portgroups/detail"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:portgroup:create",
        check_str: SYSTEM_ADMIN_OR_OWNER_ADMIN,
        description: "Create Portgroup records",
        operations: &[(POST, "/portgroups")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:portgroup:delete",
        check_str: SYSTEM_ADMIN_OR_OWNER_ADMIN,
        description: "Delete Portgroup records",
        operations: &[(DELETE, "/portgroups/{portgroup_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:portgroup:update",
        check_str: SYSTEM_MEMBER_OR_OWNER_ADMIN,
        description: "Update Portgroup records",
        operations: &[(PATCH, "/portgroups/{portgroup_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:portgroup:list",
        check_str: API_READER,
        description: "Retrieve multiple Port records, filtered by owner",
        operations: &[(GET, "/portgroups"), (GET, "/portgroups/detail")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:portgroup:list_all",
        check_str: SYSTEM_READER,
        description: "Retrieve multiple Port records",
        operations: &[(GET, "/portgroups"), (GET, "/portgroups/detail")],
        scope_types: SYSTEM_PROJECT,
    },
    // Allocations: checked against the allocation's owner.
    RuleDefault {
        name: "baremetal:allocation:get",
        check_str: ALLOCATION_READER,
        description: "Retrieve Allocation records",
        operations: &[
            (GET, "/allocations/{allocation_id}"),
            (GET, "/nodes/{node_ident}/allocation"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:allocation:list",
        check_str: API_READER,
        description: "Retrieve multiple Allocation records, filtered by owner",
        operations: &[(GET, "/allocations")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:allocation:list_all",
        check_str: SYSTEM_READER,
        description: "Retrieve multiple Allocation records",
        operations: &[(GET, "/allocations")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:allocation:create",
        check_str: ALLOCATION_CREATOR,
        description: "Create Allocation records",
        operations: &[(POST, "/allocations")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:allocation:create_restricted",
        check_str: SYSTEM_MEMBER,
        description: "Create Allocation records with a specific owner.",
        operations: &[(POST, "/allocations")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:allocation:delete",
        check_str: ALLOCATION_MEMBER,
        description: "Delete Allocation records",
        operations: &[
            (DELETE, "/allocations/{allocation_id}"),
            (DELETE, "/nodes/{node_ident}/allocation"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:allocation:update",
        check_str: ALLOCATION_MEMBER,
        description: "Change name and extra fields of an allocation",
        operations: &[(PATCH, "/allocations/{allocation_id}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:allocation:create_pre_rbac",
        check_str:
            "(rule:is_member and role:baremetal_admin) or (is_admin_project:True and role:admin)",
        description: "Logical restrictor to prevent legacy allocation rule missuse - Requires \
                      blank allocations to originate from the legacy baremetal_admin.",
        operations: &[(PATCH, "/allocations/{allocation_id}")],
        scope_types: PROJECT,
    },
    // Volume connectors and targets.
    RuleDefault {
        name: "baremetal:volume:list_all",
        check_str: SYSTEM_READER,
        description: "Retrieve a list of all Volume connector and target records",
        operations: &[
            (GET, "/volume/connectors"),
            (GET, "/volume/targets"),
            (GET, "/nodes/{node_ident}/volume/connectors"),
            (GET, "/nodes/{node_ident}/volume/targets"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:volume:list",
        check_str: API_READER,
        description: "Retrieve a list of Volume connector and target records",
        operations: &[
            (GET, "/volume/connectors"),
            (GET, "/volume/targets"),
            (GET, "/nodes/{node_ident}/volume/connectors"),
            (GET, "/nodes/{node_ident}/volume/targets"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:volume:get",
        check_str: SYSTEM_OR_PROJECT_READER,
        description: "Retrieve Volume connector and target records",
        operations: &[
            (GET, "/volume"),
            (GET, "/volume/connectors"),
            (GET, "/volume/connectors/{volume_connector_id}"),
            (GET, "/volume/targets"),
            (GET, "/volume/targets/{volume_target_id}"),
            (GET, "/nodes/{node_ident}/volume"),
            (GET, "/nodes/{node_ident}/volume/connectors"),
            (GET, "/nodes/{node_ident}/volume/targets"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:volume:create",
        check_str: SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN,
        description: "Create Volume connector and target records",
        operations: &[(POST, "/volume/connectors"), (POST, "/volume/targets")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:volume:delete",
        check_str: SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN,
        description: "Delete Volume connector and target records",
        operations: &[
            (DELETE, "/volume/connectors/{volume_connector_id}"),
            (DELETE, "/volume/targets/{volume_target_id}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:volume:update",
        check_str: SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        description: "Update Volume connector and target records",
        operations: &[
            (PATCH, "/volume/connectors/{volume_connector_id}"),
            (PATCH, "/volume/targets/{volume_target_id}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:volume:view_target_properties",
        check_str: TARGET_PROPERTIES_READER,
        description: "Ability to view volume target properties",
        operations: &[
            (GET, "/volume/connectors/{volume_connector_id}"),
            (GET, "/volume/targets/{volume_target_id}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    // Chassis: system scope only.
    RuleDefault {
        name: "baremetal:chassis:get",
        check_str: SYSTEM_READER,
        description: "Retrieve Chassis records",
        operations: &[
            (GET, "/chassis"),
            (GET, "/chassis/detail"),
            (GET, "/chassis/{chassis_id}"),
        ],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "baremetal:chassis:create",
        check_str: SYSTEM_ADMIN,
        description: "Create Chassis records",
        operations: &[(POST, "/chassis")],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "baremetal:chassis:delete",
        check_str: SYSTEM_ADMIN,
        description: "Delete Chassis records",
        operations: &[(DELETE, "/chassis/{chassis_id}")],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "baremetal:chassis:update",
        check_str: SYSTEM_MEMBER,
        description: "Update Chassis records",
        operations: &[(PATCH, "/chassis/{chassis_id}")],
        scope_types: SYSTEM,
    },
    // Images: Berth's image store, system resources (a Berth extension).
    RuleDefault {
        name: "berth:image:get",
        check_str: SYSTEM_READER,
        description: "Retrieve Berth image records and download their data (a Berth extension).",
        operations: &[
            (GET, "/images"),
            (GET, "/images/{image_ident}"),
            (GET, "/images/{image_ident}/file"),
        ],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "berth:image:create",
        check_str: SYSTEM_ADMIN,
        description: "Create Berth images and upload their data (a Berth extension).",
        operations: &[(POST, "/images"), (PUT, "/images/{image_ident}/file")],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "berth:image:delete",
        check_str: SYSTEM_ADMIN,
        description: "Delete Berth images and their data (a Berth extension).",
        operations: &[(DELETE, "/images/{image_ident}")],
        scope_types: SYSTEM,
    },
    // Deploy templates: system resources.
    RuleDefault {
        name: "baremetal:deploy_template:get",
        check_str: SYSTEM_READER,
        description: "Retrieve Deploy Template records",
        operations: &[
            (GET, "/deploy_templates"),
            (GET, "/deploy_templates/{deploy_template_ident}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:deploy_template:create",
        check_str: SYSTEM_ADMIN,
        description: "Create Deploy Template records",
        operations: &[(POST, "/deploy_templates")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:deploy_template:delete",
        check_str: SYSTEM_ADMIN,
        description: "Delete Deploy Template records",
        operations: &[(DELETE, "/deploy_templates/{deploy_template_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:deploy_template:update",
        check_str: SYSTEM_ADMIN,
        description: "Update Deploy Template records",
        operations: &[(PATCH, "/deploy_templates/{deploy_template_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    // Runbooks: owned by a project, or public.
    RuleDefault {
        name: "baremetal:runbook:get",
        check_str: RUNBOOK_READER,
        description: "Retrieve a single runbook record",
        operations: &[(GET, "/runbooks/{runbook_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:list",
        check_str: API_READER,
        description: "Retrieve multiple runbook records, filtered by an explicit owner or the client project_id",
        operations: &[(GET, "/runbooks")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:list_all",
        check_str: SYSTEM_READER,
        description: "Retrieve all runbook records",
        operations: &[(GET, "/runbooks")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:create",
        check_str: RUNBOOK_CREATOR,
        description: "Create Runbook records",
        operations: &[(POST, "/runbooks")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:delete",
        check_str: RUNBOOK_ADMIN,
        description: "Delete a runbook record",
        operations: &[(DELETE, "/runbooks/{runbook_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:update",
        check_str: RUNBOOK_ADMIN,
        description: "Update a runbook record",
        operations: &[(PATCH, "/runbooks/{runbook_ident}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:update:public",
        check_str: SYSTEM_MEMBER,
        description: "Set and unset a runbook as public",
        operations: &[(PATCH, "/runbooks/{runbook_ident}/public")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:update:owner",
        check_str: SYSTEM_MEMBER,
        description: "Set and unset the owner of a runbook",
        operations: &[(PATCH, "/runbooks/{runbook_ident}/owner")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:runbook:use",
        check_str: RUNBOOK_ADMIN,
        description: "Allowed to use a runbook for node operations",
        operations: &[(PUT, "/nodes/{node_ident}/states/provision")],
        scope_types: SYSTEM_PROJECT,
    },
    // Drivers and conductors.
    RuleDefault {
        name: "baremetal:driver:get",
        check_str: SYSTEM_READER,
        description: "View list of available drivers",
        operations: &[(GET, "/drivers"), (GET, "/drivers/{driver_name}")],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "baremetal:driver:get_properties",
        check_str: SYSTEM_READER,
        description: "View driver-specific properties",
        operations: &[(GET, "/drivers/{driver_name}/properties")],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "baremetal:driver:get_raid_logical_disk_properties",
        check_str: SYSTEM_READER,
        description: "View driver-specific RAID metadata",
        operations: &[(GET, "/drivers/{driver_name}/raid/logical_disk_properties")],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "baremetal:shards:get",
        check_str: SYSTEM_READER,
        description: "Governs if shards can be read via the API clients.",
        operations: &[(GET, "/shards")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:driver:vendor_passthru",
        check_str: SYSTEM_ADMIN,
        description: "Access vendor-specific Driver functions",
        operations: &[
            (GET, "drivers/{driver_name}/vendor_passthru/methods"),
            (
                GET,
                "drivers/{driver_name}/vendor_passthru?method={method_name}",
            ),
            (
                PUT,
                "drivers/{driver_name}/vendor_passthru?method={method_name}",
            ),
            (
                POST,
                "drivers/{driver_name}/vendor_passthru?method={method_name}",
            ),
            (
                PATCH,
                "drivers/{driver_name}/vendor_passthru?method={method_name}",
            ),
            (
                DELETE,
                "drivers/{driver_name}/vendor_passthru?method={method_name}",
            ),
        ],
        scope_types: SYSTEM,
    },
    // Events from other services.
    RuleDefault {
        name: "baremetal:events:post",
        check_str: SYSTEM_ADMIN,
        description: "Post events",
        operations: &[(POST, "/events")],
        scope_types: SYSTEM,
    },
    RuleDefault {
        name: "baremetal:conductor:get",
        check_str: SYSTEM_READER,
        description: "Retrieve Conductor records",
        operations: &[(GET, "/conductors"), (GET, "/conductors/{hostname}")],
        scope_types: SYSTEM_PROJECT,
    },
    // Inspection rules: system-wide, like Ironic's.
    RuleDefault {
        name: "baremetal:inspection_rule:get",
        check_str: SYSTEM_READER,
        description: "Get inspection rule(s)",
        operations: &[
            (GET, "/inspection_rules"),
            (GET, "/inspection_rules/{rule_id}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:inspection_rule:list_all",
        check_str: SYSTEM_READER,
        description: "Retrieve all inspection_rule records",
        operations: &[(GET, "/inspection_rules")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:inspection_rule:create",
        check_str: SYSTEM_ADMIN,
        description: "Create inspection rule",
        operations: &[(POST, "/inspection_rules")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:inspection_rule:update",
        check_str: SYSTEM_ADMIN,
        description: "Update an inspection rule",
        operations: &[(PATCH, "/inspection_rules/{rule_id}")],
        scope_types: SYSTEM_PROJECT,
    },
    RuleDefault {
        name: "baremetal:inspection_rule:delete",
        check_str: SYSTEM_ADMIN,
        description: "Delete an inspection rule",
        operations: &[
            (DELETE, "/inspection_rules"),
            (DELETE, "/inspection_rules/{rule_id}"),
        ],
        scope_types: SYSTEM_PROJECT,
    },
];
