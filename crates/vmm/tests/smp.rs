//! SMP in seconds: a hand-written Image (tests/guest/smp.S) on the four-CPU reference board
//! (device-trees/heap-soc-smp4.dts), through `Vm::boot` and `Vm::run`. CPU0 starts the
//! others with PSCI CPU_ON (a second CPU_ON answers ALREADY_ON, AFFINITY_INFO sees them ON);
//! all four add to one counter at once with LDXR/STXR while the scheduler switches PEs
//! under them; WFE/SEV carry the hand-offs; each secondary finds its redistributor by
//! GICR_TYPER, and CPU0 sends it SGI 1 through ICC_SGI1R_EL1 (waking it from WFI); each
//! acknowledges, prints and calls CPU_OFF; AFFINITY_INFO sees them OFF; SYSTEM_OFF ends the
//! run; a second run is the same to the instruction. With `--smp` below the DT's CPU count,
//! CPU_ON of an excluded CPU answers INVALID_PARAMETERS and the CPU stays OFF.

mod common;
use common::image;

use vm_memory::{Bytes, GuestAddress};
use vmm::vm::{PeState, RunSummary, Stop, Vm, VmConfig};

fn heap_soc_smp4() -> board::Loaded {
    common::board("heap-soc-smp4.dts")
}

/// The Image's `data` page (smp.S DATA_OFFSET): counter, done, ack[4], retries[4], go,
/// woken[4].
const DATA_OFFSET: u64 = 0x1000;

/// How a run of the smp Image went.
struct Outcome {
    s: RunSummary,
    console: String,
    pes: Vec<(u64, PeState)>,
    /// The shared counter.
    counter: u64,
    /// Secondaries that counted and got ready for their IPI.
    done: u64,
    /// Per CPU: its IPI arrived.
    acks: [u64; 4],
    /// Per CPU: its store-exclusives that failed (the loop retried).
    retries: [u64; 4],
    /// Per CPU: its IPI ended its WFI (rather than arriving as it unmasked IRQs).
    woken: [u64; 4],
}

/// Boots the smp Image on heap-soc-smp4.dts with `--smp smp` and runs it to the end.
fn run(kernel: &[u8], smp: Option<usize>) -> Outcome {
    let b = heap_soc_smp4();
    let console = devices::console::Capture::new(false);
    let mut vm = Vm::boot(
        &b.board,
        &b.tree,
        ("smp Image", kernel),
        None,
        Box::new(console.clone()),
        VmConfig {
            smp,
            ..VmConfig::default()
        },
    )
    .expect("boot");
    let s = vm.run(5_000_000);
    let data = vm.layout.kernel.base + DATA_OFFSET;
    let word = |i: u64| -> u64 {
        vm.machine()
            .memory
            .read_obj::<u64>(GuestAddress(data + 8 * i))
            .expect("the data page is RAM")
    };
    Outcome {
        counter: word(0),
        done: word(1),
        acks: std::array::from_fn(|k| word(2 + k as u64)),
        retries: std::array::from_fn(|k| word(6 + k as u64)),
        woken: std::array::from_fn(|k| word(11 + k as u64)),
        console: console.text(),
        pes: vm.pe_states(),
        s,
    }
}

/// What every run must show besides its console: powered off, nothing unanswered.
fn clean(s: &RunSummary, console: &str) {
    assert_eq!(s.stop, Stop::PowerOff, "console: {console:?}");
    assert_eq!(s.spurious_acks, 0, "console: {console:?}");
    assert!(s.unmapped.is_empty(), "{:?}", s.unmapped);
    assert!(s.unsupported_calls.is_empty(), "{:?}", s.unsupported_calls);
    assert!(
        s.undefined.iter().all(|&(_, n)| n == 0),
        "{:?}",
        s.undefined
    );
}

