//! Named checks of the Arm rules that differ from IEEE defaults or other architectures.
//! Expected values were confirmed with qemu-aarch64 (see qemu_oracle.rs for the full sweep).

use fpsimd::{
    Format, Fp, Rounding, FPCR_DN, FPCR_FZ, FPCR_FZ16, FPSR_IDC, FPSR_IOC, FPSR_IXC, FPSR_UFC,
};

const RZ: u32 = 3 << 22;

#[test]
fn underflow_is_detected_before_rounding() {
    // (1 - 2^-24) * 2^-126 rounds up to the smallest normal, yet UFC is set (FPCR.AH == 0).
    let mut fp = Fp::new(0);
    assert_eq!(fp.mul32(0x3F7F_FFFF, 0x0080_0000), 0x0080_0000);
    assert_eq!(fp.fpsr, FPSR_UFC | FPSR_IXC);
}

#[test]
fn signalling_nan_wins_over_earlier_quiet_nan() {
    let mut fp = Fp::new(0);
    assert_eq!(fp.add32(0x7FC0_0001, 0x7F80_0002), 0x7FC0_0002);
    assert_eq!(fp.fpsr, FPSR_IOC);
}

#[test]
fn first_quiet_nan_propagates_with_payload() {
    let mut fp = Fp::new(0);
    assert_eq!(
        fp.mul64(0xFFF8_0000_0000_0123, 0x7FF8_0000_0000_0456),
        0xFFF8_0000_0000_0123
    );
    assert_eq!(fp.fpsr, 0);
}

#[test]
fn default_nan_mode_replaces_propagated_nans() {
    let mut fp = Fp::new(FPCR_DN);
    assert_eq!(fp.sub16(0xFC01, 0x3C00), 0x7E00);
    assert_eq!(fp.fpsr, FPSR_IOC);
}

#[test]
fn fz_flushes_single_inputs_with_idc() {
    let mut fp = Fp::new(FPCR_FZ);
    assert_eq!(fp.add32(0x0000_0001, 0x8000_0000), 0x0000_0000);
    assert_eq!(fp.fpsr, FPSR_IDC);
}

#[test]
fn fz16_flushes_half_inputs_without_idc() {
    let mut fp = Fp::new(FPCR_FZ16);
    assert_eq!(fp.add16(0x0001, 0x8000), 0x0000);
    assert_eq!(fp.fpsr, 0);
}

#[test]
fn fz16_flushes_tiny_half_results_with_ufc_only() {
    let mut fp = Fp::new(FPCR_FZ16);
    assert_eq!(fp.mul16(0x0400, 0x3800), 0x0000);
    assert_eq!(fp.fpsr, FPSR_UFC);
}

#[test]
fn fcvt_to_half_ignores_fz16() {
    let mut fp = Fp::new(FPCR_FZ16 | FPCR_FZ);
    assert_eq!(
        fp.convert(Format::Single, Format::Half, 0x3380_0000),
        0x0001
    );
    assert_eq!(fp.fpsr, 0);
}

#[test]
fn fused_multiply_add_rounds_once() {
    // (1 + 2^-52) * (1 - 2^-52) - 1 = -2^-104 exactly; an unfused sequence would give 0.
    let mut fp = Fp::new(0);
    let one = 0x3FF0_0000_0000_0000;
    assert_eq!(
        fp.fnmsub64(0x3FF0_0000_0000_0001, 0x3FEF_FFFF_FFFF_FFFE, one),
        0xB970_0000_0000_0000
    );
    assert_eq!(fp.fpsr, 0);
}

#[test]
fn fmaxnm_ignores_a_single_quiet_nan() {
    let mut fp = Fp::new(0);
    assert_eq!(fp.maxnm32(0x7FC0_0000, 0xBF80_0000), 0xBF80_0000);
    assert_eq!(fp.fpsr, 0);
}

#[test]
fn fmax_of_opposite_zeros_is_plus_zero_and_fmin_minus_zero() {
    let mut fp = Fp::new(0);
    assert_eq!(fp.max64(0x8000_0000_0000_0000, 0), 0);
    assert_eq!(fp.min64(0, 0x8000_0000_0000_0000), 0x8000_0000_0000_0000);
}

#[test]
fn fcmp_is_quiet_and_fcmpe_signals_on_quiet_nan() {
    let mut fp = Fp::new(0);
    assert_eq!(fp.compare(Format::Single, 0x7FC0_0000, 0, false), 0b0011);
    assert_eq!(fp.fpsr, 0);
    assert_eq!(fp.compare(Format::Single, 0x7FC0_0000, 0, true), 0b0011);
    assert_eq!(fp.fpsr, FPSR_IOC);
}

#[test]
fn float_to_int_saturates_with_ioc_and_no_ixc() {
    let mut fp = Fp::new(RZ);
    assert_eq!(
        fp.to_int(
            Format::Double,
            0x41F0_0000_0000_0000,
            false,
            32,
            Rounding::Zero
        ),
        0x7FFF_FFFF
    );
    assert_eq!(fp.fpsr, FPSR_IOC);
}

#[test]
fn recpe_uses_the_eight_bit_table() {
    // FRECPE(1.0) = 0.998046875 (estimate 511/512).
    let mut fp = Fp::new(0);
    assert_eq!(fp.recpe32(0x3F80_0000), 0x3F7F_8000);
}
