; serial_hlt.asm - flat 32-bit payload for the managed flow (managed.sh):
; writes "capsule managed payload up" to COM1, then HLTs forever with
; interrupts off, so the VM stays up (and idle) until it is powered off.
bits 32
org 0x100000
        mov esi, msg
.next:  lodsb
        test al, al
        jz .idle
        mov dx, 0x3f8
        out dx, al
        jmp .next
.idle:  cli
        hlt
        jmp .idle
msg:    db "capsule managed payload up", 10, 0
