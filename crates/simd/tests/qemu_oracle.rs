//! AdvSIMD integer semantics against qemu-aarch64, one program per instruction group.

mod oracle;

use oracle::{check_group, groups, moves};

#[test]
fn dup_ins_umov_smov_match_qemu() {
    check_group("moves", moves::moves());
}

#[test]
fn modified_immediates_match_qemu() {
    check_group("immediates", moves::immediates());
}

#[test]
fn compares_and_logic_match_qemu() {
    check_group("compare_logic", groups::compare_logic());
}

#[test]
fn arithmetic_matches_qemu() {
    check_group("arith", groups::arith());
}

#[test]
fn reductions_match_qemu() {
    check_group("reduce", groups::reduce());
}

#[test]
fn shifts_match_qemu() {
    check_group("shifts", groups::shifts());
}

#[test]
fn widening_and_narrowing_match_qemu() {
    check_group("widen", groups::widen());
}

#[test]
fn permutes_match_qemu() {
    check_group("permutes", groups::permutes());
}

#[test]
fn reserved_encodings_match_the_assembler() {
    oracle::reserved::check();
}

#[test]
fn saturating_shifts_and_doubling_multiplies_match_qemu() {
    check_group("saturating", oracle::extra::saturating());
}

#[test]
fn saturating_narrow_and_long_forms_match_qemu() {
    check_group("saturating_narrow", oracle::extra::saturating_narrow());
}

#[test]
fn scalar_by_element_and_polynomial_forms_match_qemu() {
    check_group("scalar_element_poly", oracle::extra::scalar_element_poly());
}
