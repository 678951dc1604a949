// A tiny SMP arm64 Image for crates/vmm/tests/smp.rs on device-trees/heap-soc-smp4.dts:
// four CPUs with MPIDRs 0-3 (the DT's cpu reg values: Aff0 = 0-3, Aff1 = 0), PSCI over HVC,
// GICv3 at 0x08000000 with one redistributor frame pair (128 KiB) per CPU from 0x080a0000,
// PL011 at 0x09000000.
//
// CPU0:
// 1. prints "S", sets up the distributor (ARE_NS | EnableGrp1NS), then its redistributor
//    (found by walking GICR_TYPER for its MPIDR) and CPU interface;
// 2. starts CPUs 1-3 with PSCI CPU_ON (entry `secondary`, context id = CPU index). For each:
//    success prints "+", a second CPU_ON must answer ALREADY_ON ("A" if not) and
//    AFFINITY_INFO must report it ON ("I" if not); a refused CPU_ON prints "!" and the error
//    as a digit (INVALID_PARAMETERS, -2: "!2") and AFFINITY_INFO must report that CPU OFF;
// 3. sets GO (and SEVs) so that every CPU counts at once; adds 1 to the shared counter N
//    times with LDXR/ADD/STXR (the interpreter has no LSE atomics: ID_AA64ISAR0_EL1.Atomic
//    is 0), keeping how many of its store-exclusives failed; waits (WFE) until every
//    started secondary has bumped DONE; checks counter == (1 + started) * N ("=", else
//    "C");
// 4. sends SGI 1 to each started secondary in turn with ICC_SGI1R_EL1 and waits (WFE) for
//    its acknowledgement flag before the next, so the console is deterministic;
// 5. polls AFFINITY_INFO until every started secondary is OFF, prints ".\n" and powers off
//    with PSCI SYSTEM_OFF.
// Each secondary: checks MPIDR_EL1 is the one CPU_ON targeted ("M"), waits (WFE) for GO,
// counts N times like CPU0, wakes its redistributor, enables SGI 1 in group 1, sets PMR
// and IGRPEN1, bumps DONE and SEVs, unmasks IRQs and waits in WFI. Its IRQ handler
// acknowledges (INTID 1, else "W"), EOIs, notes in WOKEN whether the IRQ ended its WFI,
// prints its index ("1".."3"), sets its flag, SEVs and calls CPU_OFF ("F" if that
// returns).
// All four CPUs: "S+++=123.\n". Any other exception prints "X"; a redistributor that is not
// where the DT says prints "R". Every error letter powers the board off.
// The test reads the words at `data` (Image offset DATA_OFFSET) after the run.
// Position-independent: the loader puts the Image at a 2 MiB boundary of its choosing.

    .equ UART, 0x09000000
    .equ GICD, 0x08000000
    .equ GICR, 0x080a0000
    .equ GICR_STRIDE, 0x20000
    .equ N, 10000
    .equ PSCI_CPU_OFF, 0x84000002
    .equ PSCI_CPU_ON_64, 0xc4000003
    .equ PSCI_AFFINITY_INFO_64, 0xc4000004
    .equ PSCI_SYSTEM_OFF, 0x84000008
    .equ NCPUS, 4
    // offsets in `data`
    .equ COUNTER, 0
    .equ DONE, 8
    .equ ACK, 16                    // one u64 per CPU: its IPI arrived
    .equ RETRIES, 48                // one u64 per CPU: its store-exclusives that failed
    .equ GO, 80                     // set by CPU0 once every CPU is on: count
    .equ WOKEN, 88                  // one u64 per CPU: its IPI ended a WFI
    .equ DATA_OFFSET, 0x1000        // where `data` is in the Image (tests/smp.rs reads it)

    .macro putc c
    mov     w9, #\c
    str     w9, [x19]
    .endm

    .macro fail c
    mov     w9, #\c
    b       bad
    .endm

    // x0 = AFFINITY_INFO_64(mpidrs[x22], level 0)
    .macro affinity_info
    ldr     x0, =PSCI_AFFINITY_INFO_64
    ldr     x1, [x26, x22, lsl #3]
    mov     x2, #0
    hvc     #0
    .endm

    // x0 = CPU_ON_64(mpidrs[x22], secondary, context x22)
    .macro cpu_on
    ldr     x0, =PSCI_CPU_ON_64
    ldr     x1, [x26, x22, lsl #3]
    adr     x2, secondary
    mov     x3, x22
    hvc     #0
    .endm

// Registers kept across the program (PSCI calls return in x0 only):
// x19 UART, x20 this CPU's index, x21 data, x22 loop CPU index, x23 secondaries started,
// x24 their mask (bit = CPU index), x25 this CPU's redistributor, x26 mpidrs.

    .include "image-header.S"

    image_start

entry:
    ldr     x19, =UART
    mov     x20, #0
    adr     x1, vectors
    msr     vbar_el1, x1
    isb
    adr     x21, data
    adr     x26, mpidrs
    mov     w1, #0x301              // UARTCR: UARTEN | TXE | RXE
    str     w1, [x19, #0x30]
    putc    'S'

    ldr     x2, =GICD
    mov     w1, #0x12               // GICD_CTLR: ARE_NS | EnableGrp1NS
    str     w1, [x2]
    bl      gic_cpu_init

    mov     x23, #0
    mov     x24, #0
    mov     x22, #1
start_loop:
    cpu_on
    cbz     x0, 1f
    // Refused: "!" and the error; the CPU stays OFF.
    neg     x1, x0
    putc    '!'
    add     w1, w1, #'0'
    str     w1, [x19]
    affinity_info
    cmp     x0, #1                  // OFF
    b.eq    start_next
    fail    'I'
1:  putc    '+'
    add     x23, x23, #1
    mov     x1, #1
    lsl     x1, x1, x22
    orr     x24, x24, x1
    cpu_on                          // again: it is on already
    cmn     x0, #4                  // ALREADY_ON
    b.eq    2f
    fail    'A'
2:  affinity_info
    cmp     x0, #2                  // ON_PENDING: not yet, ask again
    b.eq    2b
    cbz     x0, start_next          // ON
    fail    'I'
start_next:
    add     x22, x22, #1
    cmp     x22, #NCPUS
    b.lo    start_loop

    // Everyone counts at once: the secondaries wait for GO, so their counting loops
    // overlap CPU0's and each other's (a PE's turn ends mid-loop, the others add before
    // it goes on).
    add     x2, x21, #GO
    mov     x1, #1
    stlr    x1, [x2]
    sev
    bl      count

    add     x2, x21, #DONE          // wait for every started secondary
3:  ldar    x1, [x2]
    cmp     x1, x23
    b.hs    4f
    wfe
    b       3b
4:  ldr     x1, [x21, #COUNTER]
    add     x3, x23, #1
    mov     x4, #N
    mul     x3, x3, x4
    cmp     x1, x3
    b.eq    5f
    fail    'C'
5:  putc    '='

    // One IPI at a time: SGI 1 to a secondary, then wait for its flag.
    mov     x22, #1
ipi_loop:
    lsr     x1, x24, x22
    tbz     x1, #0, ipi_next
    ldr     x1, [x26, x22, lsl #3]
    // ICC_SGI1R_EL1: TargetList [15:0] (bit Aff0; Aff0 < 16 here, so RS = 0),
    // Aff1 [23:16], INTID [27:24], Aff2 [39:32], Aff3 [55:48].
    and     x2, x1, #0xf
    mov     x3, #1
    lsl     x3, x3, x2
    ubfx    x2, x1, #8, #8
    orr     x3, x3, x2, lsl #16
    ubfx    x2, x1, #16, #8
    orr     x3, x3, x2, lsl #32
    ubfx    x2, x1, #32, #8
    orr     x3, x3, x2, lsl #48
    orr     x3, x3, #(1 << 24)
    msr     S3_0_C12_C11_5, x3      // ICC_SGI1R_EL1
    isb
    add     x2, x21, #ACK
    add     x2, x2, x22, lsl #3
6:  ldar    x1, [x2]
    cbnz    x1, ipi_next
    wfe
    b       6b
ipi_next:
    add     x22, x22, #1
    cmp     x22, #NCPUS
    b.lo    ipi_loop

    // Every started secondary turns itself off.
    mov     x22, #1
off_loop:
    lsr     x1, x24, x22
    tbz     x1, #0, off_next
7:  affinity_info
    cmp     x0, #1                  // OFF
    b.eq    off_next
    cbz     x0, 7b                  // still ON
    fail    'I'
off_next:
    add     x22, x22, #1
    cmp     x22, #NCPUS
    b.lo    off_loop

    putc    '.'
    putc    '\n'
    ldr     x0, =PSCI_SYSTEM_OFF
    hvc     #0
    b       .

// CPU_ON entry: MMU off, DAIF masked, x0 = context id (the CPU's index).
secondary:
    ldr     x19, =UART
    mov     x20, x0
    adr     x1, vectors
    msr     vbar_el1, x1
    isb
    adr     x21, data
    adr     x26, mpidrs
    mrs     x1, mpidr_el1
    ldr     x2, =0xff00ffffff       // Aff3, Aff2, Aff1, Aff0
    and     x1, x1, x2
    ldr     x2, [x26, x20, lsl #3]
    cmp     x1, x2
    b.eq    1f
    fail    'M'
1:  add     x2, x21, #GO            // wait for CPU0 to have started everyone
2:  ldar    x1, [x2]
    cbnz    x1, 3f
    wfe
    b       2b
3:  bl      count
    bl      gic_cpu_init
    add     x2, x25, #0x10000       // SGI_base
    mov     w1, #(1 << 1)
    str     w1, [x2, #0x80]         // GICR_IGROUPR0: SGI 1 in group 1
    str     w1, [x2, #0x100]        // GICR_ISENABLER0: SGI 1 enabled
    mov     w1, #0x80
    strb    w1, [x2, #0x401]        // GICR_IPRIORITYR0 byte 1: SGI 1 at priority 0x80
    add     x2, x21, #DONE          // counted and ready for the IPI
4:  ldxr    x1, [x2]
    add     x1, x1, #1
    stxr    w3, x1, [x2]
    cbnz    w3, 4b
    sev
    msr     daifclr, #2             // IRQs on
5:  wfi
after_wfi:
    b       5b

// The shared counter += 1, N times; the failed store-exclusives go to RETRIES[x20]
// (x1-x5).
count:
    mov     x4, #N
    mov     x5, #0
1:  ldxr    x1, [x21]
    add     x1, x1, #1
    stxr    w3, x1, [x21]
    cbnz    w3, 2f
    subs    x4, x4, #1
    b.ne    1b
    add     x1, x21, #RETRIES
    str     x5, [x1, x20, lsl #3]
    ret
2:  add     x5, x5, #1
    b       1b

// This CPU's redistributor in x25: the frame whose GICR_TYPER affinity is this CPU's
// MPIDR, which must be frame number x20; woken (GICR_WAKER), then the CPU interface on:
// PMR 0xf0, group 1 enabled (x1-x3).
gic_cpu_init:
    mrs     x1, mpidr_el1
    ubfx    x2, x1, #32, #8         // GICR_TYPER [63:32]: Aff3.Aff2.Aff1.Aff0
    and     x1, x1, #0xffffff
    orr     x1, x1, x2, lsl #24
    ldr     x25, =GICR
1:  ldr     x3, [x25, #8]           // GICR_TYPER
    cmp     x1, x3, lsr #32
    b.eq    2f
    tbnz    x3, #4, 9f              // Last
    add     x25, x25, #GICR_STRIDE
    b       1b
2:  ldr     x3, =GICR
    add     x3, x3, x20, lsl #17    // GICR_STRIDE
    cmp     x3, x25
    b.ne    9f
    ldr     w3, [x25, #0x14]        // GICR_WAKER: clear ProcessorSleep
    bic     w3, w3, #2
    str     w3, [x25, #0x14]
3:  ldr     w3, [x25, #0x14]        // until ChildrenAsleep clears
    tbnz    w3, #2, 3b
    mov     x3, #0xf0
    msr     S3_0_C4_C6_0, x3        // ICC_PMR_EL1
    mov     x3, #1
    msr     S3_0_C12_C12_7, x3      // ICC_IGRPEN1_EL1
    isb
    ret
9:  fail    'R'

irq:
    cbz     x20, unexpected         // CPU0 never unmasks IRQs
    mrs     x6, S3_0_C12_C12_0      // ICC_IAR1_EL1
    cmp     x6, #1
    b.eq    1f
    fail    'W'
1:  msr     S3_0_C12_C12_1, x6      // ICC_EOIR1_EL1
    mrs     x1, elr_el1             // WOKEN: taken after the WFI, not before it
    adr     x2, after_wfi
    cmp     x1, x2
    cset    x1, eq
    add     x2, x21, #WOKEN
    str     x1, [x2, x20, lsl #3]
    add     w1, w20, #'0'
    str     w1, [x19]
    add     x2, x21, #ACK
    add     x2, x2, x20, lsl #3
    mov     x1, #1
    stlr    x1, [x2]
    sev
    ldr     x0, =PSCI_CPU_OFF
    hvc     #0
    fail    'F'                     // CPU_OFF returned

unexpected:
    mov     w9, #'X'
bad:
    str     w9, [x19]
    ldr     x0, =PSCI_SYSTEM_OFF
    hvc     #0
    b       .

    .ltorg

    .balign 8
mpidrs:                             // the DT's cpu@N reg values
    .quad   0, 1, 2, 3

    irq_vectors

    .org    DATA_OFFSET             // data on its own page, away from the code
data:
    .quad   0                       // COUNTER
    .quad   0                       // DONE
    .quad   0, 0, 0, 0              // ACK[4]
    .quad   0, 0, 0, 0              // RETRIES[4]
    .quad   0                       // GO
    .quad   0, 0, 0, 0              // WOKEN[4]
image_end:
