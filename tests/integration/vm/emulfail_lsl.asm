; emulfail_lsl.asm - flat 32-bit payload (paging off): LSL in CPL0 code,
; which this host's in-kernel emulator cannot execute. capsule-vm must abort
; naming every byte it can read at CS:EIP (15 of them), not just the first.
bits 32
org 0x100000
        mov eax, 0x10
        lsl ecx, eax            ; 0f 03 c8
        mov al, 0x01
        out 0xf4, al
        hlt
