; ud_absent.asm - flat 32-bit payload: RDSEED in CPL0 code. It is not in
; the CPUID policy, so the guest gets #UD (rem raises it; under hm, where
; this host's in-kernel emulator cannot run it, EM steps it in rem, which
; does the same), and its #UD handler reports success (0x10 -> status 33).
; If RDSEED completes, the payload reports failure (0x11 -> status 35).
bits 32
org 0x100000
        mov eax, ud_handler
        mov [idt + 6 * 8], ax
        shr eax, 16
        mov [idt + 6 * 8 + 6], ax
        mov ax, cs
        mov [idt + 6 * 8 + 2], ax
        lidt [idtr]
        rdseed eax              ; 0f c7 f8
        mov al, 0x11
        out 0xf4, al
        hlt
ud_handler:
        mov al, 0x10
        out 0xf4, al
        hlt
align 8
idt:    times 6 dq 0
        dw 0, 0                 ; vector 6: offset 15..0, selector (filled in)
        db 0, 0x8e              ; 32-bit interrupt gate, DPL 0, present
        dw 0                    ; offset 31..16
idtr:   dw 7 * 8 - 1
        dd idt
