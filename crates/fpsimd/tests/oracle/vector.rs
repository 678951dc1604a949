//! 64-bit vector forms (4H, 2S): the same per-element functions applied lane by lane, flags
//! accumulated across lanes, and the pairwise and integer-estimate instructions.

use fpsimd::{Format, Fp, Rounding};

use super::ops::{Eval, Gen, In, Op, Out};

fn arrangement(fmt: Format) -> &'static str {
    match fmt {
        Format::Half => "4h",
        _ => "2s",
    }
}

/// Apply `f` to each lane of the 64-bit operands, packing the lane results.
pub fn per_lane(width: u32, x: [u64; 3], mut f: impl FnMut([u64; 3]) -> u64) -> u64 {
    let mask = u64::MAX >> (64 - width);
    let mut r = 0;
    for lane in 0..64 / width {
        let sh = lane * width;
        let y = x.map(|v| (v >> sh) & mask);
        r |= (f(y) & mask) << sh;
    }
    r
}

fn vop(name: String, insn: String, ins: Vec<In>, gen: Gen, eval: Eval) -> Op {
    Op {
        name,
        insn,
        ins,
        out: Out::F(Format::Double),
        gen,
        eval,
    }
}

type Bin = fn(&mut Fp, Format, u64, u64) -> u64;
type Un = fn(&mut Fp, Format, u64) -> u64;
type Pred = fn(&mut Fp, Format, u64, u64) -> bool;

