//! Berth: bare-metal servers made plug-and-play for OpenStack clouds.
//!
//! # Map of the crate
//!
//! ```text
//!   bin/berth-api ──┐        bin/berth (all-in-one: api + conductor, in-process RPC, SQLite)
//!                   ▼                 │
//!                 api ──── rpc ───────┼──► conductor ──► drivers (BMCs: ipmi, redfish, fake)
//!                  │  \                │        │
//!                  │   auth (keystone, │        │
//!                  │   basic, policy)  │        │
//!                  ▼                   ▼        ▼
//!                          db (datastore, migrations)
//!                                  ▲
//!   bin/berth-dbsync ──────────────┘
//! ```
//!
//! Layers and who may call whom:
//! - `conf`: oslo-style options, declared once; everything receives a
//!   `Config`, nothing reads a global.
//! - `api`: actix-web, Ironic's wire format. Authorizes, validates, reads the
//!   datastore or sends RPC; never touches hardware.
//! - `auth`: token validation (Keystone, HTTP basic, noauth) and the
//!   oslo.policy-compatible `policy` engine.
//! - `rpc`: the versioned envelope and the API↔conductor transports (AMQP via
//!   lapin, or in-process for the all-in-one binary).
//! - `conductor`: RPC methods, the ramdisk agent's side (token, heartbeats,
//!   inspection data), the periodic tasks (power sync, sensor collection)
//!   and the conductor's presence (heartbeat).
//! - `db`: the only module that speaks SQL; one file per resource under
//!   `db/datastore/`, migrations for SQLite and MariaDB/MySQL in `migrations/`.
//! - `drivers`: hardware types and their interfaces (Ironic's tables and
//!   the rules that choose and check a node's interfaces), and `bmc`, the
//!   one trait out-of-band control goes through, with its IPMI, Redfish and
//!   fake clients.
//! - `images`: Berth's image store (uploads streamed to raw files under
//!   `[images]images_dir`, qcow2 converted by qemu-img) and `resolve`, which
//!   turns `instance_info.image_source` into what a deploy agent downloads.
//! - `inspection`: inspection rules (validation, and the pure engine the
//!   conductor runs on an agent's inventory).
//! - `states`: Ironic's provision state machine (the one transition table)
//!   and power states; pure, shared by the API and the conductor.
//! - `error`: the one error enum; `api::error` maps it to HTTP once.
//! - `context`, `secret`: the request context carried everywhere, and a
//!   wrapper that keeps secrets out of logs.
//! - `service`: process wiring shared by the binaries (logging, signals).
//! - `agent` (feature `agent`, binary `berth-agent`): the in-ramdisk
//!   discovery agent. Reads the hardware, posts it to
//!   `continue_inspection`, heartbeats, serves the command API; shares no
//!   code with the server layers and speaks to them only over HTTP.

#[cfg(feature = "agent")]
pub mod agent;
#[cfg(feature = "server")]
pub mod api;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod conductor;
#[cfg(feature = "server")]
pub mod conf;
pub mod context;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod drivers;
pub mod error;
#[cfg(feature = "server")]
pub mod images;
#[cfg(feature = "server")]
pub mod inspection;
#[cfg(feature = "server")]
pub mod rpc;
pub mod secret;
#[cfg(feature = "server")]
pub mod service;
pub mod states;
