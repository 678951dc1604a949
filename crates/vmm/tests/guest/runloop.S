// A tiny arm64 Image for the run-loop test (crates/vmm/tests/runloop.rs) on
// device-trees/heap-soc.dts: GICv3 at 0x08000000 (GICR 0x080a0000), PL011 at 0x09000000.
//
// 1. prints "A" and sets up the GIC (distributor, redistributor, CPU interface);
// 2. pends SPI 8 (INTID 40) through GICD_ISPENDR1 and spins counting in x5: the IRQ must be
//    taken within a few instructions ("S" if x5 < 8 when it arrives, "L" if later);
// 3. arms the virtual timer (PPI 11, INTID 27) 1000 ticks ahead and waits in WFI: the run
//    loop skips the idle time, the timer interrupt arrives ("T");
// 4. checks ICC_RPR is idle again after the EOIs (no interrupt left active: "E" if not),
//    prints "\n" and powers off with PSCI SYSTEM_OFF over HVC.
// Any other exception prints "X" and powers off.
// Position-independent: the loader puts the Image at a 2 MiB boundary of its choosing.

    .equ UART, 0x09000000
    .equ GICD, 0x08000000
    .equ GICR, 0x080a0000
    .equ PSCI_SYSTEM_OFF, 0x84000008

    .include "image-header.S"

    image_start

entry:
    start_on_uart 'A'

    ldr     x2, =GICD
    mov     w1, #0x12               // GICD_CTLR: ARE_NS | EnableGrp1NS
    str     w1, [x2]
    ldr     x3, =GICR
    ldr     w1, [x3, #0x14]         // GICR_WAKER: clear ProcessorSleep
    bic     w1, w1, #2
    str     w1, [x3, #0x14]
    add     x4, x3, #0x10000        // SGI_base
    mov     w1, #-1
    str     w1, [x4, #0x80]         // GICR_IGROUPR0: group 1
    mov     w1, #(1 << 27)
    str     w1, [x4, #0x100]        // GICR_ISENABLER0: the virtual timer's PPI
    mov     w1, #(1 << 8)
    str     w1, [x2, #0x84]         // GICD_IGROUPR1: INTID 40 in group 1
    str     w1, [x2, #0x104]        // GICD_ISENABLER1: INTID 40 enabled
    mov     x1, #0xf0
    msr     S3_0_C4_C6_0, x1        // ICC_PMR_EL1
    mov     x1, #1
    msr     S3_0_C12_C12_7, x1      // ICC_IGRPEN1_EL1
    isb

    mov     x20, #1                 // state 1: waiting for INTID 40
    mov     x5, #0
    msr     daifclr, #2             // IRQs on
    mov     w1, #(1 << 8)
    str     w1, [x2, #0x204]        // GICD_ISPENDR1: pend INTID 40
spin:
    add     x5, x5, #1
    b       spin

idle:
    wfi
    b       idle

irq:
    mrs     x6, S3_0_C12_C12_0      // ICC_IAR1_EL1
    msr     S3_0_C12_C12_1, x6      // ICC_EOIR1_EL1
    cmp     x20, #1
    b.eq    got_spi
    cmp     x20, #2
    b.eq    got_timer
    b       unexpected

got_spi:
    cmp     x6, #40
    b.ne    unexpected
    mov     w1, #'S'
    mov     w7, #'L'
    cmp     x5, #8
    csel    w1, w1, w7, lo
    str     w1, [x19]
    mov     x1, #1000
    msr     cntv_tval_el0, x1
    mov     x1, #1                  // ENABLE, not masked
    msr     cntv_ctl_el0, x1
    mov     x20, #2                 // state 2: waiting for the timer
    adr     x1, idle
    msr     elr_el1, x1
    eret

got_timer:
    cmp     x6, #27
    b.ne    unexpected
    msr     cntv_ctl_el0, xzr       // timer off
    mov     w1, #'T'
    str     w1, [x19]
    mrs     x1, S3_0_C12_C11_3      // ICC_RPR_EL1: idle priority after the EOI
    cmp     x1, #0xff
    b.eq    1f
    mov     w1, #'E'
    str     w1, [x19]
1:  mov     w1, #'\n'
    str     w1, [x19]
    ldr     x0, =PSCI_SYSTEM_OFF
    hvc     #0
    b       .

unexpected:
    mov     w1, #'X'
    str     w1, [x19]
    ldr     x0, =PSCI_SYSTEM_OFF
    hvc     #0
    b       .

    .ltorg

    irq_vectors
image_end:
