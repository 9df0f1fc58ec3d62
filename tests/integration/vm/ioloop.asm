; ioloop.asm - flat 32-bit payload for the EM control test and the exit
; round trip: count in EAX, OUT to port 0x80 forever (one I/O exit each).
bits 32
org 0x100000
        xor eax, eax
.loop:  inc eax
        out 0x80, al
        jmp .loop
