//! Hardware types and their interfaces, as Ironic names them.
//!
//! A node's driver is a hardware type (`ipmi`, `redfish`, `fake-hardware`);
//! each of its thirteen interfaces (`boot_interface`, `power_interface`, …)
//! names one implementation that the hardware type supports *and* the
//! conductor enables (`[DEFAULT]enabled_<kind>_interfaces`). This module holds
//! the tables and the rules that pick and check them; which implementations
//! actually run is the conductor's business. `bmc` is the out-of-band
//! control the power and management interfaces use (one trait; `ipmi`,
//! `redfish` and a fake implement it); `fake` describes fake-hardware's
//! other interfaces. `properties` and `raid` are the documented
//! `driver_info` keys and Ironic's target RAID schema.

pub mod bmc;
pub mod direct_steps;
pub mod fake;
pub mod fake_steps;
pub mod hardware;
pub mod interface;
pub mod ipmi;
pub mod properties;
pub mod raid;
pub mod redfish;

pub use hardware::{hardware_type, HardwareType, CLASSIC_ALIASES, HARDWARE_TYPES};
pub use interface::{InterfaceConf, InterfaceKind};
