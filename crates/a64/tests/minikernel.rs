//! System mode end to end: a tiny EL1 kernel (tests/guest/minikernel.S)
//! builds page tables, enables the MMU, enters EL0 and services SVCs, an
//! access-flag fault, a trapped MRS, a permission fault and a timer IRQ,
//! then reports the user program's registers with `hvc #0x42`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use a64::{Cpu, CpuProfile, Exit, NoMmio};

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 1 << 20;

fn build_kernel() -> Vec<u8> {
    common::require_tools();
    let dir = common::temp_dir("minikernel");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guest/minikernel.S");
    let (o, elf, bin) = (dir.join("k.o"), dir.join("k"), dir.join("k.bin"));
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("run binutils");
        assert!(
            out.status.success(),
            "{cmd:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("aarch64-linux-gnu-as")
        .arg(&src)
        .arg("-o")
        .arg(&o));
    run(Command::new("aarch64-linux-gnu-ld")
        .arg("-Ttext=0x40000000")
        .arg("-o")
        .arg(&elf)
        .arg(&o));
    run(Command::new("aarch64-linux-gnu-objcopy")
        .args(["-O", "binary"])
        .arg(&elf)
        .arg(&bin));
    std::fs::read(bin).expect("read kernel image")
}

#[test]
fn minikernel_runs_a_user_program_through_exceptions_mmu_and_timer() {
    let image = build_kernel();
    let mut ram = vec![0u8; RAM_SIZE as usize];
    ram[..image.len()].copy_from_slice(&image);
    let mut cpu = Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()));
    // SAFETY: `ram` outlives `cpu` (dropped explicitly below) and is not
    // touched while the CPU runs.
    unsafe { cpu.core.phys().add_ram(ram.as_mut_ptr(), RAM, RAM_SIZE) }.expect("ram");
    cpu.set_pc(RAM);
    let mut timer_exits = 0;
    for _ in 0..100 {
        match cpu.run(1_000_000) {
            Exit::Budget => {
                timer_exits += 1;
                let level = cpu.core.vtimer_irq();
                cpu.set_irq(level);
            }
            Exit::Hvc(0x42) => break,
            Exit::Hvc(0xbad) => {
                let r = &cpu.core.regs;
                panic!(
                    "unexpected exception: ESR {:#x} ELR {:#x} FAR {:#x}",
                    r.x[0], r.x[1], r.x[2]
                );
            }
            other => panic!("unexpected exit {other:?} at pc {:#x}", cpu.core.regs.pc),
        }
    }
    let x = cpu.core.regs.x;
    assert_eq!(x[0], 107, "svc #1 added 100");
    assert_eq!(x[1], 0x1234, "load retried after the access-flag fault");
    assert_eq!(x[3], 0x410F_D034, "trapped MRS emulated with MIDR_EL1");
    assert_eq!(x[4], 42, "LDXR/STXR increment");
    assert_eq!(
        x[6], 107,
        "value round-tripped through FP registers and the stack"
    );
    assert!(x[8] > 0, "user spun until the timer IRQ");
    assert_eq!(
        x[10],
        (0x24 << 26) | (1 << 25) | (1 << 6) | 0x0F,
        "permission-fault ESR"
    );
    assert_eq!(
        x[11],
        (0x18 << 26) | (1 << 25) | (3 << 20) | (3 << 5) | 1,
        "MRS trap ESR"
    );
    assert_eq!(x[12], 1, "exactly one timer IRQ");
    assert!(
        timer_exits >= 2,
        "deadline and CNTV_CTL write both reported"
    );
    assert_eq!(cpu.core.regs.pstate.el, 1);
    drop(cpu);
}
