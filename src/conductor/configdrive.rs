//! Config drives from Ironic's JSON form of `configdrive`
//! (`{meta_data, network_data, user_data, vendor_data}`), built the way
//! Ironic's conductor does (`build_configdrive` + openstacksdk's
//! `configdrive.build`): `meta_data` gets the node's `uuid` (and `name`)
//! unless given, a dict/list `user_data` is JSON-encoded, and every file
//! is written under both `openstack/2012-08-10/` and `openstack/latest/`.
//! The result is Ironic's string form: base64 of the gzipped image.
//!
//! The image is ISO 9660 labelled `config-2` with a Joliet tree (what
//! Linux, cloud-init and Windows read) beside the ISO names, written here
//! in pure Rust: Ironic's own drives are ISO 9660 (genisoimage), so the
//! agent, blkid and cloud-init see the same filesystem type either way,
//! and a read-only ISO needs no allocator, unlike FAT.

use std::io::{Read, Write};

use base64::Engine as _;
use serde_json::{Map, Value};

/// The filesystem label cloud-init and the agent look for.
pub const LABEL: &str = "config-2";
/// Ironic's (ironic-lib's) limit on a config drive image.
pub const MAX_IMAGE_BYTES: usize = 64 * 1024 * 1024;
/// The metadata versions every file is written under (openstacksdk's).
const VERSIONS: [&str; 2] = ["2012-08-10", "latest"];
const SECTOR: usize = 2048;
/// Sectors 0-15 are the system area; the volume descriptors follow.
const FIRST_VD: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigDriveError {
    /// Ironic's API message (400) for a spec the schema rejects.
    #[error("Invalid configdrive format: {0}")]
    Invalid(String),
    #[error("Config drive size exceeds maximum limit of 64MiB ({0} bytes)")]
    TooLarge(usize),
    /// A string form that is not base64 of a gzipped image.
    #[error("Config drive is not a base64-encoded gzip image: {0}")]
    Undecodable(String),
}

/// Ironic's `_CONFIG_DRIVE_SCHEMA` for the JSON object form: only the four
/// keys, objects where Ironic wants objects, and `user_data` an object,
/// array, string or null.
pub fn validate(spec: &Map<String, Value>) -> Result<(), ConfigDriveError> {
    for (key, value) in spec {
        let (fits, wanted) = match key.as_str() {
            "meta_data" | "network_data" | "vendor_data" => (value.is_object(), "'object'"),
            "user_data" => (
                !(value.is_number() || value.is_boolean()),
                "'object', 'array', 'string', 'null'",
            ),
            _ => {
                return Err(ConfigDriveError::Invalid(format!(
                    "Additional properties are not allowed ('{key}' was unexpected)"
                )))
            }
        };
        if !fits {
            return Err(ConfigDriveError::Invalid(format!(
                "{} is not of type {wanted}",
                crate::api::patch::python_repr(value)
            )));
        }
    }
    Ok(())
}

/// The files of the drive (path, contents), as Ironic would write them.
pub fn files(
    node_uuid: &str,
    node_name: Option<&str>,
    spec: &Map<String, Value>,
) -> Result<Vec<(String, Vec<u8>)>, ConfigDriveError> {
    validate(spec)?;
    let mut meta = match spec.get("meta_data") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    meta.entry("uuid").or_insert_with(|| node_uuid.into());
    if let Some(name) = node_name.filter(|n| !n.is_empty()) {
        meta.entry("name").or_insert_with(|| name.into());
    }
    let user_data = match spec.get("user_data") {
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(py_json(v)),
        Some(Value::String(s)) if !s.is_empty() => Some(s.as_bytes().to_vec()),
        _ => None,
    };
    // Empty objects are falsy in Python: no file, as in openstacksdk.
    let non_empty = |key: &str| match spec.get(key) {
        Some(v @ Value::Object(m)) if !m.is_empty() => Some(py_json(v)),
        _ => None,
    };
    let network = non_empty("network_data");
    let vendor = non_empty("vendor_data");
    let meta = py_json(&Value::Object(meta));
    let mut out = Vec::new();
    for version in VERSIONS {
        let dir = format!("openstack/{version}");
        out.push((format!("{dir}/meta_data.json"), meta.clone()));
        if let Some(n) = &network {
            out.push((format!("{dir}/network_data.json"), n.clone()));
        }
        if let Some(v) = &vendor {
            out.push((format!("{dir}/vendor_data2.json"), v.clone()));
        }
        if let Some(u) = &user_data {
            out.push((format!("{dir}/user_data"), u.clone()));
        }
    }
    Ok(out)
}

