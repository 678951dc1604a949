//! Differential tests against qemu-aarch64: each test generates one static
//! program with many cases (fixed seed), runs it under both, and compares
//! the register/flag/memory records every case writes to stdout. The
//! generators live in `common/gen_*.rs`.

mod common;

use common::gen_int::{gen_branch, gen_dp_imm, gen_dp_reg, gen_system};
use common::gen_mem::{gen_ldst_fp, gen_ldst_int, gen_ldst_pair_excl};
use common::gen_simd::gen_simd;
use common::prog::check;
use common::{build, run_ours, run_qemu};

#[test]
fn dp_immediate_matches_qemu() {
    check(gen_dp_imm(), "dp_imm");
}

#[test]
fn dp_register_matches_qemu() {
    check(gen_dp_reg(), "dp_reg");
}

#[test]
fn branches_match_qemu() {
    check(gen_branch(), "branch");
}

#[test]
fn integer_loads_and_stores_match_qemu() {
    check(gen_ldst_int(), "ldst_int");
}

#[test]
fn pairs_exclusives_and_ordered_accesses_match_qemu() {
    check(gen_ldst_pair_excl(), "ldst_pair_excl");
}

#[test]
fn simd_fp_loads_and_stores_match_qemu() {
    check(gen_ldst_fp(), "ldst_fp");
}

#[test]
fn system_instructions_match_qemu() {
    check(gen_system(), "system");
}

#[test]
fn undefined_instruction_stops_both_runs() {
    let exe = build(
        "    .text\n    .global _start\n_start:\n    mov x0, #1\n    .inst 0x00000000\n    mov x8, #93\n    svc #0\n",
        "undef",
    );
    let q = run_qemu(&exe);
    let o = run_ours(&exe, 1000);
    assert_eq!(q.status, "signal Some(4)", "qemu raises SIGILL");
    assert!(
        o.status.starts_with("UNDEFINED 0x00000000"),
        "ours: {}",
        o.status
    );
}

#[test]
fn simd_integer_and_moves_match_qemu() {
    check(gen_simd(), "simd");
}

/// Table entries the EL0 differential programs cannot reach; the EL1
/// tests in `tests/system.rs` cover them.
const EL1_ONLY: [&str; 2] = ["ERET", "MSR_imm"];

#[test]
fn differential_programs_cover_every_table_entry() {
    use a64::decode::decoder;
    use a64::table::INSNS;
    let mut hit = std::collections::HashSet::new();
    for (tag, mut p) in [
        ("dp_imm", gen_dp_imm()),
        ("dp_reg", gen_dp_reg()),
        ("branch", gen_branch()),
        ("ldst_int", gen_ldst_int()),
        ("ldst_pair_excl", gen_ldst_pair_excl()),
        ("ldst_fp", gen_ldst_fp()),
        ("system", gen_system()),
        ("simd", gen_simd()),
    ] {
        let exe = build(&p.asm(), tag);
        let elf = std::fs::read(exe).expect("read exe");
        // The first PT_LOAD is the text segment at file offset 0.
        let phoff = u64::from_le_bytes(elf[32..40].try_into().expect("8 bytes")) as usize;
        let filesz =
            u64::from_le_bytes(elf[phoff + 32..phoff + 40].try_into().expect("8 bytes")) as usize;
        for w in elf[..filesz.min(elf.len())].chunks_exact(4) {
            let w = u32::from_le_bytes(w.try_into().expect("4 bytes"));
            if let Some(n) = decoder().name_of(w) {
                hit.insert(n);
            }
        }
    }
    let missing: Vec<&str> = INSNS
        .iter()
        .map(|i| i.name)
        .filter(|n| !hit.contains(n) && !EL1_ONLY.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "table entries no differential case executes: {missing:?}"
    );
}
