; triple.asm - flat 32-bit payload: an IDT with limit 0, then ud2:
; #UD -> #GP -> #DF -> triple fault. capsule-vm must report
; "aborted: triple fault at ..." and exit with status 6.
bits 32
org 0x100000
        lidt [idtr]
        ud2
idtr:   dw 0
        dd 0