pub fn vector() -> Vec<Op> {
    let binary: [(&str, Bin); 12] = [
        ("fadd", Fp::add),
        ("fsub", Fp::sub),
        ("fmul", Fp::mul),
        ("fdiv", Fp::div),
        ("fmax", Fp::max),
        ("fmin", Fp::min),
        ("fmaxnm", Fp::maxnm),
        ("fminnm", Fp::minnm),
        ("fmulx", Fp::mulx),
        ("fabd", Fp::abd),
        ("frecps", Fp::recps),
        ("frsqrts", Fp::rsqrts),
    ];
    let unary: [(&str, Un); 7] = [
        ("fsqrt", Fp::sqrt),
        ("frecpe", Fp::recpe),
        ("frsqrte", Fp::rsqrte),
        ("frintx", |fp, f, a| {
            let rm = fp.rounding();
            fp.round_int(f, a, rm, true)
        }),
        ("frinta", |fp, f, a| {
            fp.round_int(f, a, Rounding::TieAway, false)
        }),
        ("fabs", |_, f, a| f.abs(a)),
        ("fneg", |_, f, a| f.neg(a)),
    ];
    let preds: [(&str, Pred); 5] = [
        ("fcmeq", Fp::cmeq),
        ("fcmge", Fp::cmge),
        ("fcmgt", Fp::cmgt),
        ("facge", Fp::acge),
        ("facgt", Fp::acgt),
    ];
    let pairwise: [(&str, Bin); 5] = [
        ("faddp", Fp::add),
        ("fmaxp", Fp::max),
        ("fminp", Fp::min),
        ("fmaxnmp", Fp::maxnm),
        ("fminnmp", Fp::minnm),
    ];
    let mut v = Vec::new();
    for fmt in [Format::Half, Format::Single] {
        let t = arrangement(fmt);
        let w = fmt.width();
        let two = vec![In::Lanes(fmt); 2];
        for (m, f) in binary {
            let eval: Eval = Box::new(move |fp, x| per_lane(w, x, |y| f(fp, fmt, y[0], y[1])));
            v.push(vop(
                format!("{m}.{t}"),
                format!("{m} v0.{t}, v0.{t}, v1.{t}"),
                two.clone(),
                Gen::Pair,
                eval,
            ));
        }
        for (m, f) in unary {
            let eval: Eval = Box::new(move |fp, x| per_lane(w, x, |y| f(fp, fmt, y[0])));
            v.push(vop(
                format!("{m}.{t}"),
                format!("{m} v0.{t}, v0.{t}"),
                vec![In::Lanes(fmt)],
                Gen::Pair,
                eval,
            ));
        }
        for (m, p) in preds {
            let eval: Eval = Box::new(move |fp, x| {
                per_lane(w, x, |y| if p(fp, fmt, y[0], y[1]) { u64::MAX } else { 0 })
            });
            v.push(vop(
                format!("{m}.{t}"),
                format!("{m} v0.{t}, v0.{t}, v1.{t}"),
                two.clone(),
                Gen::Pair,
                eval,
            ));
        }
        for (m, f) in pairwise {
            // Lanes of the concatenation b:a are paired: result = [a0 op a1, a2 op a3, b0 op b1, ...].
            let eval: Eval = Box::new(move |fp, x| {
                let lanes = 64 / w;
                let mask = u64::MAX >> (64 - w);
                let get = |i: u32| {
                    let src = if i < lanes { x[0] } else { x[1] };
                    (src >> ((i % lanes) * w)) & mask
                };
                let mut r = 0;
                for i in 0..lanes {
                    r |= (f(fp, fmt, get(2 * i), get(2 * i + 1)) & mask) << (i * w);
                }
                r
            });
            v.push(vop(
                format!("{m}.{t}"),
                format!("{m} v0.{t}, v0.{t}, v1.{t}"),
                two.clone(),
                Gen::Pair,
                eval,
            ));
        }
        let three = vec![In::Lanes(fmt); 3];
        let fmla: Eval =
            Box::new(move |fp, x| per_lane(w, x, |y| fp.muladd(fmt, y[0], y[1], y[2])));
        v.push(vop(
            format!("fmla.{t}"),
            format!("fmla v0.{t}, v1.{t}, v2.{t}"),
            three.clone(),
            Gen::Fma,
            fmla,
        ));
        let fmls: Eval =
            Box::new(move |fp, x| per_lane(w, x, |y| fp.muladd(fmt, y[0], fmt.neg(y[1]), y[2])));
        v.push(vop(
            format!("fmls.{t}"),
            format!("fmls v0.{t}, v1.{t}, v2.{t}"),
            three,
            Gen::Fma,
            fmls,
        ));
        for unsigned in [false, true] {
            let su = if unsigned { 'u' } else { 's' };
            for fbits in [0, 1, w / 2, w] {
                let imm = if fbits == 0 {
                    String::new()
                } else {
                    format!(", #{fbits}")
                };
                let eval: Eval = Box::new(move |fp, x| {
                    per_lane(w, x, |y| {
                        fp.to_fixed(fmt, y[0], fbits, unsigned, w, Rounding::Zero)
                    })
                });
                let insn = format!("fcvtz{su} v0.{t}, v0.{t}{imm}");
                v.push(vop(
                    format!("fcvtz{su}.{t}#{fbits}"),
                    insn,
                    vec![In::Lanes(fmt)],
                    Gen::ToInt,
                    eval,
                ));
                let cv = if unsigned { "ucvtf" } else { "scvtf" };
                let eval: Eval = Box::new(move |fp, x| {
                    let rm = fp.rounding();
                    per_lane(w, x, |y| fp.from_fixed(fmt, y[0], w, !unsigned, fbits, rm))
                });
                let insn = format!("{cv} v0.{t}, v0.{t}{imm}");
                v.push(vop(
                    format!("{cv}.{t}#{fbits}"),
                    insn,
                    vec![In::IntLanes(w)],
                    Gen::FromInt,
                    eval,
                ));
            }
        }
    }
    let reductions: [(&str, Bin); 4] = [
        ("fmaxv", Fp::max),
        ("fminv", Fp::min),
        ("fmaxnmv", Fp::maxnm),
        ("fminnmv", Fp::minnm),
    ];
    for (m, f) in reductions {
        let eval: Eval = Box::new(move |fp, x| {
            let lanes: Vec<u64> = (0..4).map(|i| (x[0] >> (16 * i)) & 0xFFFF).collect();
            fp.reduce(&lanes, |fp, a, b| f(fp, Format::Half, a, b))
        });
        let insn = format!("{m} h0, v0.4h");
        v.push(vop(
            format!("{m}.4h"),
            insn,
            vec![In::Lanes(Format::Half)],
            Gen::Pair,
            eval,
        ));
    }
    let eval: Eval = Box::new(|_, x| per_lane(32, x, |y| u64::from(fpsimd::urecpe(y[0] as u32))));
    v.push(vop(
        "urecpe.2s".into(),
        "urecpe v0.2s, v0.2s".into(),
        vec![In::IntLanes(32)],
        Gen::FromInt,
        eval,
    ));
    let eval: Eval = Box::new(|_, x| per_lane(32, x, |y| u64::from(fpsimd::ursqrte(y[0] as u32))));
    v.push(vop(
        "ursqrte.2s".into(),
        "ursqrte v0.2s, v0.2s".into(),
        vec![In::IntLanes(32)],
        Gen::FromInt,
        eval,
    ));
    v
}
