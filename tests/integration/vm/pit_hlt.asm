; pit_hlt.asm - flat 32-bit payload: an IDT with vector 0x20, the PIC
; remapped to 0x20 with only IRQ0 unmasked, PIT channel 0 at ~100 Hz, then
; sti; hlt. The timer interrupt (delivered at HLT) writes 'T' to COM1 and
; debug-exits with 0x10 (status 33). A wake-up without the interrupt
; exits with 0x11 (status 35).
%include "pit_common.inc"
        PIT_SETUP
        hlt
        mov al, 0x11
        out 0xf4, al
        hlt
        PIT_HANDLER
