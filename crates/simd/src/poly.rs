//! Polynomial (carry-less) multiplication: PMUL and PMULL/PMULL2.

use crate::lanes::{elem, half, low, map2, set};
use crate::{Esize, Result, SimdError};

/// Carry-less product of two values of at most 64 bits.
fn clmul(a: u64, b: u64) -> u128 {
    (0..64).fold(0u128, |acc, i| {
        if (b >> i) & 1 != 0 {
            acc ^ (u128::from(a) << i)
        } else {
            acc
        }
    })
}

/// PMUL: the low 8 bits of each byte's carry-less product.
pub fn pmul(q: bool, n: u128, m: u128) -> u128 {
    map2(Esize::B, q, n, m, |a, b| clmul(a, b) as u64)
}

/// PMULL/PMULL2 (`part`): 8-bit elements give 16-bit products; 64-bit elements (FEAT_PMULL,
/// the crypto extension) give the 128-bit product of the selected doublewords. H and S are
/// reserved.
pub fn pmull(es: Esize, part: bool, n: u128, m: u128) -> Result<u128> {
    let (n, m) = (half(n, part), half(m, part));
    match es {
        Esize::B => {
            let mut r = 0;
            for i in 0..8 {
                set(&mut r, 16, i, clmul(elem(n, 8, i), elem(m, 8, i)) as u64);
            }
            Ok(r)
        }
        Esize::D => Ok(clmul(low(n) as u64, low(m) as u64)),
        _ => Err(SimdError::Arrangement {
            op: "pmull",
            esize: es.bits(),
            q: part,
        }),
    }
}
