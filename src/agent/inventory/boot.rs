//! `boot`: the firmware's boot mode and the NIC that PXE-booted.

use serde::Serialize;

use super::Tree;

/// IPA's `boot` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Boot {
    /// `uefi` or `bios`.
    pub current_boot_mode: String,
    pub pxe_interface: Option<String>,
}

/// UEFI firmware leaves `/sys/firmware/efi`; the PXE NIC is `BOOTIF`.
pub fn collect(tree: &Tree, boot_mac: Option<&str>) -> Boot {
    let uefi = tree.path("/sys/firmware/efi").is_dir();
    Boot {
        current_boot_mode: if uefi { "uefi" } else { "bios" }.into(),
        pxe_interface: boot_mac.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efi_directory_means_uefi() {
        let dir = tempfile::tempdir().unwrap();
        let tree = Tree::new(dir.path());
        assert_eq!(collect(&tree, None).current_boot_mode, "bios");
        std::fs::create_dir_all(dir.path().join("sys/firmware/efi/efivars")).unwrap();
        let boot = collect(&tree, Some("52:54:00:b0:00:01"));
        assert_eq!(boot.current_boot_mode, "uefi");
        assert_eq!(boot.pxe_interface.as_deref(), Some("52:54:00:b0:00:01"));
    }
}
