// The arm64 Image header (Documentation/arch/arm64/booting.rst) of the run-loop test
// Images: `image_header` at `_start` branches to `entry`; the Image ends at `image_end`.
// `start_on_uart` sets VBAR_EL1 and the PL011 up and prints a first character; `irq_vectors`
// is a VBAR_EL1 table that sends the IRQ of the current EL with SPx to `irq` and every other
// exception to `unexpected`.
// Included by tests/guest/*.S (the assembler runs with -I tests/guest).

    // The Image's first words: `_start` in .text, the header.
    .macro image_start
    .text
    .global _start
_start:
    image_header
    .endm

    .macro image_header
    b       entry                   // code0
    .long   0                       // code1
    .quad   0                       // text_offset
    .quad   image_end - _start      // image_size
    .quad   0xa                     // flags: little-endian, 4 KiB pages, anywhere in RAM
    .quad   0, 0, 0                 // res2-res4
    .long   0x644d5241              // magic "ARM\x64"
    .long   0                       // res5
    .endm

    // The common start of a test Image: VBAR_EL1 = `vectors`, x19 = the PL011 at `UART`
    // (enabled for transmit), and `first` printed on it.
    .macro start_on_uart first
    adr     x1, vectors
    msr     vbar_el1, x1
    isb
    ldr     x19, =UART
    mov     w1, #0x301              // UARTCR: UARTEN | TXE | RXE
    str     w1, [x19, #0x30]
    mov     w1, #\first
    str     w1, [x19]
    .endm

    .macro irq_vectors
    .balign 2048
vectors:
    .rept 5
    b       unexpected
    .balign 128
    .endr
    b       irq                     // current EL with SPx, IRQ (VBAR + 0x280)
    .balign 128
    .rept 10
    b       unexpected
    .balign 128
    .endr
    .endm