#[test]
fn four_cpus_start_count_atomically_take_ipis_and_power_off_deterministically() {
    let kernel = image("smp");
    let o = run(&kernel, None);
    clean(&o.s, &o.console);
    // "S": CPU0 up; "+++": CPU_ON of CPUs 1-3 succeeded, each then ALREADY_ON and seen ON;
    // "=": counter == 4 * 10000; "123": each secondary's IPI, one at a time; ".": every
    // secondary seen OFF after its CPU_OFF.
    assert_eq!(o.console, "S+++=123.\n");
    assert_eq!(o.counter, 40_000);
    assert_eq!(o.done, 3);
    assert_eq!(o.acks, [0, 1, 1, 1]);
    // The four counting loops overlapped (60000 instructions each against 20000-instruction
    // turns; guest time is a third of the instructions retired), a turn ended between an
    // LDXR and its STXR while the others went on adding, the STXR failed and the loop
    // retried: the count above is exact because the exclusive monitor is cleared between
    // turns. (With LDR/STR instead the Image prints "C".)
    assert!(
        o.retries.iter().sum::<u64>() > 0,
        "no store-exclusive failed: {:?}",
        o.retries
    );
    assert!(o.s.counter < o.s.insns / 2, "counter {}", o.s.counter);
    // At least one IPI woke its target from WFI (the others may arrive as the target
    // unmasks IRQs, which is as good).
    assert!(o.woken.contains(&1), "woken {:?}", o.woken);
    // Four times 10000 iterations of a six-instruction loop, plus the retries, set-up and
    // polling.
    assert!(
        (240_000..245_000).contains(&o.s.insns),
        "{} instructions",
        o.s.insns
    );
    assert_eq!(
        o.pes,
        vec![
            (0, PeState::Running),
            (1, PeState::Off),
            (2, PeState::Off),
            (3, PeState::Off),
        ]
    );

    let again = run(&kernel, None);
    assert_eq!(again.console, o.console);
    assert_eq!(again.s.insns, o.s.insns);
    assert_eq!(again.s.counter, o.s.counter);
    assert_eq!(again.retries, o.retries);
    assert_eq!(again.woken, o.woken);
}

#[test]
fn with_smp_1_cpu_on_of_the_others_is_refused_and_they_stay_off() {
    let o = run(&image("smp"), Some(1));
    clean(&o.s, &o.console);
    // "!2" three times: CPU_ON answered INVALID_PARAMETERS (-2) for CPUs 1-3, and AFFINITY_INFO reports
    // each OFF; CPU0 counts alone to 10000 ("=") and sends no IPIs.
    assert_eq!(o.console, "S!2!2!2=.\n");
    assert_eq!((o.counter, o.done, o.acks), (10_000, 0, [0; 4]));
    assert_eq!(&o.retries[1..], [0; 3], "CPUs 1-3 never ran");
    assert_eq!(
        o.retries[0], 0,
        "one PE running: nothing clears its reservation"
    );
    assert!(
        (60_000..61_000).contains(&o.s.insns),
        "{} instructions",
        o.s.insns
    );
    assert_eq!(
        o.pes,
        vec![
            (0, PeState::Running),
            (1, PeState::Excluded),
            (2, PeState::Excluded),
            (3, PeState::Excluded),
        ]
    );
}

#[test]
fn with_smp_2_only_cpu1_starts() {
    let o = run(&image("smp"), Some(2));
    clean(&o.s, &o.console);
    assert_eq!(o.console, "S+!2!2=1.\n");
    assert_eq!((o.counter, o.done, o.acks), (20_000, 1, [0, 1, 0, 0]));
    assert_eq!(
        o.pes,
        vec![
            (0, PeState::Running),
            (1, PeState::Off),
            (2, PeState::Excluded),
            (3, PeState::Excluded),
        ]
    );
}

#[test]
fn a_timer_register_write_does_not_end_the_writers_quantum() {
    let b = heap_soc_smp4();
    let console = devices::console::Capture::new(false);
    let mut vm = Vm::boot(
        &b.board,
        &b.tree,
        ("timer-writes Image", &image("timer-writes")),
        None,
        Box::new(console),
        VmConfig::default(),
    )
    .expect("boot");
    let s = vm.run(50_000_000);
    assert_eq!(s.stop, Stop::PowerOff);
    let elapsed: u64 = vm
        .machine()
        .memory
        .read_obj(GuestAddress(vm.layout.kernel.base + 0x800))
        .expect("RAM");
    // About 3 instructions per write; ending the turn at each write would let CPU1 run a
    // whole quantum in between (200 x 20,000 ticks).
    assert!(
        (600..2_000).contains(&elapsed),
        "200 timer writes took {elapsed} ticks of guest time"
    );
}
