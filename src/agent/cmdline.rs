//! The kernel command line: the URLs and the boot NIC the agent is given,
//! under ironic-python-agent's parameter names.

/// What the agent takes from the kernel command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelArgs {
    /// `ipa-inspection-callback-url`: where the inventory is posted.
    pub inspection_callback_url: Option<String>,
    /// `ipa-api-url`: Berth's API root, for heartbeats.
    pub api_url: Option<String>,
    /// `BOOTIF`: the MAC that PXE-booted, as `aa:bb:cc:dd:ee:ff`.
    pub boot_mac: Option<String>,
    /// `berth-agent.debug=1`.
    pub debug: bool,
}

impl KernelArgs {
    /// Parses `/proc/cmdline` text. Unknown parameters are ignored; a later
    /// parameter overrides an earlier one, as the kernel's own parsing does.
    pub fn parse(text: &str) -> KernelArgs {
        let mut args = KernelArgs::default();
        for word in split_words(text) {
            let (key, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (word.as_str(), None),
            };
            let value = value.map(str::trim).filter(|v| !v.is_empty());
            match key {
                "ipa-inspection-callback-url" => {
                    args.inspection_callback_url = value.map(str::to_string)
                }
                "ipa-api-url" => args.api_url = value.map(|v| v.trim_end_matches('/').to_string()),
                "BOOTIF" => args.boot_mac = value.and_then(bootif_mac),
                "berth-agent.debug" => {
                    args.debug = matches!(value, None | Some("1" | "true" | "yes" | "on"))
                }
                _ => {}
            }
        }
        args
    }
}

/// Splits on whitespace; double quotes group a value containing spaces (the
/// kernel's rule) and are removed.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `01-52-54-00-b0-00-01` (pxelinux, ARP type first) or `52-54-00-b0-00-01`
/// (iPXE `${mac:hexhyp}`), `:` accepted too, into `52:54:00:b0:00:01`.
pub fn bootif_mac(raw: &str) -> Option<String> {
    let groups: Vec<&str> = raw.split(['-', ':']).collect();
    let groups = match groups.len() {
        7 => &groups[1..],
        6 => &groups[..],
        _ => return None,
    };
    if groups
        .iter()
        .all(|g| g.len() == 2 && g.chars().all(|c| c.is_ascii_hexdigit()))
    {
        Some(groups.join(":").to_ascii_lowercase())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ipxe_script_parameters() {
        let args = KernelArgs::parse(
            "BOOT_IMAGE=/vmlinuz console=ttyS0 ipa-inspection-callback-url=http://198.18.0.1:6385/v1/continue_inspection \
             ipa-api-url=http://198.18.0.1:6385/ BOOTIF=01-52-54-00-B0-00-01 berth-agent.debug=1\n",
        );
        assert_eq!(
            args,
            KernelArgs {
                inspection_callback_url: Some(
                    "http://198.18.0.1:6385/v1/continue_inspection".into()
                ),
                api_url: Some("http://198.18.0.1:6385".into()),
                boot_mac: Some("52:54:00:b0:00:01".into()),
                debug: true,
            }
        );
    }

    #[test]
    fn missing_or_odd_parameters_are_none() {
        assert_eq!(KernelArgs::parse(""), KernelArgs::default());
        let args = KernelArgs::parse("ipa-api-url= BOOTIF=zz-zz berth-agent.debug=0 quiet");
        assert_eq!(args, KernelArgs::default());
        // The last one wins.
        let args = KernelArgs::parse("ipa-api-url=http://a ipa-api-url=http://b");
        assert_eq!(args.api_url.as_deref(), Some("http://b"));
        // A bare flag enables debugging.
        assert!(KernelArgs::parse("berth-agent.debug").debug);
    }

    #[test]
    fn quotes_group_words() {
        let args = KernelArgs::parse("x=\"a b\" ipa-api-url=\"http://h:1\"");
        assert_eq!(args.api_url.as_deref(), Some("http://h:1"));
        assert_eq!(split_words("a \"b c\"  d"), vec!["a", "b c", "d"]);
    }

    #[test]
    fn bootif_forms() {
        assert_eq!(
            bootif_mac("01-52-54-00-b0-00-01").as_deref(),
            Some("52:54:00:b0:00:01")
        );
        assert_eq!(
            bootif_mac("52-54-00-b0-00-01").as_deref(),
            Some("52:54:00:b0:00:01")
        );
        assert_eq!(
            bootif_mac("52:54:00:B0:00:01").as_deref(),
            Some("52:54:00:b0:00:01")
        );
        assert_eq!(bootif_mac("52-54-00-b0-00"), None);
        assert_eq!(bootif_mac("52-54-00-b0-00-1"), None);
        assert_eq!(bootif_mac(""), None);
    }
}
