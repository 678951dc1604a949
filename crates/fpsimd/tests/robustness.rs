//! Every entry point accepts any bits and arguments without panicking (overflow checks are on
//! in test builds), and ignores bits above the format's width.

use fpsimd::{expand_imm, urecpe, ursqrte, Format, Fp, Rounding};

fn next(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn no_operation_panics_on_random_bits_and_arguments() {
    let formats = [Format::Half, Format::Single, Format::Double];
    let modes = [
        Rounding::TieEven,
        Rounding::PosInf,
        Rounding::NegInf,
        Rounding::Zero,
        Rounding::TieAway,
        Rounding::Odd,
    ];
    let mut s = 0x0123_4567_89AB_CDEF_u64;
    for i in 0..20_000u32 {
        let (a, b, c) = (next(&mut s), next(&mut s), next(&mut s));
        let mut fp = Fp::new(next(&mut s) as u32);
        let f = formats[i as usize % 3];
        let g = formats[(i as usize / 3) % 3];
        let rm = modes[(i as usize / 9) % 6];
        let small = (next(&mut s) % 200) as u32;
        let width = (next(&mut s) % 100) as u32;
        fp.add(f, a, b);
        fp.sub(f, a, b);
        fp.mul(f, a, b);
        fp.mulx(f, a, b);
        fp.div(f, a, b);
        fp.sqrt(f, a);
        fp.muladd(f, a, b, c);
        fp.recps(f, a, b);
        fp.rsqrts(f, a, b);
        fp.max(f, a, b);
        fp.minnm(f, a, b);
        fp.compare(f, a, b, true);
        fp.cmge(f, a, b);
        fp.recpe(f, a);
        fp.rsqrte(f, a);
        fp.recpx(f, a);
        fp.convert_rounding(f, g, a, rm);
        fp.to_fixed(f, a, small, i & 1 != 0, width, rm);
        fp.from_fixed(f, a, width, i & 1 != 0, small, rm);
        fp.round_int(f, a, rm, true);
        let r = fp.add(f, a, b);
        assert_eq!(r & !f.mask(), 0, "result bits beyond the format");
        expand_imm(f, a as u8);
        urecpe(a as u32);
        ursqrte(b as u32);
    }
}

#[test]
fn bits_above_the_format_are_ignored() {
    let mut fp = Fp::new(0);
    assert_eq!(
        fp.add(Format::Single, 0xDEAD_0000_3F80_0000, 0x3F80_0000),
        0x4000_0000
    );
}
