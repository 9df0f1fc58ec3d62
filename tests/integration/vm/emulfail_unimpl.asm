; emulfail_unimpl.asm - flat 32-bit payload: RDSEED in CPL0 code, which
; neither this host's in-kernel emulator nor rem executes today. Under hm
; and under rem, capsule-vm must abort naming the instruction bytes
; (0f c7 f8 ...). When rem learns RDSEED (or raises #UD for it, as the
; CPUID policy would say), pick another instruction it lacks.
bits 32
org 0x100000
        rdseed eax              ; 0f c7 f8
        mov al, 0x10
        out 0xf4, al
        hlt
