; hello.asm - flat 32-bit payload: "hello" on COM1, then debug-exit 0x2a
; (capsule-vm exits with (0x2a<<1)|1 = 85).
bits 32
org 0x100000
        mov esi, msg
.next:  lodsb
        test al, al
        jz .done
        mov dx, 0x3f8
        out dx, al
        jmp .next
.done:  mov al, 0x2a
        out 0xf4, al
        hlt
msg:    db "hello", 10, 0
