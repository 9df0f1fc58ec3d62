; int13_read.asm - the boot sector of ide_bench.py's disk: reads MIB MiB
; (nasm -DMIB=N; 0: none, the boot alone) from LBA 1 on through INT 13h AH=42h, 32 KiB per call,
; then writes 0x10 to the debug-exit port (0x11 when a call failed).
bits 16
org 0x7c00
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [drive], dl
%if MIB > 0
        mov cx, MIB * 32
.next:  push cx
        mov ah, 0x42
        mov dl, [drive]
        mov si, dap
        int 0x13
        jc .fail
        add dword [dap + 8], 64
        pop cx
        loop .next
%endif
        mov al, 0x10
        out 0xf4, al
        hlt
.fail:  mov al, 0x11
        out 0xf4, al
        hlt
dap:    db 16, 0
        dw 64                           ; sectors per call
        dw 0, 0x1000                    ; to 1000:0000
        dq 1
drive:  db 0
times 510-($-$$) db 0
dw 0xaa55
