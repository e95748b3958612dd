//! The deploy steps of the `direct` deploy interface (Ironic's
//! `AgentDeploy`): boot the ramdisk, have its agent write the image, set
//! the node to boot from its disk, power the ramdisk off and boot the
//! instance. The conductor runs them (`conductor::direct_deploy`).

use super::fake_steps::{step, FakeStep, StepKind};
use super::InterfaceKind;

const fn deploy_step(name: &'static str, priority: i64) -> FakeStep {
    FakeStep {
        priority,
        ..step(StepKind::Deploy, InterfaceKind::Deploy, name)
    }
}

/// Ironic's priorities, so user steps and deploy templates interleave with
/// them as they would with Ironic.
pub const DIRECT_DEPLOY_STEPS: &[FakeStep] = &[
    FakeStep {
        abortable: true,
        waits: true,
        ..deploy_step("deploy", 100)
    },
    FakeStep {
        waits: true,
        ..deploy_step("write_image", 80)
    },
    deploy_step("prepare_instance_boot", 60),
    deploy_step("tear_down_agent", 40),
    deploy_step("switch_to_tenant_network", 30),
    deploy_step("boot_instance", 20),
];

/// The deploy interface name these steps belong to.
pub const DIRECT: &str = "direct";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_run_in_ironics_order() {
        let priorities: Vec<i64> = DIRECT_DEPLOY_STEPS.iter().map(|s| s.priority).collect();
        assert_eq!(priorities, vec![100, 80, 60, 40, 30, 20]);
        assert!(DIRECT_DEPLOY_STEPS
            .iter()
            .all(|s| s.kind == StepKind::Deploy && s.interface == InterfaceKind::Deploy));
    }
}
