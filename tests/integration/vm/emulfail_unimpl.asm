; emulfail_unimpl.asm - flat 32-bit payload: a far JMP to a 16-bit TSS, a
; task switch rem does not implement (everything else it does not execute
; is outside the CPUID policy and raises #UD, see ud_absent.asm). Under
; rem, capsule-vm must abort naming the instruction bytes (ea ...). When
; rem learns 16-bit task switches, pick another thing it lacks.
bits 32
org 0x100000
        lgdt [gdtr]             ; 0f 01 15 <gdtr>: 7 bytes
        jmp 0x18:0              ; ea 00 00 00 00 18 00
        hlt
align 8
gdt:    dq 0
        dq 0x00cf9b000000ffff   ; 0x08 code32
        dq 0x00cf93000000ffff   ; 0x10 data
        dw 0x2b                 ; 0x18 16-bit available TSS (type 1), limit 0x2b
        dw (tss - $$ + 0x100000) & 0xffff
        db ((tss - $$ + 0x100000) >> 16) & 0xff
        db 0x81
        db 0
        db (tss - $$ + 0x100000) >> 24
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
tss:    times 0x2c db 0
