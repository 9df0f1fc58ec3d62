; kbd_echo.asm - a hard disk's boot sector for tests/integration/sdl.sh:
; SeaBIOS loads it to 0:7c00. It clears the VGA text screen (INT 10h mode
; 3), writes a banner and a prompt there, says "kbd ready" on COM1, then
; echoes each key it reads through INT 16h (the PS/2 keyboard: SeaBIOS's
; IRQ 1 handler) to the screen and, as "k=C;", to COM1; Enter starts a new
; line. It never ends: the test powers it off.
bits 16
org 0x7c00
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov ax, 0x0003                  ; 80x25 text, cleared
        int 0x10
        mov si, banner
        call print
        mov si, ready
        call serial
.key:   xor ah, ah                      ; wait for a key: AL ASCII, AH scancode
        int 0x16
        cmp al, 13
        je .enter
        test al, al
        jz .key                         ; no ASCII (F-keys, arrows)
        mov bl, al
        mov si, mark
        call serial
        mov al, bl
        mov dx, 0x3f8
        out dx, al
        mov al, ';'
        out dx, al
        mov al, bl
        call putc
        jmp .key
.enter: mov si, crlf
        call print
        mov si, enter
        call serial
        jmp .key

print:  lodsb                           ; the string at SI on the screen
        test al, al
        jz .done
        call putc
        jmp print
.done:  ret

putc:   mov ah, 0x0e                    ; teletype AL
        xor bx, bx
        int 0x10
        ret

serial: lodsb                           ; the string at SI on COM1
        test al, al
        jz .done
        mov dx, 0x3f8
        out dx, al
        jmp serial
.done:  ret

banner: db "CAPSULE KEYBOARD TEST", 13, 10, 13, 10, "type> ", 0
crlf:   db 13, 10, "type> ", 0
ready:  db "kbd ready", 13, 10, 0
mark:   db "k=", 0
enter:  db "k=enter;", 0
times 510-($-$$) db 0
dw 0xaa55
