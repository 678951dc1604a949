//! Differential harness: with a fixed seed, generate input registers for every instruction
//! variant of a group, run one static AArch64 program per group under qemu-aarch64, and compare
//! the destination register, X0 and FPSR with the `simd` functions.
//!
//! Register convention of the generated code: the instruction under test writes `v0` (or
//! `x0`/`w0`); it reads `v0` (old destination), `v1` (Vn), `v2` (Vm), `v3`/`v4` (more table
//! registers), `v5` (TBL indices) and `x1` (general source). Each case loads these from the
//! `.incbin` input table (`v0..v5`, `x1`, and `x0 = 0`), clears FPSR, runs the instruction and
//! stores `q0`, `x0` and FPSR to an output table that is written to stdout.

pub mod extra;
pub mod gen;
pub mod groups;
pub mod moves;
pub mod reserved;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use gen::Rng;

/// Global seed; every variant derives its own stream from this and its instruction text.
const SEED: u64 = 0x7369_6d64_6f72_6163;
/// Input record: six vector registers, x1 and x0.
const RECORD: usize = 6 * 16 + 16;
/// Output record: q0, x0 and FPSR.
const RESULT: usize = 32;
/// FPSR.QC.
const QC: u64 = 1 << 27;

/// The registers a case starts with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Regs {
    /// v0..v5.
    pub v: [u128; 6],
    /// x1.
    pub x: u64,
}

/// What one case leaves behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Out {
    /// The whole of v0.
    pub v0: u128,
    /// x0 (zero before the instruction).
    pub x0: u64,
    /// FPSR after the instruction (cleared before it).
    pub fpsr: u64,
}

impl Out {
    /// A vector result without saturation.
    pub fn v(v0: u128) -> Out {
        Out { v0, x0: 0, fpsr: 0 }
    }

    /// A vector result from a saturating operation.
    pub fn sat(v0: u128, qc: bool) -> Out {
        Out {
            v0,
            x0: 0,
            fpsr: if qc { QC } else { 0 },
        }
    }
}

/// How a variant's inputs are generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gen {
    /// Every register random with edge lanes of this many bits.
    Lanes(u32),
    /// As `Lanes`, with `v2` holding per-lane shift counts for elements of this many bits.
    ShiftCounts(u32),
    /// As `Lanes(8)`, with `v5` holding indices mostly within a table of this many registers.
    Indices(u32),
    /// Only a couple of cases: the instruction has no vector sources apart from `v0`.
    Few,
}

type Model = Box<dyn Fn(&Regs) -> Out>;

/// One instruction form (fixed arrangement and immediates) and its model.
pub struct Variant {
    /// The assembler line.
    pub text: String,
    /// Input generation.
    pub gen: Gen,
    /// Our semantics.
    pub model: Model,
}

impl Variant {
    /// A variant from text, generator and model.
    pub fn new(text: impl Into<String>, gen: Gen, model: impl Fn(&Regs) -> Out + 'static) -> Self {
        Variant {
            text: text.into(),
            gen,
            model: Box::new(model),
        }
    }
}

/// Random cases per variant (edge-lane cases come on top).
const RANDOM: usize = 160;

fn cases(v: &Variant) -> Vec<Regs> {
    let mut rng = Rng::new(SEED ^ gen::seed_of(&v.text));
    let mut out = Vec::new();
    match v.gen {
        Gen::Few => {
            for _ in 0..3 {
                out.push(gen::regs(&mut rng, 64));
            }
            return out;
        }
        Gen::Lanes(w) | Gen::ShiftCounts(w) => {
            // Every pair of edge values in all lanes of Vn and Vm.
            for &a in &gen::edges(w) {
                for &b in &gen::edges(w) {
                    let mut r = gen::regs(&mut rng, w);
                    r.v[1] = gen::splat(a, w);
                    r.v[2] = gen::splat(b, w);
                    r.x = a;
                    out.push(r);
                }
            }
        }
        Gen::Indices(_) => {}
    }
    for _ in 0..RANDOM {
        let mut r = match v.gen {
            Gen::Lanes(w) | Gen::ShiftCounts(w) => gen::regs(&mut rng, w),
            _ => gen::regs(&mut rng, 8),
        };
        match v.gen {
            Gen::ShiftCounts(w) => r.v[2] = gen::shift_counts(&mut rng, w),
            Gen::Indices(len) => r.v[5] = gen::indices(&mut rng, len),
            _ => {}
        }
        out.push(r);
    }
    out
}

