// A tiny arm64 Image for crates/vmm/tests/smp.rs on device-trees/heap-soc-smp4.dts: CPU0
// starts CPU1 (which spins), then writes CNTV_CTL_EL0 200 times and stores the guest time
// that took (CNTVCT_EL0 after minus before) at Image offset 0x800; then PSCI SYSTEM_OFF.
// A timer register write makes the CPU return to the scheduler; the write must not cost
// the writing CPU the rest of its quantum, or a kernel whose tick handler writes the timer
// a few times would not finish a tick within a tick period when the counter is slow.
// Position-independent: the loader puts the Image at a 2 MiB boundary of its choosing.

    .equ PSCI_CPU_ON_64, 0xc4000003
    .equ PSCI_SYSTEM_OFF, 0x84000008
    .equ WRITES, 200

    .include "image-header.S"

    image_start

entry:
    ldr     x0, =PSCI_CPU_ON_64
    mov     x1, #1                  // MPIDR of cpu@1
    adr     x2, spin
    mov     x3, #0
    hvc     #0
    mrs     x10, cntvct_el0
    mov     x11, #WRITES
1:  msr     cntv_ctl_el0, xzr
    subs    x11, x11, #1
    b.ne    1b
    mrs     x12, cntvct_el0
    sub     x12, x12, x10
    adr     x13, data
    str     x12, [x13]
    ldr     x0, =PSCI_SYSTEM_OFF
    hvc     #0
    b       .

spin:
    add     x1, x1, #1
    b       spin

    .ltorg
    .org    0x800
data:
    .quad   0
    .balign 4096
image_end:
