//! The PSCI calls Linux 7.3 makes on heap-soc.dts ("arm,psci-1.0", method "hvc"), in the
//! order drivers/firmware/psci/psci.c makes them: psci_1_0_init -> psci_0_2_init ->
//! psci_probe (version, psci_init_migrate, psci_init_smccc, psci_init_cpu_suspend,
//! psci_init_system_suspend, psci_init_system_reset2, psci_init_system_off2), then
//! pm_power_off = psci_sys_poweroff and the restart handler psci_sys_reset.

use vmm::psci::{call, Action, NOT_SUPPORTED};

const PSCI_0_2_FN_PSCI_VERSION: u64 = 0x8400_0000;
const PSCI_0_2_FN_MIGRATE_INFO_TYPE: u64 = 0x8400_0006;
const PSCI_0_2_FN_MIGRATE_INFO_UP_CPU: u64 = 0x8400_0007;
const PSCI_0_2_FN_SYSTEM_OFF: u64 = 0x8400_0008;
const PSCI_0_2_FN_SYSTEM_RESET: u64 = 0x8400_0009;
const PSCI_1_0_FN_PSCI_FEATURES: u64 = 0x8400_000a;
const PSCI_0_2_FN64_CPU_SUSPEND: u32 = 0xc400_0001;
const PSCI_1_0_FN64_SYSTEM_SUSPEND: u32 = 0xc400_000e;
const PSCI_1_1_FN64_SYSTEM_RESET2: u32 = 0xc400_0012;
const PSCI_1_3_FN64_SYSTEM_OFF2: u32 = 0xc400_0015;
const ARM_SMCCC_VERSION_FUNC_ID: u32 = 0x8000_0000;
const PSCI_0_2_TOS_UP_MIGRATE: i64 = 0;
const PSCI_0_2_TOS_UP_NO_MIGRATE: i64 = 1;
const PSCI_0_2_TOS_MP: i64 = 2;

/// invoke_psci_fn as __invoke_psci_fn_hvc: x0 comes back as an int.
fn invoke(f: u64, a1: u64) -> i64 {
    match call(f, [a1, 0, 0]) {
        Action::Return(v) => i64::from(v as i32),
        other => panic!("0x{f:x} ended the run: {other:?}"),
    }
}

fn psci_features(id: u32) -> i64 {
    invoke(PSCI_1_0_FN_PSCI_FEATURES, u64::from(id))
}

#[test]
fn psci_probe_sees_a_1_x_firmware_with_smccc_1_0_and_cpu_suspend() {
    let ver = invoke(PSCI_0_2_FN_PSCI_VERSION, 0) as u32;
    let (major, minor) = (ver >> 16, ver & 0xffff);
    assert!(
        !(major == 0 && minor < 2),
        "Conflicting PSCI version detected"
    );
    assert!(major >= 1, "\"arm,psci-1.0\" firmware answers 1.x");
    // psci_init_migrate
    let tos = invoke(PSCI_0_2_FN_MIGRATE_INFO_TYPE, 0);
    assert_eq!(tos, PSCI_0_2_TOS_MP, "Trusted OS migration not required");
    assert!(tos != PSCI_0_2_TOS_UP_MIGRATE && tos != PSCI_0_2_TOS_UP_NO_MIGRATE);
    // psci_init_smccc: SMCCC_VERSION is only called if PSCI_FEATURES lists it.
    let smccc = psci_features(ARM_SMCCC_VERSION_FUNC_ID);
    assert_eq!(
        smccc, NOT_SUPPORTED,
        "SMC Calling Convention v1.0: no SMCCC 1.1 calls follow"
    );
    // psci_init_cpu_suspend, psci_init_system_suspend, psci_init_system_reset2,
    // psci_init_system_off2: each feature is used only if not NOT_SUPPORTED.
    for f in [
        PSCI_1_0_FN64_SYSTEM_SUSPEND,
        PSCI_1_1_FN64_SYSTEM_RESET2,
        PSCI_1_3_FN64_SYSTEM_OFF2,
    ] {
        assert_eq!(
            psci_features(f),
            NOT_SUPPORTED,
            "0x{f:x} is not implemented"
        );
        // ... and calling one anyway must not pretend to work.
        assert_eq!(invoke(u64::from(f), 0), NOT_SUPPORTED);
    }
    // The mandatory functions are listed, and CPU_SUSPEND (original power_state format:
    // feature flags 0).
    for f in [
        PSCI_0_2_FN_SYSTEM_OFF,
        PSCI_0_2_FN_SYSTEM_RESET,
        PSCI_0_2_FN_PSCI_VERSION,
        u64::from(PSCI_0_2_FN64_CPU_SUSPEND),
    ] {
        assert_eq!(psci_features(f as u32), 0, "0x{f:x}");
    }
    // MIGRATE_INFO_UP_CPU is only asked for with a UP Trusted OS; unimplemented here.
    assert_eq!(invoke(PSCI_0_2_FN_MIGRATE_INFO_UP_CPU, 0), NOT_SUPPORTED);
}

#[test]
fn poweroff_and_restart_end_the_run() {
    // psci_sys_poweroff
    assert_eq!(call(PSCI_0_2_FN_SYSTEM_OFF, [0; 3]), Action::PowerOff);
    // psci_sys_reset without SYSTEM_RESET2 support: SYSTEM_RESET.
    assert_eq!(call(PSCI_0_2_FN_SYSTEM_RESET, [0; 3]), Action::Reset);
}
