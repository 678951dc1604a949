//! Every function over every element size, Q and immediate (valid or not): no panics, and every
//! accepted 64-bit form leaves the upper half of the result zero.

use simd::{
    Accumulate, Across, Binary, Compare, CompareZero, DoublingLong, Esize, HighNarrow, Logic, Long,
    Narrow, Pairwise, Permute, SatShiftLeft, SatShiftNarrow, SatShiftReg, SatUnary, Saturating,
    ShiftReg, ShiftRight, Unary,
};

const VALUES: [u128; 4] = [
    0,
    u128::MAX,
    0x8000_0000_0000_0000_8000_0000_0000_0000,
    0x7fff_0080_7f01_ff00_0123_4567_89ab_cdef,
];

/// Immediates: every small value, the encodable edges and the extremes.
fn imms() -> impl Iterator<Item = u32> {
    (0..=130).chain([255, 256, u32::MAX / 2, u32::MAX])
}

fn upper_zero(q: bool, r: simd::Result<u128>) {
    if let (false, Ok(v)) = (q, r) {
        assert_eq!(v >> 64, 0, "64-bit form wrote the upper half: {v:#x}");
    }
}

#[test]
fn same_size_operations_zero_the_upper_half_and_never_panic() {
    let mut qc = false;
    for es in Esize::ALL {
        for q in [false, true] {
            for &n in &VALUES {
                for &m in &VALUES {
                    for op in Compare::ALL {
                        upper_zero(q, simd::compare(op, es, q, n, m));
                    }
                    for op in CompareZero::ALL {
                        upper_zero(q, simd::compare_zero(op, es, q, n));
                    }
                    for op in Binary::ALL {
                        upper_zero(q, simd::binary(op, es, q, n, m));
                    }
                    for op in Accumulate::ALL {
                        upper_zero(q, simd::accumulate(op, es, q, m, n, m));
                    }
                    for op in Unary::ALL {
                        upper_zero(q, simd::unary(op, es, q, n));
                    }
                    for op in Saturating::ALL {
                        upper_zero(q, simd::saturating(op, es, q, n, m, &mut qc));
                        let s = simd::saturating_scalar(op, es, n, m, &mut qc);
                        assert_eq!(s >> es.bits(), 0);
                    }
                    for op in Pairwise::ALL {
                        upper_zero(q, simd::pairwise(op, es, q, n, m));
                    }
                    for op in Across::ALL {
                        upper_zero(false, simd::across(op, es, q, n));
                    }
                    for op in ShiftReg::ALL {
                        upper_zero(q, simd::shift_reg(op, es, q, n, m));
                    }
                    for op in Permute::ALL {
                        upper_zero(q, simd::permute(op, es, q, n, m));
                    }
                    for signed in [false, true] {
                        for acc in [false, true] {
                            upper_zero(q, simd::add_long_pairwise(signed, acc, es, q, m, n));
                        }
                    }
                    for op in Narrow::ALL {
                        upper_zero(q, simd::narrow(op, es, q, m, n, &mut qc));
                    }
                    for op in Long::ALL {
                        let _ = simd::long(op, es, q, m, n, m);
                    }
                    for op in SatUnary::ALL {
                        upper_zero(q, simd::sat_unary(op, es, q, n, &mut qc));
                    }
                    upper_zero(q, simd::sat_accumulate(q, es, q, m, n, &mut qc));
                    for op in SatShiftReg::ALL {
                        upper_zero(q, simd::sat_shift_reg(op, es, q, n, m, &mut qc));
                    }
                    upper_zero(q, simd::sqdmulh(q, es, q, n, m, &mut qc));
                    for op in DoublingLong::ALL {
                        let _ = simd::doubling_long(op, es, q, m, n, m, &mut qc);
                    }
                    let _ = simd::pmull(es, q, n, m);
                    upper_zero(false, Ok(simd::pmul(false, n, m)));
                    for op in HighNarrow::ALL {
                        upper_zero(q, simd::high_narrow(op, es, q, 0, n, m));
                    }
                }
                upper_zero(q, simd::dup_general(es, q, u64::MAX));
            }
        }
    }
    for op in Logic::ALL {
        assert_eq!(simd::logic(op, false, u128::MAX, u128::MAX, 0) >> 64, 0);
    }
    assert_eq!(simd::not(false, 0) >> 64, 0);
}

#[test]
fn immediates_out_of_range_are_rejected_without_panicking() {
    let mut qc = false;
    for es in Esize::ALL {
        for q in [false, true] {
            for i in imms() {
                for &n in &VALUES {
                    upper_zero(q, simd::dup_element(es, q, n, i));
                    upper_zero(q, simd::shift_left(es, q, n, i));
                    upper_zero(q, simd::sli(es, q, n, n, i));
                    upper_zero(q, simd::sri(es, q, n, n, i));
                    for op in ShiftRight::ALL {
                        upper_zero(q, simd::shift_right(op, es, q, n, n, i));
                    }
                    let _ = simd::shift_left_long(q, es, q, n, i);
                    upper_zero(q, simd::shift_right_narrow(q, es, q, n, n, i));
                    let _ = simd::ins_element(es, n, i, n, i);
                    let _ = simd::ins_general(es, n, i, 1);
                    let _ = simd::umov(es, n, i, q);
                    let _ = simd::smov(es, n, i, q);
                    upper_zero(q, simd::ext(q, n, !n, i));
                    for op in SatShiftLeft::ALL {
                        upper_zero(q, simd::sat_shift_left(op, es, q, n, i, &mut qc));
                    }
                    for op in SatShiftNarrow::ALL {
                        upper_zero(q, simd::sat_shift_right_narrow(op, es, q, n, n, i, &mut qc));
                    }
                    let _ = simd::by_element(es, n, i);
                    upper_zero(q, simd::modified_imm(q, i & 1 != 0, i, (i & 0xFF) as u8, n));
                }
            }
        }
    }
    let _ = simd::narrow(Narrow::Sqxtn, Esize::D, true, 0, 0, &mut qc);
}

#[test]
fn table_lookups_reject_empty_and_oversized_tables() {
    for len in 0..8 {
        let table = vec![u128::MAX; len];
        for q in [false, true] {
            let r = simd::tbl(true, q, 0, &table, u128::MAX / 3);
            assert_eq!(r.is_ok(), (1..=4).contains(&len));
            upper_zero(q, r);
        }
    }
}

#[test]
fn reserved_arrangements_name_the_instruction() {
    let e = simd::binary(Binary::Mul, Esize::D, true, 0, 0).expect_err("MUL .2d is reserved");
    assert_eq!(
        e.to_string(),
        "mul: 64-bit elements with Q=true are a reserved arrangement"
    );
}
