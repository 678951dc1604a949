//! PSCI 1.1 as the firmware of a single-PE board answers it (Arm DEN 0022), called by the
//! guest with HVC or SMC as the DT's `method` says.

/// PSCI return codes.
pub const SUCCESS: i64 = 0;
pub const NOT_SUPPORTED: i64 = -1;
pub const INVALID_PARAMETERS: i64 = -2;
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

/// What the machine must do after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Return this value in x0 and continue.
    Return(i64),
    /// The guest powered off.
    PowerOff,
    /// The guest asked for a reset.
    Reset,
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
                | AFFINITY_INFO_32
                | AFFINITY_INFO_64
                | PSCI_FEATURES
        )
    })
}

/// Handles a PSCI call for the PE whose MPIDR affinity is `self_mpidr`; `args` are x1-x3.
pub fn call(function: u64, args: [u64; 3], self_mpidr: u64) -> Action {
    let Ok(function) = u32::try_from(function) else {
        return Action::Return(NOT_SUPPORTED);
    };
    let aff = |v: u64| v & 0xff_00ff_ffff;
    match function {
        // Version 1.1: major in [31:16], minor in [15:0].
        PSCI_VERSION => Action::Return(0x0001_0001),
        MIGRATE_INFO_TYPE => Action::Return(2), // no Trusted OS: migration not needed
        SYSTEM_OFF => Action::PowerOff,
        SYSTEM_RESET => Action::Reset,
        CPU_ON_32 | CPU_ON_64 => Action::Return(if aff(args[0]) == aff(self_mpidr) {
            ALREADY_ON
        } else {
            INVALID_PARAMETERS
        }),
        AFFINITY_INFO_32 | AFFINITY_INFO_64 => Action::Return(if aff(args[0]) == aff(self_mpidr) {
            0 // ON
        } else {
            INVALID_PARAMETERS
        }),
        PSCI_FEATURES => Action::Return(match u32::try_from(args[0]) {
            Ok(
                PSCI_VERSION | MIGRATE_INFO_TYPE | SYSTEM_OFF | SYSTEM_RESET | CPU_ON_32
                | CPU_ON_64 | AFFINITY_INFO_32 | AFFINITY_INFO_64 | PSCI_FEATURES,
            ) => SUCCESS,
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
            call(u64::from(PSCI_VERSION), [0; 3], 0),
            Action::Return(0x10001)
        );
        assert_eq!(
            call(u64::from(PSCI_FEATURES), [u64::from(SYSTEM_OFF), 0, 0], 0),
            Action::Return(0)
        );
        assert_eq!(
            call(
                u64::from(PSCI_FEATURES),
                [u64::from(CPU_SUSPEND_64), 0, 0],
                0
            ),
            Action::Return(NOT_SUPPORTED)
        );
        assert_eq!(
            call(0x8000_0000, [0; 3], 0),
            Action::Return(NOT_SUPPORTED),
            "SMCCC_VERSION"
        );
    }

    #[test]
    fn single_pe_answers_to_cpu_on_and_affinity_info() {
        assert_eq!(
            call(u64::from(CPU_ON_64), [0, 0x4000_0000, 0], 0),
            Action::Return(ALREADY_ON)
        );
        assert_eq!(
            call(u64::from(CPU_ON_64), [1, 0x4000_0000, 0], 0),
            Action::Return(INVALID_PARAMETERS)
        );
        assert_eq!(
            call(u64::from(AFFINITY_INFO_64), [0, 0, 0], 0),
            Action::Return(0)
        );
    }

    #[test]
    fn system_off_and_reset_end_the_run() {
        assert_eq!(call(u64::from(SYSTEM_OFF), [0; 3], 0), Action::PowerOff);
        assert_eq!(call(u64::from(SYSTEM_RESET), [0; 3], 0), Action::Reset);
        assert_eq!(
            call(0xdead_beef_0000, [0; 3], 0),
            Action::Return(NOT_SUPPORTED)
        );
    }
}
