//! A reader for oslo.config's INI dialect.
//!
//! `[group]` headers, `key = value` (or `key: value`), `#`/`;` comment lines,
//! indented continuation lines and repeated keys (the last one wins, as for
//! oslo's single-valued options). Keys are kept with their line numbers so
//! errors can point at the file.

use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub group: String,
    pub key: String,
    pub value: String,
    pub line: usize,
}

pub fn parse(text: &str, origin: &Path) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut group: Option<String> = None;
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented {
            // Continuation of the previous value.
            match entries.last_mut() {
                Some(prev) if group.is_some() => {
                    prev.value.push('\n');
                    prev.value.push_str(trimmed);
                    continue;
                }
                _ => {
                    return Err(format!(
                        "{}:{line_no}: unexpected continuation line",
                        origin.display()
                    ))
                }
            }
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| format!("{}:{line_no}: invalid section header", origin.display()))?;
            let name = name.trim();
            if name.is_empty() {
                return Err(format!(
                    "{}:{line_no}: empty section name",
                    origin.display()
                ));
            }
            group = Some(name.to_string());
            continue;
        }
        let Some(current) = group.as_ref() else {
            return Err(format!(
                "{}:{line_no}: no section header before the first option",
                origin.display()
            ));
        };
        let split = trimmed
            .find(['=', ':'])
            .ok_or_else(|| format!("{}:{line_no}: expected 'key = value'", origin.display()))?;
        let key = trimmed[..split].trim();
        if key.is_empty() {
            return Err(format!("{}:{line_no}: empty option name", origin.display()));
        }
        entries.push(Entry {
            group: current.clone(),
            key: key.to_string(),
            value: trimmed[split + 1..].trim().to_string(),
            line: line_no,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_comments_and_continuations() {
        let text = "# c\n[DEFAULT]\nhost = a\n; c\n[api]\nport: 80\nmsg = one\n  two\n";
        let got = parse(text, Path::new("t.conf")).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].key, "host");
        assert_eq!(got[1].group, "api");
        assert_eq!(got[1].value, "80");
        assert_eq!(got[2].value, "one\ntwo");
    }

    #[test]
    fn rejects_option_before_section() {
        let err = parse("host = a\n", Path::new("x.conf")).unwrap_err();
        assert!(err.contains("x.conf:1"), "{err}");
    }

    #[test]
    fn value_may_contain_equals_and_colons() {
        let got = parse(
            "[database]\nconnection = mysql://u:p@h/db?x=1\n",
            Path::new("t"),
        )
        .unwrap();
        assert_eq!(got[0].value, "mysql://u:p@h/db?x=1");
    }
}
