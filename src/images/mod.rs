//! Berth's image store: OS images (and later ramdisks) uploaded through
//! `/v1/images`, kept as raw files under `[images]images_dir` and served to
//! deploy agents at `/deploy/images/<uuid>.raw`.
//!
//! - `store`: the files (streamed upload with sha256, qemu-img inspection
//!   and qcow2 → raw conversion);
//! - `resolve`: what the conductor calls to turn a node's
//!   `instance_info.image_source` into a URL and checksum for the agent.

pub mod resolve;
pub mod store;

pub use resolve::{resolve, ImageSource};
