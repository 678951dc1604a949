//! Width-typed wrappers: `add16(u16, u16) -> u16`, `add32`, `add64`, ... over the
//! [`Format`]-generic methods of [`Fp`]. Each wrapper is the generic method with the format fixed.

use crate::{Format, Fp};

macro_rules! binary {
    ($($op:ident: $h:ident $s:ident $d:ident;)*) => {
        impl Fp {
            $(
                #[doc = concat!("Half-precision `", stringify!($op), "`.")]
                pub fn $h(&mut self, a: u16, b: u16) -> u16 {
                    self.$op(Format::Half, a.into(), b.into()) as u16
                }
                #[doc = concat!("Single-precision `", stringify!($op), "`.")]
                pub fn $s(&mut self, a: u32, b: u32) -> u32 {
                    self.$op(Format::Single, a.into(), b.into()) as u32
                }
                #[doc = concat!("Double-precision `", stringify!($op), "`.")]
                pub fn $d(&mut self, a: u64, b: u64) -> u64 {
                    self.$op(Format::Double, a, b)
                }
            )*
        }
    };
}

macro_rules! unary {
    ($($op:ident: $h:ident $s:ident $d:ident;)*) => {
        impl Fp {
            $(
                #[doc = concat!("Half-precision `", stringify!($op), "`.")]
                pub fn $h(&mut self, a: u16) -> u16 {
                    self.$op(Format::Half, a.into()) as u16
                }
                #[doc = concat!("Single-precision `", stringify!($op), "`.")]
                pub fn $s(&mut self, a: u32) -> u32 {
                    self.$op(Format::Single, a.into()) as u32
                }
                #[doc = concat!("Double-precision `", stringify!($op), "`.")]
                pub fn $d(&mut self, a: u64) -> u64 {
                    self.$op(Format::Double, a)
                }
            )*
        }
    };
}

macro_rules! ternary {
    ($($op:ident: $h:ident $s:ident $d:ident;)*) => {
        impl Fp {
            $(
                #[doc = concat!("Half-precision `", stringify!($op), "` (operands n, m, a).")]
                pub fn $h(&mut self, n: u16, m: u16, a: u16) -> u16 {
                    self.$op(Format::Half, n.into(), m.into(), a.into()) as u16
                }
                #[doc = concat!("Single-precision `", stringify!($op), "` (operands n, m, a).")]
                pub fn $s(&mut self, n: u32, m: u32, a: u32) -> u32 {
                    self.$op(Format::Single, n.into(), m.into(), a.into()) as u32
                }
                #[doc = concat!("Double-precision `", stringify!($op), "` (operands n, m, a).")]
                pub fn $d(&mut self, n: u64, m: u64, a: u64) -> u64 {
                    self.$op(Format::Double, n, m, a)
                }
            )*
        }
    };
}

binary! {
    add: add16 add32 add64;
    sub: sub16 sub32 sub64;
    mul: mul16 mul32 mul64;
    div: div16 div32 div64;
    mulx: mulx16 mulx32 mulx64;
    nmul: nmul16 nmul32 nmul64;
    abd: abd16 abd32 abd64;
    max: max16 max32 max64;
    min: min16 min32 min64;
    maxnm: maxnm16 maxnm32 maxnm64;
    minnm: minnm16 minnm32 minnm64;
    recps: recps16 recps32 recps64;
    rsqrts: rsqrts16 rsqrts32 rsqrts64;
}

unary! {
    sqrt: sqrt16 sqrt32 sqrt64;
    recpe: recpe16 recpe32 recpe64;
    rsqrte: rsqrte16 rsqrte32 rsqrte64;
    recpx: recpx16 recpx32 recpx64;
}

ternary! {
    fmadd: fmadd16 fmadd32 fmadd64;
    fmsub: fmsub16 fmsub32 fmsub64;
    fnmadd: fnmadd16 fnmadd32 fnmadd64;
    fnmsub: fnmsub16 fnmsub32 fnmsub64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_add_matches_generic() {
        let mut fp = Fp::new(0);
        assert_eq!(fp.add32(0x3F80_0000, 0x3F80_0000), 0x4000_0000);
        assert_eq!(fp.add16(0x3C00, 0x3C00), 0x4000);
    }
}
