//! Reserved arrangements and immediates: every function's `Ok`/`Err` must agree with what the
//! GNU assembler accepts for the same instruction text (`-march=armv8-a+crypto`), over all element
//! sizes, Q values and immediates from below to above the encodable range.

use std::fmt::Write as _;
use std::process::Command;

use super::moves::{arr, t};
use super::{require_tool, work_dir};
use simd::{
    Accumulate, Across, Binary, Compare, CompareZero, DoublingLong, Esize, HighNarrow, Long,
    Narrow, Pairwise, Permute, SatShiftLeft, SatShiftNarrow, SatShiftReg, SatUnary, Saturating,
    ShiftReg, ShiftRight, Unary,
};

/// The arrangement of the double-width elements (`1q` for D, which nothing accepts).
fn wide(es: Esize, q: bool) -> String {
    match es.wider() {
        Some(w) => arr(w, q),
        None => "1q".to_string(),
    }
}

fn wide_t(es: Esize) -> &'static str {
    ["h", "s", "d", "q"][es.size() as usize]
}

fn gpr(x: bool, n: u32) -> String {
    format!("{}{n}", if x { "x" } else { "w" })
}

/// `(instruction text, whether our function accepts it)` for every function and input.
pub fn lines() -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = Vec::new();
    let (n, m, d) = (0u128, 0u128, 0u128);
    let mut qc = false;
    for es in Esize::ALL {
        let (te, w) = (t(es), es.bits());
        for q in [false, true] {
            let a = arr(es, q);
            let wa = wide(es, true);
            let na = arr(es, q);
            let three = format!("v0.{a}, v1.{a}, v2.{a}");
            for i in 0..=17 {
                v.push((
                    format!("dup v0.{a}, v1.{te}[{i}]"),
                    simd::dup_element(es, q, n, i).is_ok(),
                ));
            }
            v.push((
                format!("dup v0.{a}, {}", gpr(es == Esize::D, 1)),
                simd::dup_general(es, q, 0).is_ok(),
            ));
            for op in Compare::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::compare(op, es, q, n, m).is_ok(),
                ));
            }
            for op in CompareZero::ALL {
                v.push((
                    format!("{} v0.{a}, v1.{a}, #0", op.mnemonic()),
                    simd::compare_zero(op, es, q, n).is_ok(),
                ));
            }
            for op in Binary::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::binary(op, es, q, n, m).is_ok(),
                ));
            }
            for op in Accumulate::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::accumulate(op, es, q, d, n, m).is_ok(),
                ));
            }
            for op in Unary::ALL {
                v.push((
                    format!("{} v0.{a}, v1.{a}", op.mnemonic()),
                    simd::unary(op, es, q, n).is_ok(),
                ));
            }
            for op in Saturating::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::saturating(op, es, q, n, m, &mut qc).is_ok(),
                ));
            }
            for op in Pairwise::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::pairwise(op, es, q, n, m).is_ok(),
                ));
            }
            for op in Across::ALL {
                let r = if op.is_long() { wide_t(es) } else { te };
                v.push((
                    format!("{} {r}0, v1.{a}", op.mnemonic()),
                    simd::across(op, es, q, n).is_ok(),
                ));
            }
            for (signed, acc, name) in [
                (false, false, "uaddlp"),
                (true, false, "saddlp"),
                (false, true, "uadalp"),
                (true, true, "sadalp"),
            ] {
                v.push((
                    format!("{name} v0.{}, v1.{a}", wide(es, q)),
                    simd::add_long_pairwise(signed, acc, es, q, d, n).is_ok(),
                ));
            }
            for s in 0..=w + 1 {
                v.push((
                    format!("shl v0.{a}, v1.{a}, #{s}"),
                    simd::shift_left(es, q, n, s).is_ok(),
                ));
                v.push((
                    format!("sli v0.{a}, v1.{a}, #{s}"),
                    simd::sli(es, q, d, n, s).is_ok(),
                ));
                v.push((
                    format!("sri v0.{a}, v1.{a}, #{s}"),
                    simd::sri(es, q, d, n, s).is_ok(),
                ));
                for op in ShiftRight::ALL {
                    v.push((
                        format!("{} v0.{a}, v1.{a}, #{s}", op.mnemonic()),
                        simd::shift_right(op, es, q, d, n, s).is_ok(),
                    ));
                }
            }
            for op in ShiftReg::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::shift_reg(op, es, q, n, m).is_ok(),
                ));
            }
            for op in Permute::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::permute(op, es, q, n, m).is_ok(),
                ));
            }
            // Long and narrow forms: `q` is the part ("2") bit.
            let two = if q { "2" } else { "" };
            for s in 0..=w + 1 {
                for (signed, p) in [(false, "u"), (true, "s")] {
                    v.push((
                        format!("{p}shll{two} v0.{wa}, v1.{na}, #{s}"),
                        simd::shift_left_long(signed, es, q, n, s).is_ok(),
                    ));
                }
                for (round, name) in [(false, "shrn"), (true, "rshrn")] {
                    v.push((
                        format!("{name}{two} v0.{na}, v1.{wa}, #{s}"),
                        simd::shift_right_narrow(round, es, q, d, n, s).is_ok(),
                    ));
                }
            }
            for op in Narrow::ALL {
                v.push((
                    format!("{}{two} v0.{na}, v1.{wa}", op.mnemonic()),
                    simd::narrow(op, es, q, d, n, &mut qc).is_ok(),
                ));
            }
            for op in Long::ALL {
                let first = if op.is_wide() { wa.clone() } else { na.clone() };
                v.push((
                    format!("{}{two} v0.{wa}, v1.{first}, v2.{na}", op.mnemonic()),
                    simd::long(op, es, q, d, n, m).is_ok(),
                ));
            }
            for op in SatUnary::ALL {
                v.push((
                    format!("{} v0.{a}, v1.{a}", op.mnemonic()),
                    simd::sat_unary(op, es, q, n, &mut qc).is_ok(),
                ));
            }
            for (u, name) in [(false, "suqadd"), (true, "usqadd")] {
                v.push((
                    format!("{name} v0.{a}, v1.{a}"),
                    simd::sat_accumulate(u, es, q, d, n, &mut qc).is_ok(),
                ));
            }
            for op in SatShiftReg::ALL {
                v.push((
                    format!("{} {three}", op.mnemonic()),
                    simd::sat_shift_reg(op, es, q, n, m, &mut qc).is_ok(),
                ));
            }
            for (round, name) in [(false, "sqdmulh"), (true, "sqrdmulh")] {
                v.push((
                    format!("{name} {three}"),
                    simd::sqdmulh(round, es, q, n, m, &mut qc).is_ok(),
                ));
            }
            for op in DoublingLong::ALL {
                v.push((
                    format!("{}{two} v0.{wa}, v1.{na}, v2.{na}", op.mnemonic()),
                    simd::doubling_long(op, es, q, d, n, m, &mut qc).is_ok(),
                ));
            }
            v.push((
                format!("pmull{two} v0.{wa}, v1.{na}, v2.{na}"),
                simd::pmull(es, q, n, m).is_ok(),
            ));
            for s in 0..=w + 1 {
                for op in SatShiftLeft::ALL {
                    v.push((
                        format!("{} v0.{a}, v1.{a}, #{s}", op.mnemonic()),
                        simd::sat_shift_left(op, es, q, n, s, &mut qc).is_ok(),
                    ));
                }
                for op in SatShiftNarrow::ALL {
                    v.push((
                        format!("{}{two} v0.{na}, v1.{wa}, #{s}", op.mnemonic()),
                        simd::sat_shift_right_narrow(op, es, q, d, n, s, &mut qc).is_ok(),
                    ));
                }
            }
            for op in HighNarrow::ALL {
                v.push((
                    format!("{}{two} v0.{na}, v1.{wa}, v2.{wa}", op.mnemonic()),
                    simd::high_narrow(op, es, q, d, n, m).is_ok(),
                ));
            }
        }
        for i in 0..=17 {
            v.push((
                format!("mov v0.{te}[{i}], v1.{te}[0]"),
                simd::ins_element(es, d, i, n, 0).is_ok(),
            ));
            v.push((
                format!("mov v0.{te}[0], v1.{te}[{i}]"),
                simd::ins_element(es, d, 0, n, i).is_ok(),
            ));
            v.push((
                format!("mov v0.{te}[{i}], {}", gpr(es == Esize::D, 1)),
                simd::ins_general(es, d, i, 0).is_ok(),
            ));
            for to_x in [false, true] {
                v.push((
                    format!("umov {}, v1.{te}[{i}]", gpr(to_x, 0)),
                    simd::umov(es, n, i, to_x).is_ok(),
                ));
                v.push((
                    format!("smov {}, v1.{te}[{i}]", gpr(to_x, 0)),
                    simd::smov(es, n, i, to_x).is_ok(),
                ));
            }
        }
    }
    for q in [false, true] {
        let a = arr(Esize::B, q);
        for imm in 0..=16 {
            v.push((
                format!("ext v0.{a}, v1.{a}, v2.{a}, #{imm}"),
                simd::ext(q, n, m, imm).is_ok(),
            ));
        }
    }
    v
}

