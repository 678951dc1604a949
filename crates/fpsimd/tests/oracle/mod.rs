//! Differential harness: generate cases with a fixed seed, run one static AArch64 program per
//! operation group under qemu-aarch64, and compare its result bits and FPSR with fpsimd.

pub mod gen;
pub mod ops;
pub mod vector;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use fpsimd::{Format, Fp};
use gen::Rng;
use ops::{Gen, In, Op, Out};

/// Global seed; every operation derives its own stream from this and its name.
const SEED: u64 = 0x6865_6170_736F_6321;
/// The FPSR bits compared: IOC, DZC, OFC, UFC, IXC, IDC and QC.
const FPSR_MASK: u64 = 0x0800_009F;
const RECORD: usize = 32;
const RESULT: usize = 16;

/// One generated case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub op: u32,
    pub fpcr: u32,
    pub x: [u64; 3],
}

fn require_tool(tool: &str, package: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success());
    if ok.map_or(true, |ok| !ok) {
        panic!(
            "`{tool}` is missing: the FP oracle tests need qemu-aarch64 and the aarch64 cross \
             compiler (Debian packages: qemu-user, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross); \
             this run needs `{package}`"
        );
    }
}

fn scalar(rng: &mut Rng, gen: Gen, fmt: Format, i: usize, x: &[u64; 3]) -> u64 {
    match (gen, i) {
        (Gen::ToInt, _) => gen::to_int_value(rng, fmt),
        (Gen::Pair | Gen::Fma, 1) if rng.bit() => gen::related(rng, fmt, x[0]),
        (Gen::Fma, 2) if rng.below(3) != 0 => gen::addend(rng, fmt, x[0], x[1]),
        _ => gen::value(rng, fmt),
    }
}

fn operand(rng: &mut Rng, op: &Op, i: usize, x: &[u64; 3]) -> u64 {
    match op.ins[i] {
        In::Int => gen::int_value(rng),
        In::F(fmt) => scalar(rng, op.gen, fmt, i, x),
        In::Lanes(fmt) => {
            vector::per_lane(fmt.width(), *x, |lane| scalar(rng, op.gen, fmt, i, &lane))
        }
        In::IntLanes(w) => vector::per_lane(w, *x, |_| gen::int_value(rng)),
    }
}

/// FPCR combination `k` (0..64): RMode, FZ, DN, FZ16 and AHP.
fn fpcr_combo(k: u32) -> u32 {
    ((k & 7) << 22) | ((k >> 3 & 1) << 25) | ((k >> 4 & 1) << 19) | ((k >> 5 & 1) << 26)
}

/// Cases for one operation: every half-precision input for one-operand half instructions,
/// each special value under every FPCR setting for one-operand instructions, all pairs of
/// special values for others, then `random` generated operand sets.
pub fn cases(op: &Op, id: u32, random: usize) -> Vec<Case> {
    let mut rng = Rng::new(SEED ^ gen::seed_of(&op.name));
    let mut v = Vec::new();
    match op.ins.as_slice() {
        [] => {
            v.push(Case {
                op: id,
                fpcr: 0,
                x: [0; 3],
            });
            return v;
        }
        [In::F(fmt)] => {
            if *fmt == Format::Half {
                for a in 0..=u16::MAX {
                    let fpcr = fpcr_combo(u32::from(a).wrapping_mul(37) % 64);
                    v.push(Case {
                        op: id,
                        fpcr,
                        x: [u64::from(a), 0, 0],
                    });
                }
            }
            for &a in &gen::specials(*fmt) {
                for k in 0..64 {
                    v.push(Case {
                        op: id,
                        fpcr: fpcr_combo(k),
                        x: [a, 0, 0],
                    });
                }
            }
        }
        [In::F(fmt), ..] => {
            let sp = gen::specials(*fmt);
            for &a in &sp {
                for &b in &sp {
                    let c = gen::value(&mut rng, *fmt);
                    v.push(Case {
                        op: id,
                        fpcr: gen::fpcr(&mut rng),
                        x: [a, b, c],
                    });
                }
            }
        }
        _ => {}
    }
    for _ in 0..random {
        let mut x = [0u64; 3];
        for i in 0..op.ins.len() {
            x[i] = operand(&mut rng, op, i, &x);
        }
        v.push(Case {
            op: id,
            fpcr: gen::fpcr(&mut rng),
            x,
        });
    }
    v
}

