// A tiny arm64 Image for the external-abort test (crates/vmm/tests/accel.rs, and
// tests/kvm-nested.sh under KVM) on device-trees/heap-soc.dts (PL011 at 0x09000000):
// prints "A", loads from 0x0c000000, where nothing is mapped, and expects a synchronous
// external abort at that load: "D" when ESR_EL1 says data abort from EL1 (EC 0x25) with an
// external-abort status (DFSC 0x10) and FAR_EL1 is the address, "X" for any other exception,
// "N" when the load completed. Then "\n" and PSCI SYSTEM_OFF over HVC.

    .equ UART, 0x09000000
    .equ HOLE, 0x0c000000
    .equ PSCI_SYSTEM_OFF, 0x84000008

    .include "image-header.S"

    image_start

entry:
    start_on_uart 'A'
    ldr     x2, =HOLE
    ldr     w3, [x2]
    mov     w1, #'N'
    b       finish

sync:
    mrs     x4, esr_el1
    lsr     x5, x4, #26
    cmp     x5, #0x25               // data abort, same EL
    b.ne    unexpected
    and     x5, x4, #0x3f
    cmp     x5, #0x10               // synchronous external abort
    b.ne    unexpected
    mrs     x6, far_el1
    ldr     x7, =HOLE
    cmp     x6, x7
    b.ne    unexpected
    mov     w1, #'D'
    b       finish

unexpected:
    mov     w1, #'X'
finish:
    str     w1, [x19]
    mov     w1, #'\n'
    str     w1, [x19]
    ldr     x0, =PSCI_SYSTEM_OFF
    hvc     #0
hang:
    b       hang

    .balign 2048
vectors:
    .rept 4
    b       unexpected
    .balign 128
    .endr
    b       sync                    // current EL with SPx, synchronous (VBAR + 0x200)
    .balign 128
    .rept 11
    b       unexpected
    .balign 128
    .endr

    .ltorg
image_end:
