//! The generated samples in etc/berth/ must match the declarations.
//! Regenerate with `BERTH_UPDATE_SAMPLES=1 cargo test --test samples`.

#![allow(clippy::unwrap_used)]

mod common;

fn check(relative: &str, expected: String) {
    let path = common::repo_root().join(relative);
    if std::env::var("BERTH_UPDATE_SAMPLES").as_deref() == Ok("1") {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == expected,
        "{relative} is out of date: run BERTH_UPDATE_SAMPLES=1 cargo test --test samples"
    );
}

#[test]
fn berth_conf_sample_is_current() {
    check("etc/berth/berth.conf.sample", berth::conf::sample::render());
}

#[test]
fn policy_yaml_sample_is_current() {
    check(
        "etc/berth/policy.yaml.sample",
        berth::auth::policy::sample_yaml(),
    );
}

#[test]
fn the_sample_itself_loads_with_no_warnings() {
    // Every option is commented out, so this proves the file parses and
    // that uncommenting any default would be valid.
    let text = berth::conf::sample::render();
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest)
                if rest.contains(" = ") && !rest.contains("<None>") && !rest.starts_with(' ') =>
            {
                rest.to_string()
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let conf = berth::conf::Config::from_ini(&uncommented).unwrap();
    assert!(conf.warnings.is_empty(), "{:?}", conf.warnings);
}
