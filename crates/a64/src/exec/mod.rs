//! Instruction semantics, one module per encoding group. Each module holds
//! the build functions named by the decode table (field extraction and
//! unallocated-encoding checks) and the handlers they select.

pub mod branch;
pub mod dp_imm;
pub mod dp_reg;
pub mod fp;
pub mod fused;
pub mod ldst;
pub mod simd;
pub mod system;
pub mod vfp;
pub mod vint;

use crate::cpu::Core;
use crate::decode::{Flow, Op, Step};

/// Handler of a slot not decoded yet.
pub fn needs_decode(_: &mut Core, _: &Op) -> Step {
    Err(Flow::Decode)
}

/// Handler of UNDEFINED words: count per group, take the exception.
pub fn undefined(c: &mut Core, op: &Op) -> Step {
    if let Some(n) = c.undef_counts.get_mut(op.aux as usize) {
        *n += 1;
    }
    let word = op.imm as u32;
    if let Some(e) = c.undef_words.iter_mut().find(|e| e.0 == word) {
        e.1 += 1;
    } else if c.undef_words.len() < c.undef_words.capacity() {
        c.undef_words.push((word, 1));
    }
    Err(c.undefined())
}

/// NZCV for `a + b + carry` at 64 bits (AddWithCarry).
#[inline(always)]
#[must_use]
pub fn add_flags64(a: u64, b: u64, carry: u64) -> (u64, u32) {
    let (r1, c1) = a.overflowing_add(b);
    let (r, c2) = r1.overflowing_add(carry);
    let n = (r >> 63) as u32;
    let z = u32::from(r == 0);
    let c = u32::from(c1 | c2);
    let v = (((a ^ r) & (b ^ r)) >> 63) as u32;
    (r, (n << 31) | (z << 30) | (c << 29) | (v << 28))
}

/// NZCV for `a + b + carry` at 32 bits (operands' upper halves ignored).
#[inline(always)]
#[must_use]
pub fn add_flags32(a: u64, b: u64, carry: u64) -> (u64, u32) {
    let a = a & 0xffff_ffff;
    let b = b & 0xffff_ffff;
    let s = a + b + carry;
    let r = s & 0xffff_ffff;
    let n = (r >> 31) as u32;
    let z = u32::from(r == 0);
    let c = (s >> 32) as u32 & 1;
    let v = ((((a ^ r) & (b ^ r)) >> 31) & 1) as u32;
    (r, (n << 31) | (z << 30) | (c << 29) | (v << 28))
}

/// NZ flags of a logical result (C and V cleared).
#[inline(always)]
#[must_use]
pub fn logic_flags<const SF: bool>(r: u64) -> u32 {
    if SF {
        (((r >> 63) as u32) << 31) | (u32::from(r == 0) << 30)
    } else {
        let r = r as u32;
        ((r >> 31) << 31) | (u32::from(r == 0) << 30)
    }
}

/// Truncate to the operation size.
#[inline(always)]
#[must_use]
pub fn sized<const SF: bool>(v: u64) -> u64 {
    if SF {
        v
    } else {
        v & 0xffff_ffff
    }
}

/// Shift types of shifted-register operands.
#[inline(always)]
#[must_use]
pub fn shift_reg<const SF: bool>(v: u64, kind: u32, amount: u32) -> u64 {
    if SF {
        match kind & 3 {
            0 => v << (amount & 63),
            1 => v >> (amount & 63),
            2 => ((v as i64) >> (amount & 63)) as u64,
            _ => v.rotate_right(amount & 63),
        }
    } else {
        let w = v as u32;
        u64::from(match kind & 3 {
            0 => w << (amount & 31),
            1 => w >> (amount & 31),
            2 => ((w as i32) >> (amount & 31)) as u32,
            _ => w.rotate_right(amount & 31),
        })
    }
}

/// ExtendReg: extend the low bits of `v` by `option` and shift left.
#[inline(always)]
#[must_use]
pub fn extend_reg(v: u64, option: u32, shift: u32) -> u64 {
    let e = match option & 7 {
        0 => v & 0xff,
        1 => v & 0xffff,
        2 => v & 0xffff_ffff,
        3 => v,
        4 => v as i8 as i64 as u64,
        5 => v as i16 as i64 as u64,
        6 => v as i32 as i64 as u64,
        _ => v,
    };
    e << (shift & 7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_flags_cover_carry_and_overflow() {
        assert_eq!(add_flags64(u64::MAX, 1, 0), (0, 0x6000_0000)); // Z C
        assert_eq!(add_flags64(i64::MAX as u64, 1, 0).1, 0x9000_0000); // N V
                                                                       // SUBS 0 - 0: a + !b + 1 sets Z and C.
        assert_eq!(add_flags64(0, !0, 1).1, 0x6000_0000);
        assert_eq!(add_flags32(0xffff_ffff, 1, 0), (0, 0x6000_0000));
        assert_eq!(add_flags32(0x7fff_ffff, 1, 0).1, 0x9000_0000);
    }

    #[test]
    fn extend_and_shift_follow_extendreg() {
        assert_eq!(extend_reg(0x1ff, 0, 1), 0x1fe); // UXTB, LSL 1
        assert_eq!(extend_reg(0x80, 4, 0), 0xffff_ffff_ffff_ff80); // SXTB
        assert_eq!(shift_reg::<false>(0x8000_0000, 2, 4), 0xf800_0000);
        assert_eq!(shift_reg::<true>(1, 3, 1), 1 << 63);
    }
}
