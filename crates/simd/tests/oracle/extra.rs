//! Variants beyond the core list: the remaining saturating operations, the scalar forms (via
//! `simd::scalar`), by-element multiplies (via `simd::by_element`) and polynomial multiplies.

use super::moves::{arr, arrangements, t};
use super::{Gen, Out, Regs, Variant};
use simd::{
    scalar as sc, Binary, Compare, CompareZero, DoublingLong, Esize, Long, Narrow, SatShiftLeft,
    SatShiftNarrow, SatShiftReg, SatUnary, Saturating, ShiftReg, ShiftRight, Unary,
};

fn amounts(w: u32, lo: u32, hi: u32) -> Vec<u32> {
    let mut s: Vec<u32> = [lo, lo + 1, w / 2, w - 1, hi]
        .into_iter()
        .filter(|x| (lo..=hi).contains(x))
        .collect();
    s.sort_unstable();
    s.dedup();
    s
}

fn sat_out(f: impl Fn(&mut bool) -> u128) -> Out {
    let mut qc = false;
    let v = f(&mut qc);
    Out::sat(v, qc)
}

/// SQABS/SQNEG, SUQADD/USQADD, saturating shifts, doubling multiplies: vector and scalar forms.
pub fn saturating() -> Vec<Variant> {
    let mut v = Vec::new();
    for (es, q) in arrangements(true) {
        let (w, a) = (es.bits(), arr(es, q));
        for op in SatUnary::ALL {
            v.push(Variant::new(
                format!("{} v0.{a}, v1.{a}", op.mnemonic()),
                Gen::Lanes(w),
                move |r: &Regs| {
                    sat_out(|qc| simd::sat_unary(op, es, q, r.v[1], qc).expect("valid"))
                },
            ));
        }
        for (unsigned, name) in [(false, "suqadd"), (true, "usqadd")] {
            v.push(Variant::new(
                format!("{name} v0.{a}, v1.{a}"),
                Gen::Lanes(w),
                move |r: &Regs| {
                    sat_out(|qc| {
                        simd::sat_accumulate(unsigned, es, q, r.v[0], r.v[1], qc).expect("valid")
                    })
                },
            ));
        }
        for s in amounts(w, 0, w - 1) {
            for op in SatShiftLeft::ALL {
                v.push(Variant::new(
                    format!("{} v0.{a}, v1.{a}, #{s}", op.mnemonic()),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        sat_out(|qc| simd::sat_shift_left(op, es, q, r.v[1], s, qc).expect("valid"))
                    },
                ));
            }
        }
        for op in SatShiftReg::ALL {
            v.push(Variant::new(
                format!("{} v0.{a}, v1.{a}, v2.{a}", op.mnemonic()),
                Gen::ShiftCounts(w),
                move |r: &Regs| {
                    sat_out(|qc| simd::sat_shift_reg(op, es, q, r.v[1], r.v[2], qc).expect("valid"))
                },
            ));
        }
        if matches!(es, Esize::H | Esize::S) {
            for (round, name) in [(false, "sqdmulh"), (true, "sqrdmulh")] {
                v.push(Variant::new(
                    format!("{name} v0.{a}, v1.{a}, v2.{a}"),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        sat_out(|qc| {
                            simd::sqdmulh(round, es, q, r.v[1], r.v[2], qc).expect("valid")
                        })
                    },
                ));
                let i = 128 / w - 1;
                v.push(Variant::new(
                    format!("{name} v0.{a}, v1.{a}, v2.{}[{i}]", t(es)),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        let m = simd::by_element(es, r.v[2], i).expect("valid");
                        sat_out(|qc| simd::sqdmulh(round, es, q, r.v[1], m, qc).expect("valid"))
                    },
                ));
            }
        }
    }
    // Scalar forms: element 0 only.
    for es in Esize::ALL {
        let (w, s) = (es.bits(), t(es));
        for op in SatUnary::ALL {
            v.push(Variant::new(
                format!("{} {s}0, {s}1", op.mnemonic()),
                Gen::Lanes(w),
                move |r: &Regs| {
                    sat_out(|qc| {
                        sc(
                            es,
                            simd::sat_unary(op, es, true, sc(es, r.v[1]), qc).expect("valid"),
                        )
                    })
                },
            ));
        }
        for (unsigned, name) in [(false, "suqadd"), (true, "usqadd")] {
            v.push(Variant::new(
                format!("{name} {s}0, {s}1"),
                Gen::Lanes(w),
                move |r: &Regs| {
                    sat_out(|qc| {
                        let (d, n) = (sc(es, r.v[0]), sc(es, r.v[1]));
                        sc(
                            es,
                            simd::sat_accumulate(unsigned, es, true, d, n, qc).expect("valid"),
                        )
                    })
                },
            ));
        }
        for sh in amounts(w, 0, w - 1) {
            for op in SatShiftLeft::ALL {
                v.push(Variant::new(
                    format!("{} {s}0, {s}1, #{sh}", op.mnemonic()),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        sat_out(|qc| {
                            sc(
                                es,
                                simd::sat_shift_left(op, es, true, sc(es, r.v[1]), sh, qc)
                                    .expect("valid"),
                            )
                        })
                    },
                ));
            }
        }
        for op in SatShiftReg::ALL {
            v.push(Variant::new(
                format!("{} {s}0, {s}1, {s}2", op.mnemonic()),
                Gen::ShiftCounts(w),
                move |r: &Regs| {
                    sat_out(|qc| {
                        let (n, m) = (sc(es, r.v[1]), sc(es, r.v[2]));
                        sc(
                            es,
                            simd::sat_shift_reg(op, es, true, n, m, qc).expect("valid"),
                        )
                    })
                },
            ));
        }
    }
    for es in [Esize::H, Esize::S] {
        let s = t(es);
        for (round, name) in [(false, "sqdmulh"), (true, "sqrdmulh")] {
            v.push(Variant::new(
                format!("{name} {s}0, {s}1, {s}2"),
                Gen::Lanes(es.bits()),
                move |r: &Regs| {
                    sat_out(|qc| {
                        let (n, m) = (sc(es, r.v[1]), sc(es, r.v[2]));
                        sc(es, simd::sqdmulh(round, es, true, n, m, qc).expect("valid"))
                    })
                },
            ));
        }
    }
    v
}

