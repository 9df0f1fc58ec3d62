; vnc_kbd.asm - flat 32-bit payload for tests/integration/vnc.sh: puts the
; vga device's linear framebuffer at 0xE0000000 (no BIOS), sets a Bochs VBE
; mode of 320x200 at 32 bpp and fills it with a picture of many colours
; (pixel x,y = R x, G y, B x+y, each mod 256), says "kbd ready" on COM1 and
; then enables the PS/2 mouse and echoes every byte the keyboard
; controller delivers (polling port 0x64) to COM1 as two hex digits and a
; space, for ever: the scancodes a remote client's keys become and the
; mouse's packets its pointer becomes, as the guest reads them. Enter
; (its make code 0x1c) switches to 640x480 and draws the picture again,
; then says "mode 640x480" (a resize the clients follow).
bits 32
org 0x100000
%include "common.inc"
%include "vga_common.inc"
LFB equ 0xe0000000
%macro draw 2                          ; the picture at %1 x %2 (no stack)
        mov edi, LFB
        xor edx, edx                    ; y
%%row:  xor ecx, ecx                    ; x
%%px:   mov eax, ecx                    ; R = x
        and eax, 0xff
        shl eax, 8
        mov al, dl                      ; G = y
        shl eax, 8
        mov bl, cl                      ; B = x + y
        add bl, dl
        mov al, bl
        stosd
        inc ecx
        cmp ecx, %1
        jb %%px
        inc edx
        cmp edx, %2
        jb %%row
%endmacro
%macro hexdigit 0                       ; al's low nibble to COM1 (no stack)
        add al, '0'
        cmp al, '9'
        jbe %%out
        add al, 'a' - '9' - 1
%%out:  mov dx, 0x3f8
        out dx, al
%endmacro
        need_vga
        vbe_lfb LFB, 320, 200
        draw 320, 200
        mov al, 0xa8                    ; enable the PS/2 mouse port
        out 0x64, al
        mov al, 0xd4                    ; the next byte to the mouse:
        out 0x64, al
        mov al, 0xf4                    ; enable data reporting
        out 0x60, al
.ack:   in al, 0x64                     ; its ACK (0xfa), not echoed
        test al, 1
        jz .ack
        in al, 0x60
        puts ready
.poll:  in al, 0x64
        test al, 1
        jz .poll
        in al, 0x60
        mov bl, al
        shr al, 4
        hexdigit
        mov al, bl
        and al, 0x0f
        hexdigit
        mov al, ' '
        out dx, al
        cmp bl, 0x1c                    ; Enter: 640x480, the picture again
        jne .poll
        vbe_lfb LFB, 640, 480
        draw 640, 480
        puts mode
        jmp .poll
ready:  db "kbd ready", 10, 0
mode:   db "mode 640x480", 10, 0
novga:  db "FAIL no vga at 00:02.0", 10, 0