/// The raw ISO 9660 image (label `config-2`) of the drive.
pub fn build_image(
    node_uuid: &str,
    node_name: Option<&str>,
    spec: &Map<String, Value>,
    unix_time: i64,
) -> Result<Vec<u8>, ConfigDriveError> {
    let image = iso9660(&files(node_uuid, node_name, spec)?, unix_time);
    if image.len() > MAX_IMAGE_BYTES {
        return Err(ConfigDriveError::TooLarge(image.len()));
    }
    Ok(image)
}

/// Ironic's string form of the drive: base64 of the gzipped ISO image.
pub fn build(
    node_uuid: &str,
    node_name: Option<&str>,
    spec: &Map<String, Value>,
) -> Result<String, ConfigDriveError> {
    let image = build_image(node_uuid, node_name, spec, chrono::Utc::now().timestamp())?;
    Ok(encode(&image))
}

/// base64(gzip(image)), as Ironic stores and sends a config drive.
pub fn encode(image: &[u8]) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(image);
    let zipped = gz.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(zipped)
}

/// The image inside a string-form config drive (base64, whitespace
/// allowed, of gzip), refused past 64 MiB without inflating further.
pub fn decode(s: &str) -> Result<Vec<u8>, ConfigDriveError> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let zipped = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| ConfigDriveError::Undecodable(e.to_string()))?;
    let mut image = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_slice())
        .take(MAX_IMAGE_BYTES as u64 + 1)
        .read_to_end(&mut image)
        .map_err(|e| ConfigDriveError::Undecodable(e.to_string()))?;
    if image.len() > MAX_IMAGE_BYTES {
        return Err(ConfigDriveError::TooLarge(image.len()));
    }
    Ok(image)
}

/// The size of the image inside a string-form config drive (what the
/// partition written for it must hold).
pub fn decode_size(s: &str) -> Result<usize, ConfigDriveError> {
    decode(s).map(|i| i.len())
}

// ------------------------------------------------------------- JSON

/// JSON as Python's `json.dumps` writes it (`", "`, `": "`, non-ASCII as
/// `\uXXXX`), so the files match Ironic's byte for byte where key order
/// allows.
fn py_json(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter);
    // Serializing a Value into a Vec cannot fail.
    let _ = serde::Serialize::serialize(v, &mut ser);
    out
}

struct PyFormatter;

