; ide_cdboot.asm - an El Torito no-emulation boot image for ide.sh: SeaBIOS
; loads it from the ATAPI DVD drive to 0:7c00 (4 virtual sectors). It
; prints "CD boot" on COM1, reads the ISO's primary volume descriptor
; (2048-byte sector 16) through INT 13h AH=42h from the boot drive in DL
; (SeaBIOS: ATAPI READ(10)) and checks its "CD001" signature; debug-exit
; 0x22 when it is there ("CD read ok"), 0x2e otherwise.
bits 16
org 0x7c00
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [drive], dl
        mov si, hello
        call puts
        mov ah, 0x42
        mov dl, [drive]
        mov si, dap
        int 0x13
        jc fail
        mov si, 0x8001
        mov di, cd001
        mov cx, 5
        repe cmpsb
        jne fail
        mov si, ok
        call puts
        mov al, 0x22
        out 0xf4, al
        hlt
fail:   mov si, bad
        call puts
        mov al, 0x2e
        out 0xf4, al
        hlt

puts:   lodsb
        test al, al
        jz .done
        mov dx, 0x3f8
        out dx, al
        jmp puts
.done:  ret

dap:    db 16, 0
        dw 1                            ; one 2048-byte sector
        dw 0x8000, 0                    ; to 0:8000
        dq 16                           ; the primary volume descriptor
drive:  db 0
cd001:  db "CD001"
hello:  db "CD boot", 13, 10, 0
ok:     db "CD read ok", 13, 10, 0
bad:    db "CD read FAILED", 13, 10, 0
times 2048-($-$$) db 0
