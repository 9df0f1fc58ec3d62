; emulfail.asm - flat 32-bit payload: CR4.OSFXSR on, then stmxcsr in CPL0
; code, which this host's in-kernel emulator cannot execute: capsule-vm
; must abort naming the instruction bytes (0f ae 1d ...).
bits 32
org 0x100000
        mov eax, cr4
        or eax, 0x200
        mov cr4, eax
        stmxcsr [0x2000]
        mov al, 0x01
        out 0xf4, al
        hlt