impl serde_json::ser::Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        for c in fragment.chars() {
            if (c as u32) < 0x7f {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{:04x}", u)?;
                }
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------- ISO 9660

/// One directory of the image: its name, parent and entries.
struct Dir {
    name: String,
    parent: usize,
    dirs: Vec<usize>,
    files: Vec<usize>,
}

/// Which of the two directory trees is being written.
#[derive(Clone, Copy, PartialEq)]
enum Tree {
    /// ECMA-119 names: upper-case d-characters, `NAME.EXT;1`.
    Primary,
    /// Joliet (UCS-2 big-endian, the real names).
    Joliet,
}

impl Tree {
    fn dir_id(self, name: &str) -> Vec<u8> {
        match self {
            Tree::Primary => d_chars(name, 31).into_bytes(),
            Tree::Joliet => ucs2(name),
        }
    }
    fn file_id(self, name: &str) -> Vec<u8> {
        match self {
            Tree::Primary => {
                let (base, ext) = name.rsplit_once('.').unwrap_or((name, ""));
                format!(
                    "{}.{};1",
                    d_chars(base, 30 - ext.len().min(8)),
                    d_chars(ext, 8)
                )
                .into_bytes()
            }
            // No ";1" in Joliet names, as genisoimage writes them.
            Tree::Joliet => ucs2(name),
        }
    }
}

fn d_chars(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| c.to_ascii_uppercase())
        .map(|c| {
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect()
}

fn ucs2(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

fn both16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
    buf[at + 2..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn both32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    buf[at + 4..at + 8].copy_from_slice(&v.to_be_bytes());
}

fn sectors(bytes: usize) -> usize {
    bytes.div_ceil(SECTOR)
}

/// One tree's layout: directories in path-table order, each directory's
/// sorted entries, and where its extent and path tables go.
struct Layout {
    order: Vec<usize>,
    entries: Vec<Vec<Entry>>,
    dir_size: Vec<usize>,
    dir_lba: Vec<usize>,
    path_table_len: usize,
    l_table: usize,
    m_table: usize,
}

#[derive(Clone)]
enum Entry {
    Dir(usize, Vec<u8>),
    File(usize, Vec<u8>),
}

impl Entry {
    fn id(&self) -> &[u8] {
        match self {
            Entry::Dir(_, id) | Entry::File(_, id) => id,
        }
    }
}

fn record_len(id_len: usize) -> usize {
    33 + id_len + (id_len + 1) % 2
}

/// Bytes a directory's records take, none straddling a sector.
fn dir_bytes(entries: &[Entry]) -> usize {
    let mut at = 0;
    for len in [34, 34]
        .into_iter()
        .chain(entries.iter().map(|e| record_len(e.id().len())))
    {
        if at % SECTOR + len > SECTOR {
            at = at.next_multiple_of(SECTOR);
        }
        at += len;
    }
    at.next_multiple_of(SECTOR)
}

fn layout(tree: Tree, dirs: &[Dir], files: &[(String, &[u8])]) -> Layout {
    let mut entries = vec![Vec::new(); dirs.len()];
    for (i, d) in dirs.iter().enumerate() {
        let mut e: Vec<Entry> = d
            .dirs
            .iter()
            .map(|&c| Entry::Dir(c, tree.dir_id(&dirs[c].name)))
            .chain(
                d.files
                    .iter()
                    .map(|&f| Entry::File(f, tree.file_id(&files[f].0))),
            )
            .collect();
        e.sort_by(|a, b| a.id().cmp(b.id()));
        entries[i] = e;
    }
    // Path-table order: breadth first, children in name order.
    let mut order = vec![0];
    let mut next = 0;
    while next < order.len() {
        let d = order[next];
        order.extend(entries[d].iter().filter_map(|e| match e {
            Entry::Dir(c, _) => Some(*c),
            Entry::File(..) => None,
        }));
        next += 1;
    }
    let path_table_len = order
        .iter()
        .map(|&d| {
            let id = if d == 0 {
                1
            } else {
                tree.dir_id(&dirs[d].name).len()
            };
            8 + id + id % 2
        })
        .sum();
    Layout {
        dir_size: entries.iter().map(|e| dir_bytes(e)).collect(),
        order,
        entries,
        dir_lba: vec![0; dirs.len()],
        path_table_len,
        l_table: 0,
        m_table: 0,
    }
}

/// An ISO 9660 image (label `config-2`, plus a Joliet tree) holding
/// `files` (slash-separated relative paths).
fn iso9660(files: &[(String, Vec<u8>)], unix_time: i64) -> Vec<u8> {
    // The directory tree from the paths.
    let mut dirs = vec![Dir {
        name: String::new(),
        parent: 0,
        dirs: vec![],
        files: vec![],
    }];
    let mut leaves: Vec<(String, &[u8])> = Vec::new();
    for (path, data) in files {
        let mut parent = 0;
        let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let Some(leaf) = parts.pop() else { continue };
        for part in parts {
            parent = match dirs[parent].dirs.iter().find(|&&c| dirs[c].name == part) {
                Some(&c) => c,
                None => {
                    dirs.push(Dir {
                        name: part.into(),
                        parent,
                        dirs: vec![],
                        files: vec![],
                    });
                    let c = dirs.len() - 1;
                    dirs[parent].dirs.push(c);
                    c
                }
            };
        }
        dirs[parent].files.push(leaves.len());
        leaves.push((leaf.to_string(), data.as_slice()));
    }

    // Sectors: descriptors (primary, Joliet, terminator), then per tree
    // its path tables and directories, then the file data both share.
    let mut next = FIRST_VD + 3;
    let mut trees = [
        layout(Tree::Primary, &dirs, &leaves),
        layout(Tree::Joliet, &dirs, &leaves),
    ];
    for t in trees.iter_mut() {
        let n = sectors(t.path_table_len);
        t.l_table = next;
        t.m_table = next + n;
        next += 2 * n;
        for &d in &t.order {
            t.dir_lba[d] = next;
            next += t.dir_size[d] / SECTOR;
        }
    }
    let mut file_lba = Vec::with_capacity(leaves.len());
    for (_, data) in &leaves {
        file_lba.push(if data.is_empty() { 0 } else { next });
        next += sectors(data.len());
    }
    let total = next;
    let mut img = vec![0u8; total * SECTOR];

    let stamp = DirDate::from_unix(unix_time);
    for (i, (tree, t)) in [Tree::Primary, Tree::Joliet]
        .into_iter()
        .zip(&trees)
        .enumerate()
    {
        volume_descriptor(
            &mut img[(FIRST_VD + i) * SECTOR..][..SECTOR],
            tree,
            t,
            total,
            &stamp,
        );
        path_tables(&mut img, tree, t, &dirs);
        for &d in &t.order {
            let mut at = t.dir_lba[d] * SECTOR;
            let end = at + t.dir_size[d];
            let parent = dirs[d].parent;
            let mut records = vec![
                (vec![0u8], t.dir_lba[d], t.dir_size[d], true),
                (vec![1u8], t.dir_lba[parent], t.dir_size[parent], true),
            ];
            for e in &t.entries[d] {
                records.push(match e {
                    Entry::Dir(c, id) => (id.clone(), t.dir_lba[*c], t.dir_size[*c], true),
                    Entry::File(f, id) => (id.clone(), file_lba[*f], leaves[*f].1.len(), false),
                });
            }
            for (id, lba, size, is_dir) in records {
                let len = record_len(id.len());
                if at % SECTOR + len > SECTOR {
                    at = at.next_multiple_of(SECTOR);
                }
                dir_record(&mut img[at..at + len], &id, lba, size, is_dir, &stamp);
                at += len;
            }
            debug_assert!(at <= end);
        }
    }
    let vdt = (FIRST_VD + 2) * SECTOR;
    img[vdt] = 255;
    img[vdt + 1..vdt + 6].copy_from_slice(b"CD001");
    img[vdt + 6] = 1;
    for ((_, data), lba) in leaves.iter().zip(file_lba) {
        img[lba * SECTOR..][..data.len()].copy_from_slice(data);
    }
    img
}

/// A recording date in both of ECMA-119's forms, UTC.
struct DirDate {
    binary: [u8; 7],
    digits: [u8; 17],
}

impl DirDate {
    fn from_unix(t: i64) -> DirDate {
        use chrono::{Datelike, Timelike};
        let d = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        let year = d.year().clamp(1900, 2155);
        let binary = [
            (year - 1900) as u8,
            d.month() as u8,
            d.day() as u8,
            d.hour() as u8,
            d.minute() as u8,
            d.second() as u8,
            0,
        ];
        let mut digits = [0u8; 17];
        let text = format!(
            "{year:04}{:02}{:02}{:02}{:02}{:02}00",
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        );
        digits[..16].copy_from_slice(&text.as_bytes()[..16]);
        DirDate { binary, digits }
    }
}

fn dir_record(r: &mut [u8], id: &[u8], lba: usize, size: usize, is_dir: bool, date: &DirDate) {
    r[0] = r.len() as u8;
    both32(r, 2, lba as u32);
    both32(r, 10, size as u32);
    r[18..25].copy_from_slice(&date.binary);
    r[25] = if is_dir { 2 } else { 0 };
    both16(r, 28, 1);
    r[32] = id.len() as u8;
    r[33..33 + id.len()].copy_from_slice(id);
}

/// Fills a text field: ASCII padded with spaces, or UCS-2 for Joliet.
fn text(field: &mut [u8], tree: Tree, s: &str) {
    let bytes = match tree {
        Tree::Primary => s.as_bytes().to_vec(),
        Tree::Joliet => ucs2(s),
    };
    let pad: &[u8] = if tree == Tree::Joliet {
        &[0, b' ']
    } else {
        b" "
    };
    for (i, b) in field.iter_mut().enumerate() {
        *b = match bytes.get(i) {
            Some(&b) => b,
            None => pad[(i - bytes.len()) % pad.len()],
        };
    }
}

fn volume_descriptor(vd: &mut [u8], tree: Tree, t: &Layout, total: usize, date: &DirDate) {
    vd[0] = if tree == Tree::Joliet { 2 } else { 1 };
    vd[1..6].copy_from_slice(b"CD001");
    vd[6] = 1;
    text(&mut vd[8..40], tree, "LINUX");
    text(&mut vd[40..72], tree, LABEL);
    both32(vd, 80, total as u32);
    if tree == Tree::Joliet {
        // UCS-2 level 3.
        vd[88..91].copy_from_slice(b"%/E");
    }
    both16(vd, 120, 1);
    both16(vd, 124, 1);
    both16(vd, 128, SECTOR as u16);
    both32(vd, 132, t.path_table_len as u32);
    vd[140..144].copy_from_slice(&(t.l_table as u32).to_le_bytes());
    vd[148..152].copy_from_slice(&(t.m_table as u32).to_be_bytes());
    dir_record(
        &mut vd[156..190],
        &[0],
        t.dir_lba[0],
        t.dir_size[0],
        true,
        date,
    );
    text(&mut vd[190..318], tree, "");
    text(&mut vd[318..446], tree, "berth");
    text(&mut vd[446..574], tree, "");
    text(&mut vd[574..702], tree, "berth config drive");
    for field in [702..739, 739..776, 776..813] {
        text(&mut vd[field], tree, "");
    }
    vd[813..830].copy_from_slice(&date.digits);
    vd[830..847].copy_from_slice(&date.digits);
    vd[847..863].copy_from_slice(b"0000000000000000");
    vd[864..880].copy_from_slice(b"0000000000000000");
    vd[881] = 1;
}

fn path_tables(img: &mut [u8], tree: Tree, t: &Layout, dirs: &[Dir]) {
    let mut number = vec![0u16; dirs.len()];
    let (mut l, mut m) = (t.l_table * SECTOR, t.m_table * SECTOR);
    for (i, &d) in t.order.iter().enumerate() {
        number[d] = (i + 1) as u16;
        let id = if d == 0 {
            vec![0]
        } else {
            tree.dir_id(&dirs[d].name)
        };
        let parent = number[dirs[d].parent];
        let len = 8 + id.len() + id.len() % 2;
        for (at, big) in [(l, false), (m, true)] {
            let r = &mut img[at..at + len];
            r[0] = id.len() as u8;
            let lba = t.dir_lba[d] as u32;
            r[2..6].copy_from_slice(&if big {
                lba.to_be_bytes()
            } else {
                lba.to_le_bytes()
            });
            r[6..8].copy_from_slice(&if big {
                parent.to_be_bytes()
            } else {
                parent.to_le_bytes()
            });
            r[8..8 + id.len()].copy_from_slice(&id);
        }
        l += len;
        m += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;
    use std::process::Command;

    const UUID: &str = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";

    fn spec() -> Map<String, Value> {
        json!({
            "meta_data": {"hostname": "node-a", "public_keys": {"k": "ssh-ed25519 AAAA test"}},
            "network_data": {"links": [{"id": "eth0", "type": "phy", "ethernet_mac_address": "52:54:00:00:00:01"}],
                              "networks": [], "services": []},
            "user_data": "#cloud-config\nhostname: node-a\n",
            "vendor_data": {"x": "ü"},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn file<'a>(files: &'a [(String, Vec<u8>)], path: &str) -> &'a [u8] {
        &files
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("no {path}"))
            .1
    }

    #[test]
    fn ironic_defaults_and_layout() {
        let f = files(UUID, Some("node-a"), &spec()).unwrap();
        let paths: Vec<&str> = f.iter().map(|(p, _)| p.as_str()).collect();
        for v in VERSIONS {
            for name in [
                "meta_data.json",
                "network_data.json",
                "vendor_data2.json",
                "user_data",
            ] {
                assert!(
                    paths.contains(&format!("openstack/{v}/{name}").as_str()),
                    "{paths:?}"
                );
            }
        }
        let meta: Value =
            serde_json::from_slice(file(&f, "openstack/latest/meta_data.json")).unwrap();
        assert_eq!(meta["uuid"], UUID);
        assert_eq!(meta["name"], "node-a");
        assert_eq!(meta["hostname"], "node-a");
        assert_eq!(
            file(&f, "openstack/latest/user_data"),
            b"#cloud-config\nhostname: node-a\n"
        );
        // Python's json.dumps: ASCII only, ", " and ": ".
        assert_eq!(
            file(&f, "openstack/latest/vendor_data2.json"),
            br#"{"x": "\u00fc"}"#
        );
    }

    #[test]
    fn given_uuid_and_name_win_and_empty_parts_are_left_out() {
        let s = json!({"meta_data": {"uuid": "mine", "name": "theirs"}, "network_data": {}, "user_data": ""});
        let f = files(UUID, Some("node-a"), s.as_object().unwrap()).unwrap();
        assert_eq!(
            f.len(),
            2,
            "only meta_data.json twice: {:?}",
            f.iter().map(|x| &x.0).collect::<Vec<_>>()
        );
        let meta: Value = serde_json::from_slice(&f[0].1).unwrap();
        assert_eq!(meta, json!({"uuid": "mine", "name": "theirs"}));
        // No name on the node: none added; no meta_data at all still gets uuid.
        let f = files(UUID, None, &Map::new()).unwrap();
        assert_eq!(f[0].1, format!("{{\"uuid\": \"{UUID}\"}}").into_bytes());
    }

    #[test]
    fn user_data_object_or_list_is_json() {
        for (ud, want) in [
            (json!({"a": [1, 2]}), r#"{"a": [1, 2]}"#),
            (json!([]), "[]"),
            (json!({}), "{}"),
        ] {
            let s = json!({ "user_data": ud });
            let f = files(UUID, None, s.as_object().unwrap()).unwrap();
            assert_eq!(file(&f, "openstack/latest/user_data"), want.as_bytes());
        }
    }

    #[test]
    fn validate_follows_ironic_schema() {
        let bad = |v: Value| validate(v.as_object().unwrap()).unwrap_err().to_string();
        assert_eq!(
            bad(json!({"foo": 1})),
            "Invalid configdrive format: Additional properties are not allowed ('foo' was unexpected)"
        );
        assert_eq!(
            bad(json!({"meta_data": "x"})),
            "Invalid configdrive format: 'x' is not of type 'object'"
        );
        assert_eq!(
            bad(json!({"user_data": 3})),
            "Invalid configdrive format: 3 is not of type 'object', 'array', 'string', 'null'"
        );
        assert!(validate(
            json!({"user_data": null, "vendor_data": {}})
                .as_object()
                .unwrap()
        )
        .is_ok());
        assert!(build(UUID, None, json!({"bogus": {}}).as_object().unwrap()).is_err());
    }

    #[test]
    fn string_form_round_trips_and_is_bounded() {
        let s = build(UUID, Some("n"), &spec()).unwrap();
        let img = decode(&s).unwrap();
        assert_eq!(&img[16 * SECTOR + 1..16 * SECTOR + 6], b"CD001");
        assert_eq!(&img[16 * SECTOR + 40..16 * SECTOR + 48], b"config-2");
        assert_eq!(decode_size(&s).unwrap(), img.len());
        // Line-wrapped base64 (as some clients send) decodes too.
        let wrapped: String = s
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(decode(&wrapped).unwrap(), img);
        assert!(matches!(
            decode("not base64!"),
            Err(ConfigDriveError::Undecodable(_))
        ));
        assert!(matches!(
            decode("aGVsbG8="),
            Err(ConfigDriveError::Undecodable(_))
        ));
        let huge = encode(&vec![0u8; MAX_IMAGE_BYTES + 1]);
        assert_eq!(
            decode(&huge),
            Err(ConfigDriveError::TooLarge(MAX_IMAGE_BYTES + 1))
        );
        let big = json!({"user_data": "x".repeat(MAX_IMAGE_BYTES / 2)});
        assert!(matches!(
            build(UUID, None, big.as_object().unwrap()),
            Err(ConfigDriveError::TooLarge(_))
        ));
    }

    #[test]
    fn image_is_deterministic_and_sector_aligned() {
        let a = build_image(UUID, None, &spec(), 1_700_000_000).unwrap();
        let b = build_image(UUID, None, &spec(), 1_700_000_000).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len() % SECTOR, 0);
        let total = u32::from_le_bytes(a[16 * SECTOR + 80..16 * SECTOR + 84].try_into().unwrap());
        assert_eq!(total as usize * SECTOR, a.len());
    }

    /// A program from a Debian package, or None (skip) unless
    /// BERTH_REQUIRE_PEERS=1.
    fn tool(bin: &str, package: &str) -> Option<String> {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
            .unwrap_or(false);
        if found {
            return Some(bin.to_string());
        }
        assert_ne!(
            std::env::var("BERTH_REQUIRE_PEERS").as_deref(),
            Ok("1"),
            "{bin} (Debian package {package}) is missing but BERTH_REQUIRE_PEERS=1"
        );
        eprintln!("SKIP: {bin} (Debian package {package}) is not installed");
        None
    }

    fn run(cmd: &str, args: &[&str]) -> String {
        let out = Command::new(cmd).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn image_file(dir: &Path) -> (std::path::PathBuf, Vec<(String, Vec<u8>)>) {
        let f = files(UUID, Some("node-a"), &spec()).unwrap();
        let img = decode(&build(UUID, Some("node-a"), &spec()).unwrap()).unwrap();
        let path = dir.join("cd.iso");
        std::fs::write(&path, img).unwrap();
        (path, f)
    }

    #[test]
    fn blkid_sees_an_iso9660_labelled_config_2() {
        let Some(blkid) = tool("blkid", "util-linux") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let (iso, _) = image_file(dir.path());
        let out = run(&blkid, &["-p", "-o", "export", iso.to_str().unwrap()]);
        assert!(out.contains("LABEL=config-2\n"), "{out}");
        assert!(out.contains("TYPE=iso9660\n"), "{out}");
    }

    #[test]
    fn isoinfo_reads_back_every_file_in_both_trees() {
        let Some(isoinfo) = tool("isoinfo", "genisoimage") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let (iso, files) = image_file(dir.path());
        let iso = iso.to_str().unwrap();
        let pvd = run(&isoinfo, &["-d", "-i", iso]);
        assert!(pvd.contains("Volume id: config-2"), "{pvd}");
        assert!(pvd.contains("Joliet with UCS level 3 found"), "{pvd}");
        let listing = run(&isoinfo, &["-J", "-f", "-i", iso]);
        for (path, data) in &files {
            assert!(
                listing.lines().any(|l| l == format!("/{path}")),
                "{path} not in {listing}"
            );
            let out = Command::new(&isoinfo)
                .args(["-J", "-i", iso, "-x", &format!("/{path}")])
                .output()
                .unwrap();
            assert_eq!(&out.stdout, data, "{path}");
        }
        // The ISO 9660 names too (what a reader without Joliet sees).
        let plain = run(&isoinfo, &["-f", "-i", iso]);
        assert!(
            plain.contains("/OPENSTACK/LATEST/META_DATA.JSON;1"),
            "{plain}"
        );
        let out = Command::new(&isoinfo)
            .args(["-i", iso, "-x", "/OPENSTACK/LATEST/USER_DATA.;1"])
            .output()
            .unwrap();
        assert_eq!(
            out.stdout,
            files
                .iter()
                .find(|f| f.0 == "openstack/latest/user_data")
                .unwrap()
                .1
        );
        if let Some(isovfy) = tool("isovfy", "genisoimage") {
            let out = Command::new(isovfy).arg(iso).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(text.contains("No errors found"), "isovfy: {text}");
        }
    }

    #[test]
    fn the_kernel_mounts_it_with_the_real_names() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: loop mounting needs root");
            return;
        }
        // A container's kernel may lack isofs (the VM test covers a real one).
        let fs = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
        if !fs.lines().any(|l| l.trim_end().ends_with("iso9660")) {
            eprintln!("SKIP: this kernel has no iso9660 filesystem");
            return;
        }
        let Some(mount) = tool("mount", "mount") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let (iso, files) = image_file(dir.path());
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        run(
            &mount,
            &[
                "-o",
                "loop,ro",
                "-t",
                "iso9660",
                iso.to_str().unwrap(),
                mnt.to_str().unwrap(),
            ],
        );
        let read: Vec<Option<Vec<u8>>> = files
            .iter()
            .map(|(p, _)| std::fs::read(mnt.join(p)).ok())
            .collect();
        let listing = run("find", &[mnt.to_str().unwrap()]);
        run("umount", &[mnt.to_str().unwrap()]);
        for ((path, data), got) in files.iter().zip(read) {
            assert_eq!(got.as_deref(), Some(data.as_slice()), "{path} in {listing}");
        }
    }
}
