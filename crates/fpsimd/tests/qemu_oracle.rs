//! Differential tests of fpsimd against qemu-aarch64 (the oracle for Arm FP behaviour).
//! Each group builds one static AArch64 program with aarch64-linux-gnu-gcc and runs all of
//! its cases in one qemu-aarch64 process.

mod oracle;

/// Random operand sets per operation, on top of the special-value cross products.
/// `FPSIMD_ORACLE_CASES=<n>` overrides it for a deeper (slower) sweep; the seed stays fixed.
fn random() -> usize {
    std::env::var("FPSIMD_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn arithmetic_matches_qemu() {
    oracle::check_group("arith", oracle::ops::arith(), random());
}

#[test]
fn comparisons_match_qemu() {
    oracle::check_group("compare", oracle::ops::compare(), random());
}

#[test]
fn conversions_match_qemu() {
    oracle::check_group("convert", oracle::ops::convert(), random());
}

#[test]
fn fmov_immediates_match_qemu() {
    oracle::check_group("fmov", oracle::ops::fmov_imm(), random());
}

#[test]
fn vector_lanes_match_qemu() {
    oracle::check_group("vector", oracle::vector::vector(), random());
}
