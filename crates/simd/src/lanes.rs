//! Element access (`Elem[]`), datasize handling and the reservation checks shared by all groups.

use crate::{Esize, Result, SimdError};

/// Low `bits` ones (`bits` in 1..=64).
pub(crate) const fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// `Elem[v, i, bits]`, zero-extended.
pub(crate) fn elem(v: u128, bits: u32, i: u32) -> u64 {
    let shift = i * bits;
    if shift >= 128 {
        return 0;
    }
    ((v >> shift) as u64) & mask(bits)
}

/// `SInt(Elem[v, i, bits])`.
pub(crate) fn selem(v: u128, bits: u32, i: u32) -> i64 {
    sext(elem(v, bits, i), bits)
}

/// Sign-extend the low `bits` of `x`.
pub(crate) fn sext(x: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((x << sh) as i64) >> sh
}

/// `Elem[v, i, bits] = x` (only the low `bits` of `x` are used).
pub(crate) fn set(v: &mut u128, bits: u32, i: u32, x: u64) {
    let shift = i * bits;
    if shift >= 128 {
        return;
    }
    let m = u128::from(mask(bits)) << shift;
    *v = (*v & !m) | ((u128::from(x & mask(bits))) << shift);
}

/// Element `i` read as an integer of the given signedness (`Int(Elem[..], unsigned)`).
pub(crate) fn int(v: u128, bits: u32, i: u32, signed: bool) -> i128 {
    if signed {
        i128::from(selem(v, bits, i))
    } else {
        i128::from(elem(v, bits, i))
    }
}

/// Datasize in bits for the Q bit.
pub(crate) const fn datasize(q: bool) -> u32 {
    if q {
        128
    } else {
        64
    }
}

/// Number of `es` elements in the datasize.
pub(crate) const fn count(es: Esize, q: bool) -> u32 {
    datasize(q) / es.bits()
}

/// Low 64 bits of a register (`V[n, 64]`).
pub(crate) const fn low(v: u128) -> u128 {
    v & (u64::MAX as u128)
}

/// `Vpart[n, part]` for 64-bit halves: the low half, or the high half moved down.
pub(crate) const fn half(v: u128, part: bool) -> u128 {
    if part {
        v >> 64
    } else {
        low(v)
    }
}

/// `Vpart[d, part] = result` for narrowing instructions: part 0 writes the low half and zeroes
/// the high half; part 1 (the "2" forms) writes the high half and keeps the low half.
pub(crate) const fn put_half(d: u128, part: bool, result: u128) -> u128 {
    if part {
        low(d) | (low(result) << 64)
    } else {
        low(result)
    }
}

/// Apply `f` to every element of `n`.
pub(crate) fn map1(es: Esize, q: bool, n: u128, mut f: impl FnMut(u64) -> u64) -> u128 {
    let bits = es.bits();
    let mut r = 0;
    for i in 0..count(es, q) {
        set(&mut r, bits, i, f(elem(n, bits, i)));
    }
    r
}

/// Apply `f` to corresponding elements of `n` and `m`.
pub(crate) fn map2(
    es: Esize,
    q: bool,
    n: u128,
    m: u128,
    mut f: impl FnMut(u64, u64) -> u64,
) -> u128 {
    let bits = es.bits();
    let mut r = 0;
    for i in 0..count(es, q) {
        set(&mut r, bits, i, f(elem(n, bits, i), elem(m, bits, i)));
    }
    r
}

/// Which arrangements an instruction accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allow {
    /// Every size except `.1d` (size 11 with Q = 0).
    Not1D,
    /// Byte, halfword and word elements only (size 11 reserved).
    NoD,
    /// Byte elements only (the instruction fixes size = 00).
    BOnly,
    /// Sizes strictly below the given one (REV16/REV32/REV64 containers).
    Below(Esize),
}

/// Reject reserved arrangements.
pub(crate) fn check(op: &'static str, es: Esize, q: bool, allow: Allow) -> Result<()> {
    let ok = match allow {
        Allow::Not1D => q || es != Esize::D,
        Allow::NoD => es != Esize::D,
        Allow::BOnly => es == Esize::B,
        Allow::Below(c) => es.bits() < c.bits(),
    };
    if ok {
        Ok(())
    } else {
        Err(SimdError::Arrangement {
            op,
            esize: es.bits(),
            q,
        })
    }
}

/// Reject an immediate outside `lo..=hi`.
pub(crate) fn check_imm(op: &'static str, value: u32, lo: u32, hi: u32) -> Result<()> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SimdError::Immediate { op, value })
    }
}

/// Saturate a signed integer to `bits` (`SignedSatQ`): the element bits and whether it saturated.
pub(crate) fn sat_signed(x: i128, bits: u32) -> (u64, bool) {
    let max = (1i128 << (bits - 1)) - 1;
    let min = -(1i128 << (bits - 1));
    let (v, sat) = if x > max {
        (max, true)
    } else if x < min {
        (min, true)
    } else {
        (x, false)
    };
    ((v as u64) & mask(bits), sat)
}

/// Saturate to an unsigned integer of `bits` (`UnsignedSatQ`).
pub(crate) fn sat_unsigned(x: i128, bits: u32) -> (u64, bool) {
    let max = (1i128 << bits) - 1;
    let (v, sat) = if x > max {
        (max, true)
    } else if x < 0 {
        (0, true)
    } else {
        (x, false)
    };
    ((v as u64) & mask(bits), sat)
}
