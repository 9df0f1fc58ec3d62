; fail.asm - flat 32-bit payload: the guest reports a failure through
; debug-exit (V = 1). capsule-vm must exit with status (1<<1)|1 = 3, the
; guest's verdict, which none of capsule-vm's own statuses (all even:
; 6 = aborted) can be mistaken for.
bits 32
org 0x100000
        mov al, 1
        out 0xf4, al
.halt:  hlt
        jmp .halt
