; vga_vbe.asm - flat 32-bit payload for tests/integration/vm/vga.sh: puts
; the vga device's BAR0 (the linear framebuffer) at 0xE0000000 itself (no
; BIOS), sets a Bochs VBE mode of 320x200 at 32 bpp through DISPI
; (0x1ce/0x1cf) with the LFB, draws four quadrants (red, green / blue,
; white) through it, reads a pixel back and powers off with debug-exit
; 0x2a; capsule-vm --screenshot then shows them.
bits 32
org 0x100000
%include "common.inc"
%include "vga_common.inc"
LFB equ 0xe0000000
        need_vga
        vbe_lfb LFB, 320, 200
        mov dx, 0x1ce                   ; read back XRES
        mov ax, 1
        out dx, ax
        inc dx
        in ax, dx
        cmp ax, 320
        jne .bad
        mov edi, LFB
        xor edx, edx                    ; y
.row:   mov eax, 0x00ff0000             ; red | green above, blue | white below
        mov ebx, 0x0000ff00
        cmp edx, 100
        jb .top
        mov eax, 0x000000ff
        mov ebx, 0x00ffffff
.top:   mov ecx, 160
        rep stosd
        mov eax, ebx
        mov ecx, 160
        rep stosd
        inc edx
        cmp edx, 200
        jb .row
        cmp dword [LFB + (150 * 320 + 200) * 4], 0x00ffffff
        jmp .end
.bad:   xor eax, eax
        inc eax                         ; ZF clear: a check failed
.end:   finish
