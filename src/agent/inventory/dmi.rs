//! `system_vendor`: product, serial, manufacturer and firmware from
//! `/sys/class/dmi/id` (absent on machines without SMBIOS).

use serde::Serialize;

use super::Tree;

/// IPA's `system_vendor` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SystemVendor {
    pub product_name: Option<String>,
    pub serial_number: Option<String>,
    pub manufacturer: Option<String>,
    pub firmware: Firmware,
}

/// IPA's `system_vendor.firmware` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Firmware {
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub build_date: Option<String>,
}

pub fn collect(tree: &Tree) -> SystemVendor {
    let dir = tree.path("/sys/class/dmi/id");
    if !dir.is_dir() {
        tracing::info!(path = %dir.display(), "no DMI information (no SMBIOS?)");
        return SystemVendor::default();
    }
    let field = |name: &str| tree.value(&dir.join(name));
    SystemVendor {
        product_name: field("product_name"),
        serial_number: field("product_serial"),
        manufacturer: field("sys_vendor"),
        firmware: Firmware {
            vendor: field("bios_vendor"),
            version: field("bios_version"),
            build_date: field("bios_date"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{file, vm};
    use super::*;

    #[test]
    fn a_vm_reports_seabios() {
        let dir = tempfile::tempdir().unwrap();
        vm(dir.path());
        let v = collect(&Tree::new(dir.path()));
        assert_eq!(
            v.product_name.as_deref(),
            Some("Standard PC (i440FX + PIIX, 1996)")
        );
        assert_eq!(v.serial_number.as_deref(), Some("SN-0001"));
        assert_eq!(v.manufacturer.as_deref(), Some("QEMU"));
        assert_eq!(v.firmware.build_date.as_deref(), Some("04/01/2014"));
    }

    #[test]
    fn missing_or_empty_fields_are_null() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(collect(&Tree::new(dir.path())), SystemVendor::default());
        file(dir.path(), "sys/class/dmi/id/sys_vendor", "Dell Inc.\n");
        file(dir.path(), "sys/class/dmi/id/product_serial", "\n");
        let v = collect(&Tree::new(dir.path()));
        assert_eq!(v.manufacturer.as_deref(), Some("Dell Inc."));
        assert_eq!(v.serial_number, None);
    }
}
