//! `[images]`: Berth's image store (a Berth group; Ironic keeps images in
//! Glance). Uploaded files live in `images_dir`, always as raw.

use super::opt::{Group, Opt, OptKind};
use super::values::Values;
use crate::error::Result;

pub const GROUP: Group = Group {
    name: "images",
    help: "Options for Berth's image store.",
    opts: &[
        Opt::new(
            "images_dir",
            OptKind::Str,
            "Directory holding the stored images (<uuid>.raw) and uploads in progress.",
        )
        .default("$state_path/images"),
        Opt::new(
            "max_image_size",
            OptKind::Int { min: Some(1), max: None },
            "Largest image accepted, in bytes; it bounds both the uploaded data and the virtual size of a qcow2 image once converted to raw.",
        )
        .default("21474836480"),
        Opt::new(
            "qemu_img_path",
            OptKind::Str,
            "The qemu-img binary that inspects uploads and converts qcow2 images to raw.",
        )
        .default("qemu-img"),
        Opt::new(
            "convert_timeout",
            OptKind::Int { min: Some(1), max: None },
            "Seconds one qemu-img run (inspection or conversion) may take before it is killed and the upload fails.",
        )
        .default("1800"),
    ],
};

#[derive(Clone, Debug)]
pub struct ImagesConf {
    pub images_dir: String,
    pub max_image_size: u64,
    pub qemu_img_path: String,
    pub convert_timeout: u64,
}

impl ImagesConf {
    pub(super) fn from_values(v: &Values) -> Result<Self> {
        let g = &GROUP;
        Ok(ImagesConf {
            images_dir: v.required_string(g, "images_dir")?,
            max_image_size: v.int(g, "max_image_size")?.unsigned_abs(),
            qemu_img_path: v.required_string(g, "qemu_img_path")?,
            convert_timeout: v.int(g, "convert_timeout")?.unsigned_abs(),
        })
    }
}
