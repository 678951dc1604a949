// A tiny EL1 "kernel" for the system-mode end-to-end test: it builds stage-1
// tables, enables the MMU, drops to EL0 and services what the user program
// does (SVC, an access-flag fault, a trapped MRS, a permission fault, a timer
// IRQ), then reports the user's registers with `hvc #0x42`. Any unexpected
// exception reports with `hvc #0xbad` (x0 = ESR, x1 = ELR, x2 = FAR).
//
// Physical layout (linked at RAM base 0x40000000, identity-mapped for EL1):
// user code page, user data page, user demand page, tables, kernel stack.

    .equ USER_VA,   0x10000000
    .equ SCTLR,     0x30D00800 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 12) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 26)
    .equ TCR,       25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2 << 32) | (1 << 36)
    .equ PAGE_AF,   (1 << 10)
    .equ NG,        (1 << 11)
    .equ UXN,       (1 << 54)
    .equ PXN,       (1 << 53)

    .text
    .global _start
_start:
    adr     x0, vectors
    msr     vbar_el1, x0
    adr     x0, kstack_top
    mov     sp, x0
    mov     x0, #(3 << 20)
    msr     cpacr_el1, x0

    // L1: [0] -> L2 (user), [1] -> 1 GiB identity block for RAM (EL1 only).
    adr     x0, l1
    adr     x1, l2
    orr     x1, x1, #3
    str     x1, [x0]
    ldr     x1, =(0x40000000 | PAGE_AF | 1)
    str     x1, [x0, #8]
    // L2[128] (VA 0x10000000) -> L3.
    adr     x0, l2
    adr     x1, l3
    orr     x1, x1, #3
    str     x1, [x0, #128 * 8]
    // L3[0]: user code, EL0 read-only executable, not EL1-executable.
    adr     x0, l3
    adr     x1, user_code
    ldr     x2, =(3 | PAGE_AF | NG | PXN | (3 << 6))
    orr     x1, x1, x2
    str     x1, [x0]
    // L3[1]: user data, EL0 read/write, never executable.
    adr     x1, user_data
    ldr     x2, =(3 | PAGE_AF | NG | PXN | UXN | (1 << 6))
    orr     x1, x1, x2
    str     x1, [x0, #8]
    // L3[2]: demand page with the access flag clear.
    adr     x1, user_demand
    ldr     x2, =(3 | NG | PXN | UXN | (1 << 6))
    orr     x1, x1, x2
    str     x1, [x0, #16]
    adr     x3, user_demand
    mov     x2, #0x1234
    str     x2, [x3]

    mov     x0, #0xff
    msr     mair_el1, x0
    ldr     x0, =TCR
    msr     tcr_el1, x0
    adr     x0, l1
    mov     x1, #5
    orr     x0, x0, x1, lsl #48
    msr     ttbr0_el1, x0
    tlbi    vmalle1
    dsb     ish
    isb
    ldr     x0, =SCTLR
    msr     sctlr_el1, x0
    isb

    // Timer: fire after 5000 ticks; EL0 may read the virtual counter.
    mov     x0, #2
    msr     cntkctl_el1, x0
    mov     x0, #5000
    msr     cntv_tval_el0, x0
    mov     x0, #1
    msr     cntv_ctl_el0, x0

    // Enter EL0 at the user code with interrupts unmasked.
    ldr     x0, =USER_VA
    msr     elr_el1, x0
    msr     spsr_el1, xzr
    ldr     x0, =(USER_VA + 0x2000)
    msr     sp_el0, x0
    mov     x0, #0
    eret

    .ltorg

// ---- exception handling ----
    .macro SAVE
    sub     sp, sp, #256
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x29, x30, [sp, #96]
    .endm
    .macro RESTORE_ERET
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x29, x30, [sp, #96]
    add     sp, sp, #256
    eret
    .endm

bad:
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    hvc     #0xbad
    b       bad

el0_sync:
    SAVE
    mrs     x9, esr_el1
    lsr     x10, x9, #26
    cmp     x10, #0x15
    b.eq    do_svc
    cmp     x10, #0x24
    b.eq    do_dabt
    cmp     x10, #0x18
    b.eq    do_sysreg
    b       bad

do_svc:
    and     x10, x9, #0xffff
    cmp     x10, #1
    b.ne    1f
    ldr     x0, [sp, #0]
    add     x0, x0, #100
    str     x0, [sp, #0]
    RESTORE_ERET
1:  // svc #2: report the user's x0..x8 and the kernel's log.
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldr     x8, [sp, #64]
    adr     x9, klog
    ldp     x10, x11, [x9]
    ldr     x12, [x9, #16]
    hvc     #0x42
    b       bad

do_dabt:
    and     x10, x9, #0x3f
    cmp     x10, #0x0b          // access flag, level 3: set AF and retry
    b.ne    1f
    adr     x0, l3
    ldr     x1, [x0, #16]
    orr     x1, x1, #PAGE_AF
    str     x1, [x0, #16]
    dsb     ishst
    mrs     x0, far_el1
    lsr     x0, x0, #12
    mov     x1, #5
    orr     x0, x0, x1, lsl #48
    tlbi    vae1, x0
    dsb     ish
    isb
    RESTORE_ERET
1:  cmp     x10, #0x0f          // permission, level 3: log ESR, skip the store
    b.ne    bad
    adr     x0, klog
    str     x9, [x0]
    mrs     x0, elr_el1
    add     x0, x0, #4
    msr     elr_el1, x0
    RESTORE_ERET

do_sysreg:
    // Emulate MRS of an ID register: put MIDR_EL1 into the saved Rt.
    ubfx    x10, x9, #5, #5
    mrs     x11, midr_el1
    str     x11, [sp, x10, lsl #3]
    adr     x0, klog
    str     x9, [x0, #8]
    mrs     x0, elr_el1
    add     x0, x0, #4
    msr     elr_el1, x0
    RESTORE_ERET

el0_irq:
    SAVE
    msr     cntv_ctl_el0, xzr    // silence the timer
    adr     x0, user_data
    mov     x1, #1
    str     x1, [x0, #8]         // the flag the user program polls
    adr     x0, klog
    ldr     x1, [x0, #16]
    add     x1, x1, #1
    str     x1, [x0, #16]        // IRQ count
    RESTORE_ERET

    .balign 2048
vectors:
    .rept 8
    .balign 128
    b       bad
    .endr
    .balign 128                  // 0x400: lower EL sync
    b       el0_sync
    .balign 128                  // 0x480: lower EL IRQ
    b       el0_irq
    .rept 6
    .balign 128
    b       bad
    .endr

// ---- the user program (its own page, mapped at USER_VA) ----
    .balign 4096
user_code:
    mov     x0, #7
    svc     #1                   // x0 = 107
    ldr     x2, =(USER_VA + 0x2000)
    ldr     x1, [x2]             // access-flag fault, then 0x1234
    mrs     x3, midr_el1         // trapped and emulated
    mov     x5, #USER_VA
    str     x4, [x5]             // permission fault, skipped
    fmov    d0, x0
    str     q0, [sp, #-16]!
    ldr     q1, [sp], #16
    fmov    x6, d1               // 107 through the FP registers
    ldr     x7, =(USER_VA + 0x1000)
    mov     x9, #41
    str     x9, [x7]
1:  ldxr    x9, [x7]
    add     x9, x9, #1
    stxr    w10, x9, [x7]
    cbnz    w10, 1b
    ldr     x4, [x7]             // 42
    mov     x8, #0
2:  add     x8, x8, #1           // spin until the timer IRQ sets the flag
    ldr     x9, [x7, #8]
    cbz     x9, 2b
    svc     #2
    b       .
    .ltorg

    .balign 4096
user_data:
    .skip 4096
user_demand:
    .skip 4096
l1: .skip 4096
l2: .skip 4096
l3: .skip 4096
klog:
    .skip 4096
    .skip 8192
kstack_top:
