; vga_13h.asm - flat 32-bit payload for tests/integration/vm/vga.sh: sets
; mode 13h on the vga device (--device vga, no BIOS) through its registers
; alone - misc output, sequencer (chain-4), graphics controller (256-colour
; shift), CRTC (320x200, doubled lines), attribute controller, DAC - then
; draws four horizontal bands of colours 1-4 (red, green, blue, white)
; through the chain-4 window at 0xA0000, reads a pixel back and powers off
; with debug-exit 0x2a ("ok" on COM1); capsule-vm --screenshot then shows
; the bands.
bits 32
org 0x100000
%include "common.inc"
%include "vga_common.inc"
        need_vga
        mov dx, 0x3c2
        mov al, 0x63
        out dx, al
        idx_out 0x3c4, 1, 0x01
        idx_out 0x3c4, 2, 0x0f
        idx_out 0x3c4, 4, 0x0e
        idx_out 0x3ce, 5, 0x40
        idx_out 0x3ce, 6, 0x05
        idx_out 0x3ce, 8, 0xff
        idx_out 0x3d4, 0x11, 0x00
        idx_out 0x3d4, 0x01, 0x4f
        idx_out 0x3d4, 0x07, 0x1f
        idx_out 0x3d4, 0x09, 0x41
        idx_out 0x3d4, 0x12, 0x8f
        idx_out 0x3d4, 0x13, 0x28
        mov dx, 0x3da                   ; attribute flip-flop to "index"
        in al, dx
        mov dx, 0x3c0
        xor ecx, ecx
.pal:   mov al, cl                      ; palette i = i
        out dx, al
        out dx, al
        inc ecx
        cmp ecx, 16
        jb .pal
        mov al, 0x10
        out dx, al
        mov al, 0x41
        out dx, al
        mov al, 0x20                    ; screen on
        out dx, al
        mov dx, 0x3c8                   ; DAC 1-4: red, green, blue, white
        mov al, 1
        out dx, al
        inc dx
        mov esi, colours
        mov ecx, 12
.dac:   lodsb
        out dx, al
        loop .dac
        mov edi, 0xa0000                ; four bands of 50 lines
        mov eax, 0x01010101
.band:  mov ecx, 50 * 320 / 4
        rep stosd
        add eax, 0x01010101
        cmp edi, 0xa0000 + 200 * 320
        jb .band
        cmp byte [0xa0000 + 120 * 320 + 7], 3
        finish
colours: db 63, 0, 0, 0, 63, 0, 0, 0, 63, 63, 63, 63
