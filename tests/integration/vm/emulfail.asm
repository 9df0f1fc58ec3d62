; emulfail.asm - flat 32-bit payload: CR4.OSFXSR on, then stmxcsr in CPL0
; code, which this host's in-kernel emulator cannot execute. Under hm, EM
; hands it to rem (stepping in) and goes on in hm; the payload checks the
; stored MXCSR (0x1f80 after reset) and reports through debug-exit: 0x10
; (exit status 33) when right, 0x11 (35) when wrong.
bits 32
org 0x100000
        mov eax, cr4
        or eax, 0x200
        mov cr4, eax
        stmxcsr [0x2000]        ; 0f ae 1d 00 20 00 00
        cmp dword [0x2000], 0x1f80
        jne fail
        mov al, 0x10
        out 0xf4, al
        hlt
fail:   mov al, 0x11
        out 0xf4, al
        hlt
