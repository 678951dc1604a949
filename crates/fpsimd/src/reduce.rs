//! `Reduce`: the across-lanes FP reductions (FMAXV, FMINV, FMAXNMV, FMINNMV; FADDP-style trees).

use crate::Fp;

impl Fp {
    /// Arm's `Reduce` over `lanes` (element 0 first): the vector is split in halves, each half
    /// reduced recursively, and the results combined as `op(lower, upper)`. That order decides
    /// which NaN propagates. `lanes` should hold a power-of-two count; an empty slice gives 0.
    ///
    /// Example: FMAXNMV Sd, Vn.4S is
    /// `fp.reduce(&lanes, |fp, a, b| fp.maxnm(Format::Single, a, b))`.
    pub fn reduce(&mut self, lanes: &[u64], mut op: impl FnMut(&mut Fp, u64, u64) -> u64) -> u64 {
        self.reduce_dyn(lanes, &mut op)
    }

    fn reduce_dyn(&mut self, lanes: &[u64], op: &mut dyn FnMut(&mut Fp, u64, u64) -> u64) -> u64 {
        match lanes {
            [] => 0,
            [x] => *x,
            _ => {
                let (lo, hi) = lanes.split_at(lanes.len() / 2);
                let hi = self.reduce_dyn(hi, op);
                let lo = self.reduce_dyn(lo, op);
                op(self, lo, hi)
            }
        }
    }
}