pub(crate) fn require_tool(tool: &str, package: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{tool}` is missing: the AdvSIMD oracle tests need qemu-aarch64 and the aarch64 cross \
         binutils (Debian packages: qemu-user, gcc-aarch64-linux-gnu); install `{package}`"
    );
}

/// The assembly program: one counted loop per variant, then write(1, output) and exit.
fn program(variants: &[Variant], counts: &[usize], input: &Path, total: usize) -> String {
    let mut s = String::from(
        ".arch armv8-a+crypto\n.text\n.global _start\n_start:\n\
         \tadrp x20, input\n\tadd x20, x20, :lo12:input\n\
         \tadrp x21, output\n\tadd x21, x21, :lo12:output\n",
    );
    let mov32 = |s: &mut String, reg: &str, v: usize| {
        let _ = writeln!(
            s,
            "\tmovz {reg}, #{}\n\tmovk {reg}, #{}, lsl #16",
            v & 0xFFFF,
            (v >> 16) & 0xFFFF
        );
    };
    for (v, &n) in variants.iter().zip(counts) {
        mov32(&mut s, "x22", n);
        let _ = writeln!(
            s,
            "1:\n\tldp q0, q1, [x20], #32\n\tldp q2, q3, [x20], #32\n\tldp q4, q5, [x20], #32\n\
             \tldp x1, x0, [x20], #16\n\tmsr fpsr, xzr\n\t{}\n\tmrs x2, fpsr\n\
             \tstr q0, [x21], #16\n\tstp x0, x2, [x21], #16\n\tsubs x22, x22, #1\n\tb.ne 1b",
            v.text
        );
    }
    s.push_str("\tmov x0, #1\n\tadrp x1, output\n\tadd x1, x1, :lo12:output\n");
    mov32(&mut s, "x2", total * RESULT);
    s.push_str(
        "2:\n\tmov x8, #64\n\tsvc #0\n\tcmp x0, #0\n\tb.le 3f\n\tadd x1, x1, x0\n\
         \tsub x2, x2, x0\n\tcbnz x2, 2b\n\tmov x0, #0\n\tmov x8, #93\n\tsvc #0\n\
         3:\n\tmov x0, #1\n\tmov x8, #93\n\tsvc #0\n\
         .section .rodata\n.balign 16\ninput:\n",
    );
    let _ = writeln!(s, "\t.incbin \"{}\"", input.display());
    let _ = writeln!(s, ".bss\n.balign 16\noutput:\n\t.skip {}", total * RESULT);
    s
}

pub(crate) fn work_dir(group: &str) -> PathBuf {
    let name = format!("simd-oracle-{group}-{}", std::process::id());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("create the oracle work directory");
    dir
}

fn tool(dir: &Path, prog: &str, args: &[&str]) {
    let out = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {prog}: {e}"));
    assert!(
        out.status.success(),
        "{prog} {args:?} in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Build and run the group's program; returns one `Out` per case, in order.
fn run_qemu(group: &str, variants: &[Variant], all: &[Vec<Regs>]) -> Vec<Out> {
    require_tool("aarch64-linux-gnu-as", "gcc-aarch64-linux-gnu");
    require_tool("aarch64-linux-gnu-ld", "gcc-aarch64-linux-gnu");
    require_tool("qemu-aarch64", "qemu-user");
    let dir = work_dir(group);
    let total: usize = all.iter().map(Vec::len).sum();
    let mut blob = Vec::with_capacity(total * RECORD);
    for r in all.iter().flatten() {
        for v in r.v {
            blob.extend_from_slice(&v.to_le_bytes());
        }
        blob.extend_from_slice(&r.x.to_le_bytes());
        blob.extend_from_slice(&0u64.to_le_bytes());
    }
    let input = dir.join("input.bin");
    std::fs::write(&input, &blob).expect("write the input table");
    let counts: Vec<usize> = all.iter().map(Vec::len).collect();
    std::fs::write(
        dir.join("prog.s"),
        program(variants, &counts, &input, total),
    )
    .expect("write the assembly");
    tool(&dir, "aarch64-linux-gnu-as", &["-o", "prog.o", "prog.s"]);
    tool(
        &dir,
        "aarch64-linux-gnu-ld",
        &["-static", "-o", "prog", "prog.o"],
    );
    let run = Command::new("qemu-aarch64")
        .arg(dir.join("prog"))
        .output()
        .expect("run qemu-aarch64");
    assert!(
        run.status.success(),
        "qemu-aarch64 {} failed: {:?} {}",
        dir.display(),
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(run.stdout.len(), total * RESULT, "result size");
    let _ = std::fs::remove_dir_all(&dir);
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    run.stdout
        .chunks_exact(RESULT)
        .map(|r| Out {
            v0: u128::from_le_bytes(r[..16].try_into().expect("16 bytes")),
            x0: word(&r[16..24]),
            fpsr: word(&r[24..32]),
        })
        .collect()
}

fn show(o: &Out) -> String {
    format!("v0={:#034x} x0={:#x} fpsr={:#x}", o.v0, o.x0, o.fpsr)
}

/// Generate, run and compare a whole group; panics listing the first mismatches. Returns the
/// number of cases.
pub fn check_group(group: &str, variants: Vec<Variant>) -> usize {
    let all: Vec<Vec<Regs>> = variants.iter().map(cases).collect();
    let expected = run_qemu(group, &variants, &all);
    let mut got = expected.iter();
    let mut bad = 0usize;
    let mut bad_variants = Vec::new();
    let mut report = String::new();
    let mut done = 0;
    let mut constant = 0;
    for (v, cs) in variants.iter().zip(&all) {
        let mut vbad = 0;
        for r in cs {
            let want = *got.next().expect("one result per case");
            let ours = (v.model)(r);
            if ours != want {
                vbad += 1;
                if bad + vbad <= 30 {
                    let _ = writeln!(
                        report,
                        "  {}\n    v0={:#034x} v1={:#034x} v2={:#034x}\n    v3={:#034x} \
                         v4={:#034x} v5={:#034x} x1={:#x}\n    qemu: {}\n    ours: {}",
                        v.text,
                        r.v[0],
                        r.v[1],
                        r.v[2],
                        r.v[3],
                        r.v[4],
                        r.v[5],
                        r.x,
                        show(&want),
                        show(&ours)
                    );
                }
            }
        }
        // Guard against a harness bug making the oracle constant: only a few variants with
        // random sources (USHR by the element size...) may give a single outcome.
        let first = expected[done];
        if v.gen != Gen::Few && expected[done..done + cs.len()].iter().all(|o| *o == first) {
            constant += 1;
        }
        done += cs.len();
        if vbad != 0 {
            bad_variants.push(format!("{} ({vbad}/{})", v.text, cs.len()));
        }
        bad += vbad;
    }
    let total: usize = all.iter().map(Vec::len).sum();
    let saturated = expected.iter().filter(|o| o.fpsr & QC != 0).count();
    println!(
        "group {group}: {} variants, {total} cases ({saturated} set QC), {bad} mismatches",
        variants.len()
    );
    assert!(
        constant * 10 <= variants.len(),
        "{group}: qemu gave a single outcome for {constant} of {} variants",
        variants.len()
    );
    assert!(
        bad == 0,
        "{bad} mismatches against qemu-aarch64 in group {group}\nvariants: {}\nfirst mismatches:\n{report}",
        bad_variants.join("; ")
    );
    total
}
