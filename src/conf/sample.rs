//! Renders `etc/berth/berth.conf.sample` from the declarations, in
//! oslo-config-generator's layout (every option commented out with its default).

use super::opt::OptKind;
use super::GROUPS;

const WIDTH: usize = 70;

pub fn render() -> String {
    let mut out = String::new();
    for group in GROUPS {
        out.push_str(&format!("[{}]\n", group.name));
        if !group.help.is_empty() {
            out.push('\n');
            for line in wrap(group.help) {
                out.push_str(&format!("# {line}\n"));
            }
        }
        out.push_str("\n#\n# From berth\n#\n");
        for opt in group.opts {
            out.push('\n');
            let help = format!("{} ({})", opt.help, opt.type_label());
            for line in wrap(&help) {
                out.push_str(&format!("# {line}\n"));
            }
            match opt.kind {
                OptKind::Int { min, max } => {
                    if let Some(min) = min {
                        out.push_str(&format!("# Minimum value: {min}\n"));
                    }
                    if let Some(max) = max {
                        out.push_str(&format!("# Maximum value: {max}\n"));
                    }
                }
                OptKind::Port => {
                    out.push_str("# Minimum value: 0\n# Maximum value: 65535\n");
                }
                OptKind::Choice(choices) => {
                    out.push_str("# Possible values:\n");
                    for c in choices {
                        out.push_str(&format!("# {c}\n"));
                    }
                }
                _ => {}
            }
            match opt.default {
                Some(d) => out.push_str(&format!("#{} = {}\n", opt.name, d)),
                None => out.push_str(&format!("#{} = <None>\n", opt.name)),
            }
        }
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > WIDTH {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