/// Narrowing and long saturating forms (vector, "2", scalar and by element).
pub fn saturating_narrow() -> Vec<Variant> {
    let mut v = Vec::new();
    for es in [Esize::B, Esize::H, Esize::S] {
        let w = es.bits();
        let wide = es.wider().expect("not D");
        let (s, ws) = (t(es), t(wide));
        for part in [false, true] {
            let two = if part { "2" } else { "" };
            let (na, wa) = (arr(es, part), arr(wide, true));
            for sh in amounts(w, 1, w) {
                for op in SatShiftNarrow::ALL {
                    v.push(Variant::new(
                        format!("{}{two} v0.{na}, v1.{wa}, #{sh}", op.mnemonic()),
                        Gen::Lanes(2 * w),
                        move |r: &Regs| {
                            sat_out(|qc| {
                                simd::sat_shift_right_narrow(op, es, part, r.v[0], r.v[1], sh, qc)
                                    .expect("valid")
                            })
                        },
                    ));
                }
            }
            if es != Esize::B {
                for op in DoublingLong::ALL {
                    v.push(Variant::new(
                        format!("{}{two} v0.{wa}, v1.{na}, v2.{na}", op.mnemonic()),
                        Gen::Lanes(w),
                        move |r: &Regs| {
                            sat_out(|qc| {
                                simd::doubling_long(op, es, part, r.v[0], r.v[1], r.v[2], qc)
                                    .expect("valid")
                            })
                        },
                    ));
                    v.push(Variant::new(
                        format!("{}{two} v0.{wa}, v1.{na}, v2.{s}[1]", op.mnemonic()),
                        Gen::Lanes(w),
                        move |r: &Regs| {
                            let m = simd::by_element(es, r.v[2], 1).expect("valid");
                            sat_out(|qc| {
                                simd::doubling_long(op, es, part, r.v[0], r.v[1], m, qc)
                                    .expect("valid")
                            })
                        },
                    ));
                }
            }
        }
        // Scalar forms: the narrow result in element 0, from element 0 of the wide source.
        for op in Narrow::ALL {
            if op == Narrow::Xtn {
                continue;
            }
            v.push(Variant::new(
                format!("{} {s}0, {ws}1", op.mnemonic()),
                Gen::Lanes(2 * w),
                move |r: &Regs| {
                    sat_out(|qc| {
                        sc(
                            es,
                            simd::narrow(op, es, false, 0, sc(wide, r.v[1]), qc).expect("valid"),
                        )
                    })
                },
            ));
        }
        for sh in amounts(w, 1, w) {
            for op in SatShiftNarrow::ALL {
                v.push(Variant::new(
                    format!("{} {s}0, {ws}1, #{sh}", op.mnemonic()),
                    Gen::Lanes(2 * w),
                    move |r: &Regs| {
                        sat_out(|qc| {
                            let n = sc(wide, r.v[1]);
                            sc(
                                es,
                                simd::sat_shift_right_narrow(op, es, false, 0, n, sh, qc)
                                    .expect("valid"),
                            )
                        })
                    },
                ));
            }
        }
        if es != Esize::B {
            for op in DoublingLong::ALL {
                v.push(Variant::new(
                    format!("{} {ws}0, {s}1, {s}2", op.mnemonic()),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        sat_out(|qc| {
                            let (d, n, m) = (sc(wide, r.v[0]), sc(es, r.v[1]), sc(es, r.v[2]));
                            sc(
                                wide,
                                simd::doubling_long(op, es, false, d, n, m, qc).expect("valid"),
                            )
                        })
                    },
                ));
            }
        }
    }
    v
}

