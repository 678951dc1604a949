//! Variants for DUP, INS, UMOV, SMOV and the modified-immediate group.

use super::{Gen, Out, Regs, Variant};
use simd::Esize;

/// The arrangement suffix, `8b` ... `2d`.
pub fn arr(es: Esize, q: bool) -> String {
    format!("{}{}", if q { 128 } else { 64 } / es.bits(), t(es))
}

/// The element suffix, `b`/`h`/`s`/`d`.
pub fn t(es: Esize) -> &'static str {
    ["b", "h", "s", "d"][es.size() as usize]
}

/// Every (size, Q) pair except `.1d`, and without D when `d` is false.
pub fn arrangements(d: bool) -> Vec<(Esize, bool)> {
    let mut v = Vec::new();
    for es in Esize::ALL {
        for q in [false, true] {
            if es == Esize::D && (!d || !q) {
                continue;
            }
            v.push((es, q));
        }
    }
    v
}

/// A few element indices covering first, last and middle.
fn indices(es: Esize) -> Vec<u32> {
    let n = 128 / es.bits();
    if n <= 4 {
        (0..n).collect()
    } else {
        vec![0, 1, n / 2 + 1, n - 1]
    }
}

fn gpr(es: Esize, reg: u32) -> String {
    format!("{}{reg}", if es == Esize::D { "x" } else { "w" })
}

/// DUP, INS, UMOV, SMOV.
pub fn moves() -> Vec<Variant> {
    let mut v = Vec::new();
    for (es, q) in arrangements(true) {
        let w = es.bits();
        for i in indices(es) {
            v.push(Variant::new(
                format!("dup v0.{}, v1.{}[{i}]", arr(es, q), t(es)),
                Gen::Lanes(w),
                move |r: &Regs| Out::v(simd::dup_element(es, q, r.v[1], i).expect("valid")),
            ));
        }
        v.push(Variant::new(
            format!("dup v0.{}, {}", arr(es, q), gpr(es, 1)),
            Gen::Lanes(w),
            move |r: &Regs| Out::v(simd::dup_general(es, q, r.x).expect("valid")),
        ));
    }
    for es in Esize::ALL {
        let w = es.bits();
        for i in indices(es) {
            for j in indices(es) {
                v.push(Variant::new(
                    format!("mov v0.{0}[{i}], v1.{0}[{j}]", t(es)),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        Out::v(simd::ins_element(es, r.v[0], i, r.v[1], j).expect("valid"))
                    },
                ));
            }
            v.push(Variant::new(
                format!("mov v0.{}[{i}], {}", t(es), gpr(es, 1)),
                Gen::Lanes(w),
                move |r: &Regs| Out::v(simd::ins_general(es, r.v[0], i, r.x).expect("valid")),
            ));
            let to_x = es == Esize::D;
            v.push(Variant::new(
                format!("umov {}, v1.{}[{i}]", gpr(es, 0), t(es)),
                Gen::Lanes(w),
                move |r: &Regs| Out {
                    v0: r.v[0],
                    x0: simd::umov(es, r.v[1], i, to_x).expect("valid"),
                    fpsr: 0,
                },
            ));
            for to_x in [false, true] {
                if es == Esize::D || (es == Esize::S && !to_x) {
                    continue;
                }
                v.push(Variant::new(
                    format!("smov {}0, v1.{}[{i}]", if to_x { "x" } else { "w" }, t(es)),
                    Gen::Lanes(w),
                    move |r: &Regs| Out {
                        v0: r.v[0],
                        x0: simd::smov(es, r.v[1], i, to_x).expect("valid"),
                        fpsr: 0,
                    },
                ));
            }
        }
    }
    v
}

/// Every encoding of the modified-immediate group (all Q, op, cmode and imm8), as `.inst`.
pub fn immediates() -> Vec<Variant> {
    let mut v = Vec::new();
    for q in [false, true] {
        for op in [false, true] {
            for cmode in 0..16u32 {
                if cmode == 15 && op && !q {
                    continue;
                }
                for imm8 in 0..=255u8 {
                    let i = u32::from(imm8);
                    let enc = (u32::from(q) << 30)
                        | (u32::from(op) << 29)
                        | 0x0F00_0000
                        | ((i >> 5) << 16)
                        | (cmode << 12)
                        | (1 << 10)
                        | ((i & 31) << 5);
                    v.push(Variant::new(
                        format!(
                            ".inst {enc:#010x} // Q={} op={} cmode={cmode:04b} imm8={imm8:#04x}",
                            u8::from(q),
                            u8::from(op)
                        ),
                        Gen::Few,
                        move |r: &Regs| {
                            Out::v(simd::modified_imm(q, op, cmode, imm8, r.v[0]).expect("valid"))
                        },
                    ));
                }
            }
        }
    }
    v
}
