//! Variants for compares, logic, arithmetic, reductions, shifts, widening/narrowing and
//! permutes. Each variant fixes the arrangement and immediates and names the model.

use super::moves::{arr, arrangements, t};
use super::{Gen, Out, Regs, Variant};
use simd::{
    Accumulate, Across, Binary, Compare, CompareZero, Esize, HighNarrow, Logic, Long, Narrow,
    Pairwise, Permute, Saturating, ShiftReg, ShiftRight, Unary,
};

/// `v0.T, v1.T, v2.T` for a three-same instruction.
fn three(es: Esize, q: bool) -> String {
    let a = arr(es, q);
    format!("v0.{a}, v1.{a}, v2.{a}")
}

/// Compares (register and zero), logic and NOT.
pub fn compare_logic() -> Vec<Variant> {
    let mut v = Vec::new();
    for (es, q) in arrangements(true) {
        for op in Compare::ALL {
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(es, q)),
                Gen::Lanes(es.bits()),
                move |r: &Regs| Out::v(simd::compare(op, es, q, r.v[1], r.v[2]).expect("valid")),
            ));
        }
        for op in CompareZero::ALL {
            let a = arr(es, q);
            v.push(Variant::new(
                format!("{} v0.{a}, v1.{a}, #0", op.mnemonic()),
                Gen::Lanes(es.bits()),
                move |r: &Regs| Out::v(simd::compare_zero(op, es, q, r.v[1]).expect("valid")),
            ));
        }
    }
    for q in [false, true] {
        for op in Logic::ALL {
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(Esize::B, q)),
                Gen::Lanes(8),
                move |r: &Regs| Out::v(simd::logic(op, q, r.v[0], r.v[1], r.v[2])),
            ));
        }
        let a = arr(Esize::B, q);
        v.push(Variant::new(
            format!("not v0.{a}, v1.{a}"),
            Gen::Lanes(8),
            move |r: &Regs| Out::v(simd::not(q, r.v[1])),
        ));
    }
    v
}

/// Same-size arithmetic, accumulate, unary and saturating operations.
pub fn arith() -> Vec<Variant> {
    let mut v = Vec::new();
    for (es, q) in arrangements(true) {
        let w = es.bits();
        for op in Binary::ALL {
            if es == Esize::D && !matches!(op, Binary::Add | Binary::Sub) {
                continue;
            }
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(es, q)),
                Gen::Lanes(w),
                move |r: &Regs| Out::v(simd::binary(op, es, q, r.v[1], r.v[2]).expect("valid")),
            ));
        }
        for op in Accumulate::ALL {
            if es == Esize::D {
                continue;
            }
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(es, q)),
                Gen::Lanes(w),
                move |r: &Regs| {
                    Out::v(simd::accumulate(op, es, q, r.v[0], r.v[1], r.v[2]).expect("valid"))
                },
            ));
        }
        for op in Unary::ALL {
            let ok = match op {
                Unary::Neg | Unary::Abs => true,
                Unary::Clz | Unary::Cls => es != Esize::D,
                Unary::Cnt | Unary::Rbit | Unary::Rev16 => es == Esize::B,
                Unary::Rev32 => es.bits() < 32,
                Unary::Rev64 => es.bits() < 64,
            };
            if !ok {
                continue;
            }
            let a = arr(es, q);
            v.push(Variant::new(
                format!("{} v0.{a}, v1.{a}", op.mnemonic()),
                Gen::Lanes(w),
                move |r: &Regs| Out::v(simd::unary(op, es, q, r.v[1]).expect("valid")),
            ));
        }
        for op in Saturating::ALL {
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(es, q)),
                Gen::Lanes(w),
                move |r: &Regs| {
                    let mut qc = false;
                    let res = simd::saturating(op, es, q, r.v[1], r.v[2], &mut qc).expect("valid");
                    Out::sat(res, qc)
                },
            ));
        }
    }
    for es in Esize::ALL {
        for op in Saturating::ALL {
            let s = t(es);
            v.push(Variant::new(
                format!("{} {s}0, {s}1, {s}2", op.mnemonic()),
                Gen::Lanes(es.bits()),
                move |r: &Regs| {
                    let mut qc = false;
                    let res = simd::saturating_scalar(op, es, r.v[1], r.v[2], &mut qc);
                    Out::sat(res, qc)
                },
            ));
        }
    }
    v
}