/// Assemble every line; return the set of 1-based line numbers the assembler rejected.
fn rejected(text: &str) -> std::collections::BTreeSet<usize> {
    require_tool("aarch64-linux-gnu-as", "gcc-aarch64-linux-gnu");
    let dir = work_dir("reserved");
    let src = dir.join("lines.s");
    std::fs::write(&src, text).expect("write the assembly");
    let out = Command::new("aarch64-linux-gnu-as")
        .args(["-march=armv8-a+crypto", "-o"])
        .arg(dir.join("lines.o"))
        .arg(&src)
        .output()
        .expect("run aarch64-linux-gnu-as");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let prefix = format!("{}:", src.display());
    stderr
        .lines()
        .filter(|l| l.contains("Error:"))
        .filter_map(|l| l.strip_prefix(&prefix)?.split(':').next()?.parse().ok())
        .collect()
}

/// Compare our acceptance with the assembler's for every line; panics listing disagreements.
pub fn check() -> usize {
    let lines = lines();
    let mut text = String::new();
    for (l, _) in &lines {
        let _ = writeln!(text, "\t{l}");
    }
    let bad_lines = rejected(&text);
    let mut report = String::new();
    let mut bad = 0;
    for (i, (l, ours)) in lines.iter().enumerate() {
        let gas = !bad_lines.contains(&(i + 1));
        if gas != *ours {
            bad += 1;
            let _ = writeln!(
                report,
                "  {l}: assembler {}, ours {}",
                accept(gas),
                accept(*ours)
            );
        }
    }
    let accepted = lines.iter().filter(|(_, ok)| *ok).count();
    println!(
        "reserved: {} lines ({accepted} valid), {bad} disagreements",
        lines.len()
    );
    assert!(
        bad == 0,
        "{bad} disagreements with the assembler:\n{report}"
    );
    lines.len()
}

fn accept(ok: bool) -> &'static str {
    if ok {
        "accepts"
    } else {
        "rejects"
    }
}