/// The C source of the group's program: a switch with one inline-asm block per operation.
fn program(ops: &[Op]) -> String {
    let mut s = String::from(
        "#include <stdint.h>\n#include <stdio.h>\n\
         typedef struct { uint32_t op, fpcr; uint64_t a, b, c; } rec_t;\n\
         int main(int argc, char **argv) {\n\
         \x20 if (argc != 3) return 2;\n\
         \x20 FILE *in = fopen(argv[1], \"rb\"), *out = fopen(argv[2], \"wb\");\n\
         \x20 if (!in || !out) return 3;\n\
         \x20 rec_t p;\n\
         \x20 while (fread(&p, sizeof p, 1, in) == 1) {\n\
         \x20   uint64_t res = 0, sr = 0, fpcr = p.fpcr;\n\
         \x20   switch (p.op) {\n",
    );
    for (id, op) in ops.iter().enumerate() {
        let readout = match op.out {
            Out::F(_) => "fmov %[r], d0",
            Out::W | Out::X | Out::Nzcv => "mov %[r], x9",
        };
        let _ = writeln!(
            s,
            "    case {id}: asm volatile(\"msr fpcr, %[c]\\n\\tfmov d0, %[a]\\n\\tfmov d1, %[b]\\n\\t\
             fmov d2, %[x]\\n\\tmov x9, %[a]\\n\\tmsr fpsr, xzr\\n\\t{insn}\\n\\t\
             mrs %[s], fpsr\\n\\t{readout}\\n\\tmsr fpcr, xzr\"\n      \
             : [r] \"=&r\"(res), [s] \"=&r\"(sr)\n      \
             : [a] \"r\"(p.a), [b] \"r\"(p.b), [x] \"r\"(p.c), [c] \"r\"(fpcr)\n      \
             : \"x9\", \"v0\", \"v1\", \"v2\", \"cc\", \"memory\"); break;",
            insn = op.insn
        );
    }
    s.push_str(
        "    default: return 4;\n    }\n\
         \x20   uint64_t o[2] = { res, sr };\n\
         \x20   if (fwrite(o, sizeof o, 1, out) != 1) return 5;\n\
         \x20 }\n  return fclose(out) != 0;\n}\n",
    );
    s
}

fn work_dir(group: &str) -> PathBuf {
    let name = format!("fpsimd-oracle-{group}-{}", std::process::id());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("create the oracle work directory");
    dir
}