/// Pairwise, across-lanes and long pairwise reductions.
pub fn reduce() -> Vec<Variant> {
    let mut v = Vec::new();
    for (es, q) in arrangements(true) {
        for op in Pairwise::ALL {
            if es == Esize::D && op != Pairwise::Addp {
                continue;
            }
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(es, q)),
                Gen::Lanes(es.bits()),
                move |r: &Regs| Out::v(simd::pairwise(op, es, q, r.v[1], r.v[2]).expect("valid")),
            ));
        }
        if es == Esize::D || (es == Esize::S && !q) {
            continue;
        }
        for op in Across::ALL {
            let wide = if op.is_long() {
                es.wider().expect("not D")
            } else {
                es
            };
            v.push(Variant::new(
                format!("{} {}0, v1.{}", op.mnemonic(), t(wide), arr(es, q)),
                Gen::Lanes(es.bits()),
                move |r: &Regs| Out::v(simd::across(op, es, q, r.v[1]).expect("valid")),
            ));
        }
    }
    v.push(Variant::new(
        "addp d0, v1.2d",
        Gen::Lanes(64),
        |r: &Regs| Out::v(simd::addp_scalar(r.v[1])),
    ));
    for (es, q) in arrangements(false) {
        for signed in [false, true] {
            for acc in [false, true] {
                let name = match (signed, acc) {
                    (false, false) => "uaddlp",
                    (true, false) => "saddlp",
                    (false, true) => "uadalp",
                    (true, true) => "sadalp",
                };
                let wide = es.wider().expect("not D");
                v.push(Variant::new(
                    format!("{name} v0.{}, v1.{}", arr(wide, q), arr(es, q)),
                    Gen::Lanes(es.bits()),
                    move |r: &Regs| {
                        Out::v(
                            simd::add_long_pairwise(signed, acc, es, q, r.v[0], r.v[1])
                                .expect("valid"),
                        )
                    },
                ));
            }
        }
    }
    v
}

/// Shift amounts worth testing in `lo..=hi` for `w`-bit elements.
fn amounts(w: u32, lo: u32, hi: u32) -> Vec<u32> {
    let mut s: Vec<u32> = if w <= 8 {
        (lo..=hi).collect()
    } else {
        [lo, lo + 1, 3, w / 2 - 1, w / 2, w / 2 + 1, w - 1, hi]
            .into_iter()
            .filter(|x| (lo..=hi).contains(x))
            .collect()
    };
    s.sort_unstable();
    s.dedup();
    s
}

/// Shifts by immediate and by register, including the long and narrowing forms.
pub fn shifts() -> Vec<Variant> {
    let mut v = Vec::new();
    for (es, q) in arrangements(true) {
        let w = es.bits();
        let a = arr(es, q);
        for s in amounts(w, 0, w - 1) {
            v.push(Variant::new(
                format!("shl v0.{a}, v1.{a}, #{s}"),
                Gen::Lanes(w),
                move |r: &Regs| Out::v(simd::shift_left(es, q, r.v[1], s).expect("valid")),
            ));
            v.push(Variant::new(
                format!("sli v0.{a}, v1.{a}, #{s}"),
                Gen::Lanes(w),
                move |r: &Regs| Out::v(simd::sli(es, q, r.v[0], r.v[1], s).expect("valid")),
            ));
        }
        for s in amounts(w, 1, w) {
            for op in ShiftRight::ALL {
                v.push(Variant::new(
                    format!("{} v0.{a}, v1.{a}, #{s}", op.mnemonic()),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        Out::v(simd::shift_right(op, es, q, r.v[0], r.v[1], s).expect("valid"))
                    },
                ));
            }
            v.push(Variant::new(
                format!("sri v0.{a}, v1.{a}, #{s}"),
                Gen::Lanes(w),
                move |r: &Regs| Out::v(simd::sri(es, q, r.v[0], r.v[1], s).expect("valid")),
            ));
        }
        for op in ShiftReg::ALL {
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(es, q)),
                Gen::ShiftCounts(w),
                move |r: &Regs| Out::v(simd::shift_reg(op, es, q, r.v[1], r.v[2]).expect("valid")),
            ));
        }
    }
    for es in [Esize::B, Esize::H, Esize::S] {
        let w = es.bits();
        let wide = es.wider().expect("not D");
        for part in [false, true] {
            let two = if part { "2" } else { "" };
            let (na, wa) = (arr(es, part), arr(wide, true));
            for signed in [false, true] {
                let p = if signed { "s" } else { "u" };
                for s in amounts(w, 0, w - 1) {
                    v.push(Variant::new(
                        format!("{p}shll{two} v0.{wa}, v1.{na}, #{s}"),
                        Gen::Lanes(w),
                        move |r: &Regs| {
                            Out::v(
                                simd::shift_left_long(signed, es, part, r.v[1], s).expect("valid"),
                            )
                        },
                    ));
                }
                v.push(Variant::new(
                    format!("{p}xtl{two} v0.{wa}, v1.{na}"),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        Out::v(simd::shift_left_long(signed, es, part, r.v[1], 0).expect("valid"))
                    },
                ));
            }
            for round in [false, true] {
                let name = if round { "rshrn" } else { "shrn" };
                for s in amounts(w, 1, w) {
                    v.push(Variant::new(
                        format!("{name}{two} v0.{na}, v1.{wa}, #{s}"),
                        Gen::Lanes(2 * w),
                        move |r: &Regs| {
                            Out::v(
                                simd::shift_right_narrow(round, es, part, r.v[0], r.v[1], s)
                                    .expect("valid"),
                            )
                        },
                    ));
                }
            }
        }
    }
    v
}

