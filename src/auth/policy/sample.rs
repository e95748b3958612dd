//! Renders the defaults as a commented-out `policy.yaml.sample`.
//!
//! The layout is `oslopolicy-sample-generator`'s: wrapped description, one
//! `# METHOD  path` line per operation, the intended scopes, then the rule
//! itself commented out, so operators can diff it against Ironic's sample.

use super::defaults::DEFAULTS;
use super::RuleDefault;

/// oslo wraps help text with `textwrap.wrap(text, 70)`, indent included.
const WRAP_WIDTH: usize = 70;

/// The sample policy file for every default rule Berth registers.
pub fn sample_yaml() -> String {
    render(DEFAULTS)
}

pub(crate) fn render(defaults: &[RuleDefault]) -> String {
    defaults.iter().map(render_rule).collect()
}

fn render_rule(rule: &RuleDefault) -> String {
    let mut text = String::new();
    if !rule.description.is_empty() {
        text.push_str(&help_text(rule.description));
        text.push('\n');
    }
    for (method, path) in rule.operations {
        text.push_str(&format!("# {method}  {path}\n"));
    }
    if !rule.scope_types.is_empty() {
        text.push_str(&format!(
            "# Intended scope(s): {}\n",
            rule.scope_types.join(", ")
        ));
    }
    text.push_str(&format!(
        "#\"{}\": \"{}\"\n\n",
        yaml_escape(rule.name),
        yaml_escape(rule.check_str)
    ));
    text
}

/// Keeps the uncommented line valid YAML; oslo writes the raw text, which is
/// identical for every string without `"` or `\`.
fn yaml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// oslo's `_format_help_text`: paragraphs are joined and wrapped, blank lines
/// become `#`, indented lines are kept verbatim.
fn help_text(description: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    for line in description.trim().lines() {
        if line.trim().is_empty() {
            lines.extend(wrap(&paragraph.join(" ")));
            lines.push("#".to_string());
            paragraph.clear();
        } else if line.starts_with(char::is_whitespace) {
            if !paragraph.is_empty() {
                lines.extend(wrap(&paragraph.join(" ")));
                lines.push("#".to_string());
                paragraph.clear();
            }
            lines.push(format!("# {}", line.trim_end()));
        } else {
            paragraph.push(line.trim_end());
        }
    }
    if !paragraph.is_empty() {
        lines.extend(wrap(&paragraph.join(" ")));
    }
    lines.join("\n")
}

/// Greedy word wrap to [`WRAP_WIDTH`] with a `# ` prefix on every line.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > WRAP_WIDTH {
            lines.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            line.push_str("# ");
        } else {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rule_layout_matches_the_oslo_generator() {
        let rule = RuleDefault {
            name: "baremetal:node:create",
            check_str: "role:admin and system_scope:all",
            description: "Create Node records",
            operations: &[("POST", "/nodes")],
            scope_types: &["system", "project"],
        };
        assert_eq!(
            render(&[rule]),
            "# Create Node records\n\
             # POST  /nodes\n\
             # Intended scope(s): system, project\n\
             #\"baremetal:node:create\": \"role:admin and system_scope:all\"\n\n"
        );
    }

    #[test]
    fn rule_without_operations_or_scope() {
        let rule = RuleDefault {
            name: "is_node_owner",
            check_str: "project_id:%(node.owner)s",
            description: "Owner of node",
            operations: &[],
            scope_types: &[],
        };
        assert_eq!(
            render(&[rule]),
            "# Owner of node\n#\"is_node_owner\": \"project_id:%(node.owner)s\"\n\n"
        );
    }

    #[test]
    fn long_descriptions_wrap_at_70_columns() {
        let text = help_text(
            "Show or mask secrets within node driver information in API responses. This \
             setting should be used with the utmost care as its use can present a security risk.",
        );
        assert_eq!(
            text,
            "# Show or mask secrets within node driver information in API\n\
             # responses. This setting should be used with the utmost care as its\n\
             # use can present a security risk."
        );
        assert!(text.lines().all(|l| l.len() <= WRAP_WIDTH));
        assert_eq!(
            help_text("one\n\ntwo\n  literal"),
            "# one\n#\n# two\n#\n#   literal"
        );
    }

    #[test]
    fn sample_lists_every_default_and_uncomments_to_valid_yaml() {
        let sample = sample_yaml();
        let uncommented: String = sample
            .lines()
            .filter_map(|line| line.strip_prefix("#\""))
            .map(|line| format!("\"{line}\n"))
            .collect();
        let parsed: serde_yaml::Mapping = serde_yaml::from_str(&uncommented).unwrap();
        assert_eq!(parsed.len(), DEFAULTS.len());
        for rule in DEFAULTS {
            assert_eq!(
                parsed.get(rule.name).and_then(|v| v.as_str()),
                Some(rule.check_str),
                "{}",
                rule.name
            );
        }
    }
}