/// Build the group's program, run all cases under QEMU, return (result, fpsr) per case.
fn run_qemu(group: &str, ops: &[Op], cases: &[Case]) -> Vec<(u64, u64)> {
    require_tool("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu");
    require_tool("qemu-aarch64", "qemu-user");
    let dir = work_dir(group);
    let src = dir.join("prog.c");
    let exe = dir.join("prog");
    std::fs::write(&src, program(ops)).expect("write the C source");
    let cc = Command::new("aarch64-linux-gnu-gcc")
        .args(["-O1", "-static", "-march=armv8.2-a+fp16", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("run aarch64-linux-gnu-gcc");
    assert!(
        cc.status.success(),
        "compiling {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&cc.stderr)
    );
    let mut blob = Vec::with_capacity(cases.len() * RECORD);
    for c in cases {
        blob.extend_from_slice(&c.op.to_le_bytes());
        blob.extend_from_slice(&c.fpcr.to_le_bytes());
        for x in c.x {
            blob.extend_from_slice(&x.to_le_bytes());
        }
    }
    let input = dir.join("cases.bin");
    let output = dir.join("results.bin");
    std::fs::write(&input, &blob).expect("write the case blob");
    let run = Command::new("qemu-aarch64")
        .args(["-cpu", "max"])
        .arg(&exe)
        .arg(&input)
        .arg(&output)
        .output()
        .expect("run qemu-aarch64");
    assert!(
        run.status.success(),
        "qemu-aarch64 {} failed: {:?} {}",
        exe.display(),
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let out = std::fs::read(&output).expect("read the results");
    assert_eq!(out.len(), cases.len() * RESULT, "result count");
    let _ = std::fs::remove_dir_all(&dir);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    out.chunks_exact(RESULT)
        .map(|r| (word(&r[..8]), word(&r[8..])))
        .collect()
}

fn mask_result(out: Out, r: u64) -> u64 {
    match out {
        Out::F(fmt) => r & fmt.mask(),
        Out::W => r & 0xFFFF_FFFF,
        Out::X => r,
        Out::Nzcv => r,
    }
}

fn describe_fpcr(fpcr: u32) -> String {
    let rm = ["RN", "RP", "RM", "RZ"][(fpcr >> 22 & 3) as usize];
    let mut s = format!("{fpcr:#010x} {rm}");
    for (bit, name) in [(24, "FZ"), (25, "DN"), (19, "FZ16"), (26, "AHP")] {
        if fpcr >> bit & 1 != 0 {
            s.push(' ');
            s.push_str(name);
        }
    }
    s
}

/// Generate, run and compare a whole group; panics listing the first mismatches.
pub fn check_group(group: &str, ops: Vec<Op>, random: usize) {
    let mut all = Vec::new();
    let mut per_op = vec![0usize; ops.len()];
    for (id, op) in ops.iter().enumerate() {
        let c = cases(op, id as u32, random);
        per_op[id] = c.len();
        all.extend(c);
    }
    let expected = run_qemu(group, &ops, &all);
    let mut mismatches = vec![0usize; ops.len()];
    let mut report = String::new();
    let mut shown = 0;
    for (c, &(res, sr)) in all.iter().zip(&expected) {
        let op = &ops[c.op as usize];
        let mut fp = Fp::new(c.fpcr);
        let ours = (op.eval)(&mut fp, c.x);
        // QEMU reports the NZCV register (flags in bits 31:28); fpsimd returns them in 3:0.
        let res = if op.out == Out::Nzcv { res >> 28 } else { res };
        let want = (mask_result(op.out, res), sr & FPSR_MASK);
        let got = (mask_result(op.out, ours), u64::from(fp.fpsr) & FPSR_MASK);
        if want != got {
            mismatches[c.op as usize] += 1;
            if shown < 40 {
                shown += 1;
                let operands: Vec<String> = c.x[..op.ins.len()]
                    .iter()
                    .map(|x| format!("{x:#x}"))
                    .collect();
                let _ = writeln!(
                    report,
                    "  {:<14} ({}) fpcr {}: qemu {:#x} fpsr {:#04x}, ours {:#x} fpsr {:#04x}",
                    op.name,
                    operands.join(", "),
                    describe_fpcr(c.fpcr),
                    want.0,
                    want.1,
                    got.0,
                    got.1
                );
            }
        }
    }
    // Guard against a harness bug making the oracle constant: every operation with operands
    // must produce at least two distinct (result, FPSR) outcomes.
    let mut first: Vec<Option<(u64, u64)>> = vec![None; ops.len()];
    let mut varied = vec![false; ops.len()];
    for (c, &r) in all.iter().zip(&expected) {
        let id = c.op as usize;
        match first[id] {
            None => first[id] = Some(r),
            Some(f) => varied[id] |= f != r,
        }
    }
    for (op, varied) in ops.iter().zip(varied) {
        assert!(
            varied || op.ins.is_empty(),
            "{}: qemu gave one outcome for every case",
            op.name
        );
    }
    let total: usize = mismatches.iter().sum();
    println!(
        "group {group}: {} operations, {} cases, {total} mismatches",
        ops.len(),
        all.len()
    );
    if total != 0 {
        let bad: Vec<String> = ops
            .iter()
            .zip(mismatches.iter().zip(&per_op))
            .filter(|(_, (&n, _))| n != 0)
            .map(|(op, (n, cases))| format!("{} {n}/{cases}", op.name))
            .collect();
        panic!("{total} mismatches against qemu-aarch64 in group {group}\nper operation: {}\nfirst mismatches:\n{report}", bad.join(", "));
    }
}
