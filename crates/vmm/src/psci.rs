//! PSCI 1.1 as a board's EL3 firmware answers it (Arm DEN 0022), called by the guest with
//! HVC or SMC as the DT's `method` says. The PE operations (CPU_ON, CPU_OFF,
//! AFFINITY_INFO, CPU_SUSPEND) come back as [`Action`]s for the machine, which knows the
//! PEs; everything else is answered here. Other SMCCC function IDs (SiP, OEM, standard
//! services vendor kernels probe) answer NOT_SUPPORTED, as firmware does.

/// PSCI return codes.
pub const SUCCESS: i64 = 0;
pub const NOT_SUPPORTED: i64 = -1;
pub const INVALID_PARAMETERS: i64 = -2;
pub const DENIED: i64 = -3;
pub const ALREADY_ON: i64 = -4;

pub const PSCI_VERSION: u32 = 0x8400_0000;
pub const CPU_SUSPEND_32: u32 = 0x8400_0001;
pub const CPU_SUSPEND_64: u32 = 0xc400_0001;
pub const CPU_OFF: u32 = 0x8400_0002;
pub const CPU_ON_32: u32 = 0x8400_0003;
pub const CPU_ON_64: u32 = 0xc400_0003;
pub const AFFINITY_INFO_32: u32 = 0x8400_0004;
pub const AFFINITY_INFO_64: u32 = 0xc400_0004;
pub const MIGRATE_INFO_TYPE: u32 = 0x8400_0006;
pub const SYSTEM_OFF: u32 = 0x8400_0008;
pub const SYSTEM_RESET: u32 = 0x8400_0009;
pub const PSCI_FEATURES: u32 = 0x8400_000a;

/// AFFINITY_INFO results.
pub const AFFINITY_ON: i64 = 0;
pub const AFFINITY_OFF: i64 = 1;

/// What the machine must do after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Return this value in x0 and continue.
    Return(i64),
    /// The guest powered off.
    PowerOff,
    /// The guest asked for a reset.
    Reset,
    /// CPU_ON: start the PE with affinity `target` at `entry`, x0 = `context`.
    CpuOn {
        target: u64,
        entry: u64,
        context: u64,
    },
    /// CPU_OFF: the calling PE stops (the call does not return).
    CpuOff,
    /// AFFINITY_INFO for affinity `target` at level `level`.
    AffinityInfo { target: u64, level: u64 },
    /// CPU_SUSPEND: wait for an interrupt; for a power-down state (`power_down`) resume
    /// at `entry` with x0 = `context` instead of returning.
    CpuSuspend {
        power_down: bool,
        entry: u64,
        context: u64,
    },
}

/// Whether the firmware implements function `function` (its answer may still be an error
/// code, as PSCI_FEATURES gives for what it does not support).
pub fn implements(function: u64) -> bool {
    u32::try_from(function).is_ok_and(|f| {
        matches!(
            f,
            PSCI_VERSION
                | MIGRATE_INFO_TYPE
                | SYSTEM_OFF
                | SYSTEM_RESET
                | CPU_ON_32
                | CPU_ON_64
                | CPU_OFF
                | CPU_SUSPEND_32
                | CPU_SUSPEND_64
                | AFFINITY_INFO_32
                | AFFINITY_INFO_64
                | PSCI_FEATURES
        )
    })
}

/// The MPIDR affinity fields a PSCI target names (Aff3, Aff2, Aff1, Aff0).
pub fn affinity(v: u64) -> u64 {
    v & 0xff_00ff_ffff
}

/// Handles a firmware call `function` with `args` (x1-x3).
pub fn call(function: u64, args: [u64; 3]) -> Action {
    let Ok(function) = u32::try_from(function) else {
        return Action::Return(NOT_SUPPORTED);
    };
    // SMC32 arguments are 32 bits wide.
    let arg = |i: usize| {
        if function & 0x4000_0000 == 0 {
            args[i] & 0xffff_ffff
        } else {
            args[i]
        }
    };
    match function {
        // Version 1.1: major in [31:16], minor in [15:0].
        PSCI_VERSION => Action::Return(0x0001_0001),
        MIGRATE_INFO_TYPE => Action::Return(2), // no Trusted OS: migration not needed
        SYSTEM_OFF => Action::PowerOff,
        SYSTEM_RESET => Action::Reset,
        CPU_ON_32 | CPU_ON_64 => Action::CpuOn {
            target: affinity(arg(0)),
            entry: arg(1),
            context: arg(2),
        },
        CPU_OFF => Action::CpuOff,
        AFFINITY_INFO_32 | AFFINITY_INFO_64 => Action::AffinityInfo {
            target: affinity(arg(0)),
            level: arg(1),
        },
        // The original power_state format (PSCI_FEATURES reports no extended StateID):
        // StateType [16] is 1 for a power-down state.
        CPU_SUSPEND_32 | CPU_SUSPEND_64 => Action::CpuSuspend {
            power_down: arg(0) & (1 << 16) != 0,
            entry: arg(1),
            context: arg(2),
        },
        PSCI_FEATURES => Action::Return(match u32::try_from(args[0]) {
            Ok(f) if implements(u64::from(f)) => SUCCESS,
            _ => NOT_SUPPORTED,
        }),
        _ => Action::Return(NOT_SUPPORTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_features_for_what_is_implemented() {
        assert_eq!(
            call(u64::from(PSCI_VERSION), [0; 3]),
            Action::Return(0x10001)
        );
        for f in [
            SYSTEM_OFF,
            CPU_ON_64,
            CPU_OFF,
            CPU_SUSPEND_64,
            AFFINITY_INFO_64,
        ] {
            assert_eq!(
                call(u64::from(PSCI_FEATURES), [u64::from(f), 0, 0]),
                Action::Return(0),
                "{f:#x}"
            );
        }
        assert_eq!(
            call(0x8000_0000, [0; 3]),
            Action::Return(NOT_SUPPORTED),
            "SMCCC_VERSION"
        );
    }

    #[test]
    fn pe_operations_go_to_the_machine() {
        assert_eq!(
            call(u64::from(CPU_ON_64), [0x1_0000_0100, 0x4000_0000, 7]),
            Action::CpuOn {
                target: 0x1_0000_0100,
                entry: 0x4000_0000,
                context: 7
            }
        );
        assert_eq!(
            call(
                u64::from(CPU_ON_32),
                [0xffff_ffff_0000_0001, 0x4000_0000, 0]
            ),
            Action::CpuOn {
                target: 1,
                entry: 0x4000_0000,
                context: 0
            },
            "SMC32 arguments are 32 bits"
        );
        assert_eq!(call(u64::from(CPU_OFF), [0; 3]), Action::CpuOff);
        assert_eq!(
            call(u64::from(CPU_SUSPEND_64), [1 << 16, 0x4000_0000, 3]),
            Action::CpuSuspend {
                power_down: true,
                entry: 0x4000_0000,
                context: 3
            }
        );
    }

    #[test]
    fn system_off_and_reset_end_the_run() {
        assert_eq!(call(u64::from(SYSTEM_OFF), [0; 3]), Action::PowerOff);
        assert_eq!(call(u64::from(SYSTEM_RESET), [0; 3]), Action::Reset);
        assert_eq!(
            call(0xdead_beef_0000, [0; 3]),
            Action::Return(NOT_SUPPORTED)
        );
    }
}
