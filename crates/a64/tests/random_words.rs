//! Robustness: a guest can execute any 32-bit word. Feed millions of random
//! words (fixed seed; half uniform, half shaped like table patterns) through
//! decode + execute at EL1 and EL0, and through the run loop, and require
//! that the host never panics.

use a64::decode::{decoder, Pattern};
use a64::table::INSNS;
use a64::{Cpu, CpuProfile, NoMmio};

const RAM_BASE: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 1 << 20;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn cpu_with_ram(ram: &mut [u8]) -> Cpu {
    let mut cpu = Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()));
    // SAFETY: `ram` outlives the CPU in every test below and is not touched
    // through references while the CPU exists.
    unsafe {
        cpu.core
            .phys()
            .add_ram(ram.as_mut_ptr(), RAM_BASE, RAM_SIZE)
            .expect("ram");
    }
    cpu
}

fn random_word(rng: &mut Rng, pats: &[Pattern]) -> u32 {
    let r = rng.next();
    if r & 1 == 0 {
        (r >> 32) as u32
    } else {
        let p = &pats[((r >> 1) % pats.len() as u64) as usize];
        p.value | ((r >> 32) as u32 & !p.mask)
    }
}

fn randomize(cpu: &mut Cpu, rng: &mut Rng) {
    for i in 0..31 {
        let r = rng.next();
        cpu.core.regs.x[i] = match r % 4 {
            0 => RAM_BASE + (r >> 8) % RAM_SIZE,
            1 => r >> 4,
            2 => r % 64,
            _ => r,
        };
    }
    cpu.core.regs.x[usize::from(a64::state::SP)] = RAM_BASE + RAM_SIZE / 2;
    cpu.core.regs.nzcv = (rng.next() as u32) & 0xf000_0000;
}

fn feed(el: u8, seed: u64, n: usize) {
    let mut ram = vec![0u8; RAM_SIZE as usize];
    let mut cpu = cpu_with_ram(&mut ram);
    let pats: Vec<Pattern> = INSNS
        .iter()
        .filter_map(|i| Pattern::parse(i.pattern).ok())
        .collect();
    let mut rng = Rng(seed);
    let d = decoder();
    for i in 0..n {
        if i % 4096 == 0 {
            cpu.reset();
            cpu.core.sys.vbar = RAM_BASE;
            // Turn translation on with garbage tables now and then.
            if i % 8192 == 0 {
                cpu.core.sys.sctlr |= 1;
                cpu.core.sys.ttbr0 = RAM_BASE + (rng.next() % RAM_SIZE);
                cpu.core.sys.tcr = rng.next() & 0x7f_ffff_ffff;
            }
            cpu.core.sys.cpacr = (rng.next() & 3) << 20;
            let (el_now, sel) = (el, rng.next() & 1 == 1);
            cpu.core.regs.switch_sp(el_now, sel);
            randomize(&mut cpu, &mut rng);
        }
        let w = random_word(&mut rng, &pats);
        let op = d.decode(w);
        cpu.core.regs.pc = RAM_BASE + 4 * (rng.next() % (RAM_SIZE / 4));
        if cpu.core.regs.pstate.el != el {
            cpu.core.regs.switch_sp(el, false);
        }
        let _ = (op.h)(&mut cpu.core, &op);
        cpu.core.exit = None;
    }
    let undefs: u64 = cpu.core.undef_counts.iter().sum();
    assert!(
        undefs > n as u64 / 10,
        "UNDEFINED words are counted ({undefs})"
    );
    assert!(undefs < n as u64, "some words executed");
    drop(cpu);
    assert!(ram.iter().any(|&b| b != 0), "stores reached RAM");
}

#[test]
fn million_random_words_at_el1_do_not_panic() {
    feed(1, 0xE1, 1_000_000);
}

#[test]
fn million_random_words_at_el0_do_not_panic() {
    feed(0, 0xE0, 1_000_000);
}

#[test]
fn run_loop_over_random_code_does_not_panic() {
    let mut ram = vec![0u8; RAM_SIZE as usize];
    let pats: Vec<Pattern> = INSNS
        .iter()
        .filter_map(|i| Pattern::parse(i.pattern).ok())
        .collect();
    let mut rng = Rng(0x77);
    for w in ram.chunks_exact_mut(4) {
        w.copy_from_slice(&random_word(&mut rng, &pats).to_le_bytes());
    }
    let mut cpu = cpu_with_ram(&mut ram);
    for round in 0..200 {
        cpu.reset();
        cpu.core.sys.vbar = RAM_BASE + (rng.next() % RAM_SIZE);
        randomize(&mut cpu, &mut rng);
        if round % 2 == 1 {
            cpu.core.regs.switch_sp(0, false);
        }
        cpu.set_pc(RAM_BASE + 4 * (rng.next() % (RAM_SIZE / 4)));
        for _ in 0..20 {
            let _ = cpu.run(2_000);
        }
    }
    assert!(cpu.core.icount > 0);
}