/// Scalar D forms of the non-saturating instructions, by-element multiplies and PMUL/PMULL.
pub fn scalar_element_poly() -> Vec<Variant> {
    let mut v = Vec::new();
    let d = Esize::D;
    for op in [Binary::Add, Binary::Sub] {
        v.push(Variant::new(
            format!("{} d0, d1, d2", op.mnemonic()),
            Gen::Lanes(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::binary(op, d, true, sc(d, r.v[1]), sc(d, r.v[2])).expect("valid"),
                ))
            },
        ));
    }
    for op in Compare::ALL {
        v.push(Variant::new(
            format!("{} d0, d1, d2", op.mnemonic()),
            Gen::Lanes(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::compare(op, d, true, sc(d, r.v[1]), sc(d, r.v[2])).expect("valid"),
                ))
            },
        ));
    }
    for op in CompareZero::ALL {
        v.push(Variant::new(
            format!("{} d0, d1, #0", op.mnemonic()),
            Gen::Lanes(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::compare_zero(op, d, true, sc(d, r.v[1])).expect("valid"),
                ))
            },
        ));
    }
    for op in [Unary::Neg, Unary::Abs] {
        v.push(Variant::new(
            format!("{} d0, d1", op.mnemonic()),
            Gen::Lanes(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::unary(op, d, true, sc(d, r.v[1])).expect("valid"),
                ))
            },
        ));
    }
    for op in ShiftReg::ALL {
        v.push(Variant::new(
            format!("{} d0, d1, d2", op.mnemonic()),
            Gen::ShiftCounts(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::shift_reg(op, d, true, sc(d, r.v[1]), sc(d, r.v[2])).expect("valid"),
                ))
            },
        ));
    }
    for s in [0, 1, 31, 63] {
        v.push(Variant::new(
            format!("shl d0, d1, #{s}"),
            Gen::Lanes(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::shift_left(d, true, sc(d, r.v[1]), s).expect("valid"),
                ))
            },
        ));
        v.push(Variant::new(
            format!("sli d0, d1, #{s}"),
            Gen::Lanes(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::sli(d, true, sc(d, r.v[0]), sc(d, r.v[1]), s).expect("valid"),
                ))
            },
        ));
    }
    for s in [1, 2, 32, 63, 64] {
        for op in ShiftRight::ALL {
            v.push(Variant::new(
                format!("{} d0, d1, #{s}", op.mnemonic()),
                Gen::Lanes(64),
                move |r: &Regs| {
                    Out::v(sc(
                        d,
                        simd::shift_right(op, d, true, sc(d, r.v[0]), sc(d, r.v[1]), s)
                            .expect("valid"),
                    ))
                },
            ));
        }
        v.push(Variant::new(
            format!("sri d0, d1, #{s}"),
            Gen::Lanes(64),
            move |r: &Regs| {
                Out::v(sc(
                    d,
                    simd::sri(d, true, sc(d, r.v[0]), sc(d, r.v[1]), s).expect("valid"),
                ))
            },
        ));
    }
    for es in [Esize::H, Esize::S] {
        let w = es.bits();
        for q in [false, true] {
            let a = arr(es, q);
            for i in [0, 128 / w - 1] {
                let el = format!("v2.{}[{i}]", t(es));
                v.push(Variant::new(
                    format!("mul v0.{a}, v1.{a}, {el}"),
                    Gen::Lanes(w),
                    move |r: &Regs| {
                        let m = simd::by_element(es, r.v[2], i).expect("valid");
                        Out::v(simd::binary(Binary::Mul, es, q, r.v[1], m).expect("valid"))
                    },
                ));
                for op in simd::Accumulate::ALL[..2].iter().copied() {
                    v.push(Variant::new(
                        format!("{} v0.{a}, v1.{a}, {el}", op.mnemonic()),
                        Gen::Lanes(w),
                        move |r: &Regs| {
                            let m = simd::by_element(es, r.v[2], i).expect("valid");
                            Out::v(simd::accumulate(op, es, q, r.v[0], r.v[1], m).expect("valid"))
                        },
                    ));
                }
                let (two, wa) = (
                    if q { "2" } else { "" },
                    arr(es.wider().expect("not D"), true),
                );
                for op in [
                    Long::Umull,
                    Long::Smull,
                    Long::Umlal,
                    Long::Smlal,
                    Long::Umlsl,
                    Long::Smlsl,
                ] {
                    v.push(Variant::new(
                        format!("{}{two} v0.{wa}, v1.{a}, {el}", op.mnemonic()),
                        Gen::Lanes(w),
                        move |r: &Regs| {
                            let m = simd::by_element(es, r.v[2], i).expect("valid");
                            Out::v(simd::long(op, es, q, r.v[0], r.v[1], m).expect("valid"))
                        },
                    ));
                }
            }
        }
    }
    for q in [false, true] {
        let a = arr(Esize::B, q);
        let two = if q { "2" } else { "" };
        v.push(Variant::new(
            format!("pmul v0.{a}, v1.{a}, v2.{a}"),
            Gen::Lanes(8),
            move |r: &Regs| Out::v(simd::pmul(q, r.v[1], r.v[2])),
        ));
        v.push(Variant::new(
            format!("pmull{two} v0.8h, v1.{a}, v2.{a}"),
            Gen::Lanes(8),
            move |r: &Regs| Out::v(simd::pmull(Esize::B, q, r.v[1], r.v[2]).expect("valid")),
        ));
        let da = if q { "2d" } else { "1d" };
        v.push(Variant::new(
            format!("pmull{two} v0.1q, v1.{da}, v2.{da}"),
            Gen::Lanes(64),
            move |r: &Regs| Out::v(simd::pmull(Esize::D, q, r.v[1], r.v[2]).expect("valid")),
        ));
    }
    // Keep Saturating in scope for the scalar recipe check below.
    for es in Esize::ALL {
        let s = t(es);
        v.push(Variant::new(
            format!("uqadd {s}0, {s}1, {s}2"),
            Gen::Lanes(es.bits()),
            move |r: &Regs| {
                sat_out(|qc| {
                    sc(
                        es,
                        simd::saturating(
                            Saturating::Uqadd,
                            es,
                            true,
                            sc(es, r.v[1]),
                            sc(es, r.v[2]),
                            qc,
                        )
                        .expect("valid"),
                    )
                })
            },
        ));
    }
    v
}
