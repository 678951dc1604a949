//! Differential tests against qemu-aarch64: each test generates one static
//! program with many cases (fixed seed), runs it under both, and compares
//! the register/flag/memory records every case writes to stdout. The
//! generators live in `common/gen_*.rs`.

mod common;

use common::gen_fp::gen_fp_scalar;
use common::gen_int::{gen_branch, gen_dp_imm, gen_dp_reg, gen_system};
use common::gen_mem::{gen_ldst_fp, gen_ldst_int, gen_ldst_pair_excl};
use common::gen_simd::gen_simd;
use common::gen_vec::{gen_fp_vec, gen_ldst_struct, gen_simd_int};
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
fn scalar_fp_matches_qemu() {
    check(gen_fp_scalar(), "fp_scalar");
}

#[test]
fn simd_integer_groups_match_qemu() {
    check(gen_simd_int(), "simd_int");
}

#[test]
fn simd_structure_loads_and_stores_match_qemu() {
    check(gen_ldst_struct(), "ldst_struct");
}

#[test]
fn simd_fp_matches_qemu() {
    check(gen_fp_vec(), "fp_vec");
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
        ("fp_scalar", gen_fp_scalar()),
        ("simd_int", gen_simd_int()),
        ("fp_vec", gen_fp_vec()),
        ("ldst_struct", gen_ldst_struct()),
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

/// Decode decisions in the FP/AdvSIMD groups against the GNU disassembler:
/// random words shaped like those table patterns must never decode when
/// objdump calls them unallocated, and every word objdump accepts but we
/// leave UNDEFINED must belong to an extension the Armv8.0 Cortex-A53
/// profile lacks (FP16, BF16, dot product, RDM, FCMA, FHM, FRINTTS, JSCVT,
/// 64-bit PMULL, which ID_AA64ISAR0_EL1 does not advertise).
#[test]
fn simd_fp_decode_agrees_with_objdump() {
    use a64::decode::{decoder, Group, Handler, Pattern};
    use a64::table::INSNS;
    common::require_tools();
    let pats: Vec<Pattern> = INSNS
        .iter()
        .filter(|i| {
            i.name.starts_with("LDST_multi") || i.name.starts_with("LDST_single") || {
                Pattern::parse(i.pattern).is_ok_and(|p| Group::of(p.value) == Group::SimdFp)
            }
        })
        .map(|i| Pattern::parse(i.pattern).expect("valid"))
        .collect();
    let rng = common::Rng::new(0x0B1D);
    let words: Vec<u32> = (0..60_000)
        .map(|_| {
            let p = rng.pick(&pats);
            p.value | (rng.next() as u32 & !p.mask)
        })
        .collect();
    let dir = common::temp_dir("objdump");
    let bin = dir.join("words.bin");
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    std::fs::write(&bin, bytes).expect("write words");
    let out = std::process::Command::new("aarch64-linux-gnu-objdump")
        .args(["-D", "-b", "binary", "-m", "aarch64"])
        .arg(&bin)
        .output()
        .expect("run objdump");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut dis = std::collections::HashMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        if parts.len() >= 3 && parts[0].trim().ends_with(':') {
            if let Ok(w) = u32::from_str_radix(parts[1].trim(), 16) {
                dis.insert(w, parts[2..].join(" "));
            }
        }
    }
    let later_extension = |d: &str| {
        let m = d.split_whitespace().next().unwrap_or("");
        let half = [" h", ".4h", ".8h", ".2h", ".h["];
        let fp16 =
            (m.starts_with('f') || m.ends_with("cvtf")) && half.iter().any(|h| d.contains(h));
        fp16 || m.starts_with("bf")
            || m.ends_with("dot")
            || m.starts_with("sqrdml")
            || m.starts_with("fcmla")
            || m.starts_with("fmlal")
            || m.starts_with("fmlsl")
            || m.starts_with("frint32")
            || m.starts_with("frint64")
            || m == "fjcvtzs"
            || (m.starts_with("pmull") && d.contains(".1q"))
    };
    assert!(
        dis.len() > 40_000,
        "objdump disassembled only {} words",
        dis.len()
    );
    let mut bad = Vec::new();
    let mut decoded = 0;
    for w in words {
        let d = dis.get(&w).map_or("<none>", String::as_str);
        let unallocated = d.starts_with(".inst") || d.contains("undefined");
        let ours = !std::ptr::fn_addr_eq(decoder().decode(w).h, a64::exec::undefined as Handler);
        decoded += usize::from(ours);
        if ours && unallocated {
            bad.push(format!("{w:#010x}: we decode, objdump: {d}"));
        } else if !ours && !unallocated && !later_extension(d) {
            bad.push(format!("{w:#010x}: UNDEFINED here, objdump: {d}"));
        }
    }
    eprintln!("objdump: {decoded} of 60000 words decode");
    bad.sort();
    bad.dedup();
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}
