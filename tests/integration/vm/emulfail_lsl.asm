; emulfail_lsl.asm - flat 32-bit payload (paging off): LSL in CPL0 code,
; which this host's in-kernel emulator cannot execute. Under hm, EM hands
; it to rem (stepping in) and goes on in hm; the payload checks the result
; (the flat code segment's limit, ZF set) and reports through debug-exit:
; 0x10 (exit status 33) when right, 0x11 (35) when wrong.
bits 32
org 0x100000
        mov eax, 0x10
        xor ecx, ecx
        lsl ecx, eax            ; 0f 03 c8
        jnz fail
        cmp ecx, 0xffffffff
        jne fail
        mov al, 0x10
        out 0xf4, al
        hlt
fail:   mov al, 0x11
        out 0xf4, al
        hlt