/// Narrowing moves, the long/wide group and high-half narrowing.
pub fn widen() -> Vec<Variant> {
    let mut v = Vec::new();
    for es in [Esize::B, Esize::H, Esize::S] {
        let w = es.bits();
        let wide = es.wider().expect("not D");
        for part in [false, true] {
            let two = if part { "2" } else { "" };
            let (na, wa) = (arr(es, part), arr(wide, true));
            for op in Narrow::ALL {
                v.push(Variant::new(
                    format!("{}{two} v0.{na}, v1.{wa}", op.mnemonic()),
                    Gen::Lanes(2 * w),
                    move |r: &Regs| {
                        let mut qc = false;
                        let res =
                            simd::narrow(op, es, part, r.v[0], r.v[1], &mut qc).expect("valid");
                        Out::sat(res, qc)
                    },
                ));
            }
            for op in Long::ALL {
                let first = if op.is_wide() { wa.clone() } else { na.clone() };
                v.push(Variant::new(
                    format!("{}{two} v0.{wa}, v1.{first}, v2.{na}", op.mnemonic()),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        Out::v(simd::long(op, es, part, r.v[0], r.v[1], r.v[2]).expect("valid"))
                    },
                ));
            }
            for op in HighNarrow::ALL {
                v.push(Variant::new(
                    format!("{}{two} v0.{na}, v1.{wa}, v2.{wa}", op.mnemonic()),
                    Gen::Lanes(2 * w),
                    move |r: &Regs| {
                        Out::v(
                            simd::high_narrow(op, es, part, r.v[0], r.v[1], r.v[2]).expect("valid"),
                        )
                    },
                ));
            }
        }
    }
    v
}

/// EXT, ZIP/UZP/TRN and TBL/TBX.
pub fn permutes() -> Vec<Variant> {
    let mut v = Vec::new();
    for q in [false, true] {
        let a = arr(Esize::B, q);
        for imm in 0..if q { 16 } else { 8 } {
            v.push(Variant::new(
                format!("ext v0.{a}, v1.{a}, v2.{a}, #{imm}"),
                Gen::Lanes(8),
                move |r: &Regs| Out::v(simd::ext(q, r.v[1], r.v[2], imm).expect("valid")),
            ));
        }
        for len in 1..=4u32 {
            for tbx in [false, true] {
                let regs: Vec<String> = (1..=len).map(|i| format!("v{i}.16b")).collect();
                v.push(Variant::new(
                    format!(
                        "{} v0.{a}, {{{}}}, v5.{a}",
                        if tbx { "tbx" } else { "tbl" },
                        regs.join(", ")
                    ),
                    Gen::Indices(len),
                    move |r: &Regs| {
                        let table = &r.v[1..=len as usize];
                        Out::v(simd::tbl(tbx, q, r.v[0], table, r.v[5]).expect("valid"))
                    },
                ));
            }
        }
    }
    for (es, q) in arrangements(true) {
        for op in Permute::ALL {
            v.push(Variant::new(
                format!("{} {}", op.mnemonic(), three(es, q)),
                Gen::Lanes(es.bits()),
                move |r: &Regs| Out::v(simd::permute(op, es, q, r.v[1], r.v[2]).expect("valid")),
            ));
        }
    }
    v
}
