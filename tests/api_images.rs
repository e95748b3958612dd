//! Berth's image store against a real Berth and real qemu-img: raw and
//! qcow2 uploads (converted; checksums compared with the test's own
//! `qemu-img convert` and `sha256sum`), the authenticated and the public
//! downloads (Range included), the refusals (size limit, format mismatch,
//! backing file, second upload) leaving no file behind, delete, Keystone
//! policy, and the `openstack berth image` commands.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{client, expect_fault, fault, ok_json, send, TestBerth};
use reqwest::Method as M;
use serde_json::{json, Value};

const V: &str = "1.115";
const MIB: usize = 1 << 20;
const LIMIT: usize = 8 * MIB;

fn conf() -> String {
    format!(
        "[DEFAULT]\nauth_strategy = noauth\n[conductor]\nsync_power_state_interval = 0\n\
         [images]\nmax_image_size = {LIMIT}\n"
    )
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn qemu_img(args: &[&str]) -> String {
    run(Command::new("qemu-img").args(args))
}

fn sha256sum(path: &Path) -> String {
    run(Command::new("sha256sum").arg(path))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A disk-like raw file: a patterned first MiB, a hole, a patterned tail.
fn raw_disk(path: &Path, size: usize) {
    let mut data = vec![0u8; size];
    for (i, b) in data.iter_mut().enumerate().take(MIB) {
        *b = (i % 251) as u8 ^ 0x5a;
    }
    let tail = size - 4096;
    for (i, b) in data[tail..].iter_mut().enumerate() {
        *b = (i % 13) as u8 + 1;
    }
    std::fs::write(path, data).unwrap();
}

/// The files in the image directory, sorted.
fn image_files(berth: &TestBerth) -> Vec<String> {
    let dir = berth.dir.path().join("images");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn create(base: &str, body: Value) -> reqwest::Response {
    send(
        &client(),
        M::POST,
        &format!("{base}/v1/images"),
        V,
        Some(body),
    )
    .await
}

async fn created(base: &str, name: &str, disk_format: &str) -> Value {
    let body = json!({"name": name, "disk_format": disk_format});
    ok_json(create(base, body).await, 201).await
}

async fn put_file(base: &str, ident: &str, data: Vec<u8>) -> reqwest::Response {
    client()
        .put(format!("{base}/v1/images/{ident}/file"))
        .header("X-OpenStack-Ironic-API-Version", V)
        .header("Content-Type", "application/octet-stream")
        .body(data)
        .send()
        .await
        .unwrap()
}

async fn show(base: &str, ident: &str) -> Value {
    let url = format!("{base}/v1/images/{ident}");
    ok_json(send(&client(), M::GET, &url, V, None).await, 200).await
}

async fn get_bytes(url: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut r = client().get(url);
    if let Some(range) = range {
        r = r.header("Range", range);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.bytes().await.unwrap().to_vec())
}

/// A PUT with a chunked body (no Content-Length), written over a plain
/// socket so the server cannot know the size up front.
fn chunked_put(base: &str, path: &str, chunks: usize) -> (u16, String) {
    let addr = base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![0x42u8; MIB];
    for _ in 0..chunks {
        let sent = write!(s, "{:x}\r\n", chunk.len())
            .and_then(|_| s.write_all(&chunk))
            .and_then(|_| s.write_all(b"\r\n"));
        if sent.is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_and_qcow2_uploads_are_stored_raw_and_served() {
    let berth = TestBerth::start(&conf()).await;
    let base = berth.base.clone();
    let work = tempfile::tempdir().unwrap();
    let raw_path = work.path().join("disk.raw");
    raw_disk(&raw_path, 4 * MIB);
    let raw = std::fs::read(&raw_path).unwrap();

    // Create: queued, no data yet.
    let resp = create(
        &base,
        json!({"name": "debian-raw", "disk_format": "raw", "extra": {"os": "debian"}}),
    )
    .await;
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let img = ok_json(resp, 201).await;
    let uuid = img["uuid"].as_str().unwrap().to_string();
    assert_eq!(location, format!("{base}/v1/images/{uuid}"));
    assert_eq!(img["status"], "queued");
    assert_eq!(img["size"], Value::Null);
    assert_eq!(img["links"][0]["href"], format!("{base}/v1/images/{uuid}"));
    common::api_sample("image-create-response.json", &img, &base);

    // Raw upload: stored as is; sha256 and size of exactly these bytes.
    let done = ok_json(put_file(&base, "debian-raw", raw.clone()).await, 200).await;
    assert_eq!(done["status"], "active");
    assert_eq!(done["size"], raw.len());
    assert_eq!(done["virtual_size"], raw.len());
    assert_eq!(done["os_hash_algo"], "sha256");
    assert_eq!(done["os_hash_value"], sha256sum(&raw_path));
    assert_eq!(done["uploaded_checksum"], done["os_hash_value"]);
    assert_eq!(done["extra"], json!({"os": "debian"}));

    // qcow2 made by qemu-img; Berth's raw must equal the test's own convert.
    let qcow = work.path().join("disk.qcow2");
    let expected = work.path().join("expected.raw");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        raw_path.to_str().unwrap(),
        qcow.to_str().unwrap(),
    ]);
    qemu_img(&[
        "convert",
        "-f",
        "qcow2",
        "-O",
        "raw",
        qcow.to_str().unwrap(),
        expected.to_str().unwrap(),
    ]);
    let q = created(&base, "debian-qcow2", "qcow2").await;
    let quuid = q["uuid"].as_str().unwrap().to_string();
    let qbytes = std::fs::read(&qcow).unwrap();
    assert_ne!(qbytes.len(), raw.len());
    let qdone = ok_json(put_file(&base, &quuid, qbytes.clone()).await, 200).await;
    assert_eq!(qdone["status"], "active", "{qdone}");
    assert_eq!(qdone["os_hash_value"], sha256sum(&expected));
    assert_eq!(qdone["os_hash_value"], sha256sum(&raw_path));
    assert_eq!(qdone["size"], std::fs::metadata(&expected).unwrap().len());
    assert_eq!(qdone["virtual_size"], raw.len());
    assert_eq!(qdone["uploaded_checksum"], sha256sum(&qcow));
    assert_eq!(qdone["uploaded_size"], qbytes.len());
    assert_eq!(qdone["disk_format"], "qcow2");
    common::api_sample("image-show-response.json", &qdone, &base);
    assert_eq!(
        image_files(&berth),
        {
            let mut v = vec![format!("{uuid}.raw"), format!("{quuid}.raw")];
            v.sort();
            v
        },
        "only the raw files stay"
    );

    // Show by name and UUID; list with paging and fields.
    assert_eq!(show(&base, "debian-qcow2").await, qdone);
    let list_url = format!("{base}/v1/images");
    let all = ok_json(send(&client(), M::GET, &list_url, V, None).await, 200).await;
    assert_eq!(all["images"].as_array().unwrap().len(), 2);
    common::api_sample("image-list-response.json", &all, &base);
    let page = format!("{list_url}?limit=1&fields=uuid,status");
    let first = ok_json(send(&client(), M::GET, &page, V, None).await, 200).await;
    assert_eq!(first["images"][0].as_object().unwrap().len(), 3, "{first}");
    let next = first["next"].as_str().unwrap().to_string();
    assert!(next.contains(&format!("marker={uuid}")), "{next}");
    let second = ok_json(send(&client(), M::GET, &next, V, None).await, 200).await;
    assert_eq!(second["images"][0]["uuid"], quuid.as_str());
    expect_fault(
        send(
            &client(),
            M::GET,
            &format!("{list_url}?sort_key=extra"),
            V,
            None,
        )
        .await,
        400,
        "The sort_key value \"extra\" is an invalid field for sorting",
    )
    .await;

    // Downloads: authenticated and public serve the stored bytes; Range works.
    let expected_bytes = std::fs::read(&expected).unwrap();
    for url in [
        format!("{base}/v1/images/{quuid}/file"),
        format!("{base}/deploy/images/{quuid}.raw"),
    ] {
        let (status, body) = get_bytes(&url, None).await;
        assert_eq!(status, 200, "{url}");
        assert!(body == expected_bytes, "{url} served other bytes");
        let (status, part) = get_bytes(&url, Some("bytes=1000-1009")).await;
        assert_eq!(
            (status, part.as_slice()),
            (206, &expected_bytes[1000..1010])
        );
    }
    let (_, body) = get_bytes(&format!("{base}/deploy/images/{uuid}.raw"), None).await;
    assert!(body == raw);

    // Only active images are public; other names are 404 with Ironic's body.
    let pending = created(&base, "pending", "raw").await;
    let puuid = pending["uuid"].as_str().unwrap();
    for name in [
        format!("{puuid}.raw"),
        format!("{}.raw", uuid::Uuid::new_v4()),
        "debian-raw.raw".into(),
        format!("{uuid}.part"),
    ] {
        let resp = client()
            .get(format!("{base}/deploy/images/{name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{name}");
        assert!(fault(resp).await["faultstring"]
            .as_str()
            .unwrap()
            .contains("could not be found"));
    }
    let resp = send(
        &client(),
        M::GET,
        &format!("{base}/v1/images/pending/file"),
        V,
        None,
    )
    .await;
    expect_fault(
        resp,
        404,
        &format!("Image {puuid} has no data: it is queued."),
    )
    .await;

    // One upload per image.
    let resp = put_file(&base, &uuid, b"again".to_vec()).await;
    expect_fault(
        resp,
        409,
        &format!("Image {uuid} already has data or an upload in progress; only a queued image accepts one."),
    )
    .await;

    // Delete removes the row and the file.
    let resp = send(
        &client(),
        M::DELETE,
        &format!("{base}/v1/images/debian-raw"),
        V,
        None,
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(image_files(&berth), vec![format!("{quuid}.raw")]);
    let resp = send(
        &client(),
        M::GET,
        &format!("{base}/v1/images/{uuid}"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 404, &format!("Image {uuid} could not be found.")).await;
    let resp = send(
        &client(),
        M::DELETE,
        &format!("{base}/v1/images/debian-raw"),
        V,
        None,
    )
    .await;
    expect_fault(resp, 404, "Image debian-raw could not be found.").await;
    let (status, _) = get_bytes(&format!("{base}/deploy/images/{uuid}.raw"), None).await;
    assert_eq!(status, 404);
    berth.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_uploads_leave_no_file() {
    let berth = TestBerth::start(&conf()).await;
    let base = berth.base.clone();
    let work = tempfile::tempdir().unwrap();
    let path = |n: &str| -> PathBuf { work.path().join(n) };
    let raw_path = path("small.raw");
    raw_disk(&raw_path, 2 * MIB);
    let small_qcow = path("small.qcow2");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        raw_path.to_str().unwrap(),
        small_qcow.to_str().unwrap(),
    ]);

    // Bad create bodies: Ironic's 400 body, nothing stored.
    for (body, message) in [
        (
            json!({"name": "x", "disk_format": "raw", "os": "linux"}),
            "Schema error for image: Additional properties are not allowed ('os' was unexpected)",
        ),
        (
            json!({"name": "x", "disk_format": "vmdk"}),
            "Schema error for image: disk_format \"vmdk\" is not one of raw, qcow2",
        ),
        (
            json!({"name": "x"}),
            "Schema error for image: 'disk_format' is a required property",
        ),
    ] {
        expect_fault(create(&base, body).await, 400, message).await;
    }
    created(&base, "taken", "raw").await;
    expect_fault(
        create(&base, json!({"name": "taken", "disk_format": "raw"})).await,
        409,
        "An image with name taken already exists.",
    )
    .await;

    // Over the size limit with a Content-Length: 413 before anything is
    // written; the image stays queued and can be uploaded afterwards.
    let big = created(&base, "big", "raw").await;
    let resp = put_file(&base, "big", vec![7u8; LIMIT + MIB]).await;
    let limit_msg =
        format!("The image is larger than the maximum of {LIMIT} bytes ([images]max_image_size).");
    expect_fault(resp, 413, &limit_msg).await;
    assert_eq!(show(&base, "big").await["status"], "queued");
    // The same without a Content-Length: refused while streaming.
    let put_path = format!("/v1/images/{}/file", big["uuid"].as_str().unwrap());
    let b = base.clone();
    let (status, body) =
        tokio::task::spawn_blocking(move || chunked_put(&b, &put_path, LIMIT / MIB + 2))
            .await
            .unwrap();
    assert_eq!(status, 413, "{body}");
    let inner: Value = serde_json::from_str(
        serde_json::from_str::<Value>(&body).unwrap()["error_message"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(inner["faultstring"], limit_msg.as_str());
    assert_eq!(show(&base, "big").await["status"], "queued");
    assert!(image_files(&berth).is_empty(), "{:?}", image_files(&berth));
    let ok = put_file(&base, "big", std::fs::read(&raw_path).unwrap()).await;
    assert_eq!(ok_json(ok, 200).await["status"], "active");

    // Unusable data: the image goes to error with last_error; no file.
    let backing = path("overlay.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-b",
        raw_path.to_str().unwrap(),
        "-F",
        "raw",
        backing.to_str().unwrap(),
    ]);
    let huge = path("huge.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        huge.to_str().unwrap(),
        &format!("{}", 2 * LIMIT),
    ]);
    let cases: Vec<(&str, &str, PathBuf, u16, String)> = vec![
        (
            "raw-but-qcow2",
            "raw",
            small_qcow.clone(),
            400,
            "The uploaded data is qcow2 but the image's disk_format is raw.".into(),
        ),
        (
            "qcow2-but-raw",
            "qcow2",
            raw_path.clone(),
            400,
            "The uploaded data is not qcow2 but the image's disk_format is qcow2.".into(),
        ),
        (
            "with-backing",
            "qcow2",
            backing.clone(),
            400,
            format!(
                "The image refers to a backing file ({}); only self-contained images are accepted.",
                raw_path.display()
            ),
        ),
        (
            "too-big-inside",
            "qcow2",
            huge.clone(),
            413,
            format!(
                "The image's virtual size of {} bytes is larger than the maximum of {LIMIT} bytes ([images]max_image_size).",
                2 * LIMIT
            ),
        ),
    ];
    for (name, format, file, status, message) in cases {
        created(&base, name, format).await;
        let resp = put_file(&base, name, std::fs::read(&file).unwrap()).await;
        expect_fault(resp, status, &message).await;
        let img = show(&base, name).await;
        assert_eq!(img["status"], "error", "{name}");
        assert_eq!(img["last_error"], message.as_str(), "{name}");
        assert_eq!(img["os_hash_value"], Value::Null);
        // An image in error takes no second upload.
        let again = put_file(&base, name, b"x".to_vec()).await;
        assert_eq!(again.status(), 409);
    }
    let big_uuid = big["uuid"].as_str().unwrap();
    assert_eq!(image_files(&berth), vec![format!("{big_uuid}.raw")]);

    // Uploads of a missing image, and of a non-octet-stream body.
    expect_fault(
        put_file(&base, "nope", b"x".to_vec()).await,
        404,
        "Image nope could not be found.",
    )
    .await;
    let resp = client()
        .put(format!("{base}/v1/images/taken/file"))
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    expect_fault(
        resp,
        400,
        "An image upload must be sent as application/octet-stream.",
    )
    .await;
    assert_eq!(show(&base, "taken").await["status"], "queued");
    berth.stop().await;
}

/// With Keystone: a system reader lists but cannot create or delete; no
/// token gets 401 on `/v1/images`, while the deploy download needs none.
#[tokio::test(flavor = "multi_thread")]
async fn keystone_policy_and_the_public_download() {
    let (Some(url), Some(admin_password)) = (
        common::peer("BERTH_TEST_KEYSTONE_URL"),
        common::peer("BERTH_TEST_KEYSTONE_ADMIN_PASSWORD"),
    ) else {
        return;
    };
    let berth = TestBerth::start(&format!(
        "[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_url = {url}\n\
         username = berth\npassword = berth-service\nproject_name = service\n"
    ))
    .await;
    let base = berth.base.clone();
    let token = |user: &'static str, password: String| {
        let url = url.clone();
        async move {
            let body = json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": user, "domain": {"id": "default"}, "password": password}}},
                "scope": {"system": {"all": true}},
            }});
            let resp = client()
                .post(format!("{url}/auth/tokens"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201, "token for {user}");
            resp.headers()["x-subject-token"]
                .to_str()
                .unwrap()
                .to_string()
        }
    };
    let admin = token("admin", admin_password).await;
    let reader = token("demo-reader", "demo-reader".into()).await;
    let call = |method: M, path: String, tok: Option<String>, body: Option<Vec<u8>>| {
        let base = base.clone();
        async move {
            let mut r = client().request(method, format!("{base}{path}"));
            if let Some(t) = tok {
                r = r.header("X-Auth-Token", t);
            }
            if let Some(b) = body {
                r = r.header("Content-Type", "application/octet-stream").body(b);
            }
            r.send().await.unwrap()
        }
    };

    let resp = client()
        .post(format!("{base}/v1/images"))
        .header("X-Auth-Token", &reader)
        .json(&json!({"disk_format": "raw"}))
        .send()
        .await
        .unwrap();
    expect_fault(
        resp,
        403,
        "Access was denied to the following resource: berth:image:create",
    )
    .await;
    let resp = client()
        .post(format!("{base}/v1/images"))
        .header("X-Auth-Token", &admin)
        .json(&json!({"name": "ks", "disk_format": "raw"}))
        .send()
        .await
        .unwrap();
    let uuid = ok_json(resp, 201).await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let data = vec![0x33u8; 3 * 4096];
    let resp = call(
        M::PUT,
        format!("/v1/images/{uuid}/file"),
        Some(reader.clone()),
        Some(data.clone()),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let resp = call(
        M::PUT,
        format!("/v1/images/{uuid}/file"),
        Some(admin.clone()),
        Some(data.clone()),
    )
    .await;
    assert_eq!(ok_json(resp, 200).await["status"], "active");

    let resp = call(M::GET, "/v1/images".into(), Some(reader.clone()), None).await;
    assert_eq!(ok_json(resp, 200).await["images"][0]["uuid"], uuid.as_str());
    let resp = call(
        M::GET,
        format!("/v1/images/{uuid}/file"),
        Some(reader.clone()),
        None,
    )
    .await;
    assert_eq!(resp.bytes().await.unwrap().to_vec(), data);
    for path in ["/v1/images".to_string(), format!("/v1/images/{uuid}/file")] {
        assert_eq!(call(M::GET, path, None, None).await.status(), 401);
    }
    let resp = call(M::GET, format!("/deploy/images/{uuid}.raw"), None, None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), data);
    let resp = call(M::DELETE, format!("/v1/images/{uuid}"), Some(reader), None).await;
    assert_eq!(resp.status(), 403);
    let resp = call(M::DELETE, format!("/v1/images/{uuid}"), Some(admin), None).await;
    assert_eq!(resp.status(), 204);
    berth.stop().await;
}

/// `openstack berth image create/list/show/delete` with the installed plugin.
#[tokio::test(flavor = "multi_thread")]
async fn openstack_berth_image_commands() {
    let berth = TestBerth::start(&conf()).await;
    let Some(cli) = common::cli::Cli::find(&berth.base) else {
        berth.stop().await;
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let raw_path = work.path().join("cli.raw");
    raw_disk(&raw_path, 2 * MIB);
    let qcow = work.path().join("cli.qcow2");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        raw_path.to_str().unwrap(),
        qcow.to_str().unwrap(),
    ]);
    let (c, q) = (cli.bin.clone(), qcow.to_str().unwrap().to_string());
    let base = berth.base.clone();
    // The CLI blocks; run it off the runtime that serves Berth.
    let shown = tokio::task::spawn_blocking(move || {
        let cli = common::cli::Cli { bin: c, base };
        cli.json(&[
            "berth",
            "image",
            "create",
            "--disk-format",
            "qcow2",
            "--file",
            &q,
            "--extra",
            "os=debian",
            "cli-image",
        ])
    })
    .await
    .unwrap();
    assert_eq!(common::cli_field(&shown, "status"), "active", "{shown}");
    assert_eq!(
        common::cli_field(&shown, "os_hash_value"),
        sha256sum(&raw_path).as_str()
    );
    let uuid = common::cli_field(&shown, "uuid")
        .as_str()
        .unwrap()
        .to_string();
    let (c, base) = (cli.bin.clone(), berth.base.clone());
    let u = uuid.clone();
    let (rows, long, one, after, err) = tokio::task::spawn_blocking(move || {
        let cli = common::cli::Cli { bin: c, base };
        let rows = cli.json(&["berth", "image", "list"]);
        let long = cli.json(&["berth", "image", "list", "--long"]);
        let one = cli.json(&["berth", "image", "show", "cli-image"]);
        cli.ok(&["berth", "image", "delete", &u]);
        let after = cli.json(&["berth", "image", "list"]);
        let err = cli.fails(&["berth", "image", "show", &u]);
        (rows, long, one, after, err)
    })
    .await
    .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(common::cli_field(&rows[0], "Name"), "cli-image");
    assert_eq!(common::cli_field(&rows[0], "Disk Format"), "qcow2");
    assert_eq!(
        common::cli_field(&rows[0], "Size").as_u64(),
        Some(2 * MIB as u64)
    );
    assert_eq!(
        common::cli_field(&long[0], "Hash Value"),
        sha256sum(&raw_path).as_str()
    );
    assert_eq!(common::cli_field(&one, "uuid"), uuid.as_str());
    assert_eq!(common::cli_field(&one, "extra"), &json!({"os": "debian"}));
    assert_eq!(after, json!([]));
    assert!(
        err.contains(&format!("Image {uuid} could not be found.")),
        "{err}"
    );
    assert!(image_files(&berth).is_empty());
    berth.stop().await;
}
