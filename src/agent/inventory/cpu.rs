//! `cpu`: model, frequency, logical CPU count, flags and sockets from
//! `/proc/cpuinfo`.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Tree;

/// IPA's `cpu` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cpu {
    pub model_name: Option<String>,
    /// MHz as text with three decimals, as IPA reports it.
    pub frequency: Option<String>,
    pub count: u32,
    pub architecture: String,
    pub flags: Vec<String>,
    pub socket_count: Option<u32>,
}

pub fn collect(tree: &Tree) -> Cpu {
    let text = tree.text(&tree.path("/proc/cpuinfo")).unwrap_or_default();
    let mut cpu = parse_cpuinfo(&text);
    if cpu.frequency.is_none() {
        // Without `cpu MHz` (arm64, some hypervisors): the cpufreq maximum, kHz.
        cpu.frequency = tree
            .number(&tree.path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"))
            .map(|khz| format!("{:.3}", khz as f64 / 1000.0));
    }
    cpu.architecture = tree
        .value(&tree.path("/proc/sys/kernel/arch"))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    if cpu.count == 0 {
        tracing::warn!("no processors found in /proc/cpuinfo");
    }
    cpu
}

/// The parsing proper; the architecture is left empty.
pub fn parse_cpuinfo(text: &str) -> Cpu {
    let mut cpu = Cpu::default();
    let mut sockets = BTreeSet::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "processor" => cpu.count += 1,
            // x86 / arm64 / ppc64 / s390x spellings of the model.
            "model name" | "cpu model" | "cpu" | "Processor"
                if cpu.model_name.is_none() && !value.is_empty() =>
            {
                cpu.model_name = Some(value.to_string())
            }
            "cpu MHz" | "clock" if cpu.frequency.is_none() => {
                cpu.frequency = value
                    .trim_end_matches("MHz")
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .map(|mhz| format!("{mhz:.3}"))
            }
            "flags" | "Features" if cpu.flags.is_empty() => {
                cpu.flags = value.split_whitespace().map(str::to_string).collect()
            }
            "physical id" => {
                sockets.insert(value.to_string());
            }
            _ => {}
        }
    }
    cpu.socket_count = match sockets.len() {
        0 if cpu.count > 0 => Some(1),
        0 => None,
        n => u32::try_from(n).ok(),
    };
    cpu
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_socket_x86() {
        let mut text = String::new();
        for (n, socket) in [(0, 0), (1, 0), (2, 1), (3, 1)] {
            text.push_str(&format!(
                "processor\t: {n}\nmodel name\t: Intel(R) Xeon(R) Gold 6130\ncpu MHz\t\t: 2100\n\
                 physical id\t: {socket}\nflags\t\t: fpu vmx sse\n\n"
            ));
        }
        let cpu = parse_cpuinfo(&text);
        assert_eq!(cpu.count, 4);
        assert_eq!(cpu.socket_count, Some(2));
        assert_eq!(cpu.frequency.as_deref(), Some("2100.000"));
        assert_eq!(
            cpu.model_name.as_deref(),
            Some("Intel(R) Xeon(R) Gold 6130")
        );
        assert_eq!(cpu.flags, vec!["fpu", "vmx", "sse"]);
    }

    #[test]
    fn arm64_without_model_or_mhz() {
        let text = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU part\t: 0xd0c\n\n\
                    processor\t: 1\nFeatures\t: fp asimd\n";
        let cpu = parse_cpuinfo(text);
        assert_eq!(cpu.count, 2);
        assert_eq!(cpu.socket_count, Some(1));
        assert_eq!(cpu.model_name, None);
        assert_eq!(cpu.frequency, None);
        assert_eq!(cpu.flags, vec!["fp", "asimd"]);
    }

    #[test]
    fn cpufreq_and_arch_files_are_used() {
        let dir = tempfile::tempdir().unwrap();
        super::super::fixture::file(dir.path(), "proc/cpuinfo", "processor : 0\n");
        super::super::fixture::file(
            dir.path(),
            "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
            "2600000\n",
        );
        super::super::fixture::file(dir.path(), "proc/sys/kernel/arch", "aarch64\n");
        let cpu = collect(&Tree::new(dir.path()));
        assert_eq!(cpu.frequency.as_deref(), Some("2600.000"));
        assert_eq!(cpu.architecture, "aarch64");
        assert_eq!(parse_cpuinfo(""), Cpu::default());
    }
}
