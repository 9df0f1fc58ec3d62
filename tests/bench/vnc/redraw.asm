; redraw.asm - the guest of `scons bench-vnc` (vnc_bench.py): a multiboot
; v1 ELF32 for capsule-vm and QEMU alike that sets a Bochs VBE mode of
; 640x480 at 32 bpp on the vga's linear framebuffer (BAR0 put at
; 0xE0000000 itself, no BIOS) and redraws the whole screen for ever, each
; frame different (pixel x,y of frame f: R x+f, G y+f, B x^y); with -DIDLE
; it draws one frame, says IDLE on COM1 and halts: a still screen; with
; -DCURSOR it draws one frame and then inverts an 8x16 block at the top
; left over and over, as a text cursor blinks (as fast as the CPU goes
; through a delay loop).
bits 32
%include "common.inc"
%include "vga_common.inc"
LFB equ 0xe0000000
W equ 640
H equ 480
section .text                               ; one section: header first
global _start
        dd 0x1badb002, 0, -0x1badb002       ; multiboot magic, flags, checksum
_start: need_vga
        vbe_lfb LFB, W, H
        xor ebp, ebp                        ; the frame
.frame: mov edi, LFB
        xor edx, edx                        ; y
.row:   xor ecx, ecx                        ; x
.px:    lea eax, [ecx + ebp]                ; R
        and eax, 0xff
        shl eax, 8
        lea ebx, [edx + ebp]                ; G
        mov al, bl
        shl eax, 8
        mov bl, cl                          ; B
        xor bl, dl
        mov al, bl
        stosd
        inc ecx
        cmp ecx, W
        jb .px
        inc edx
        cmp edx, H
        jb .row
%ifdef IDLE
        puts idle
.hang:  cli
        hlt
        jmp .hang
idle:   db "IDLE", 10, 0
%elifdef CURSOR
.blink: mov ecx, 2000000                    ; a while (the host's speed decides)
.wait:  dec ecx
        jnz .wait
        mov edi, LFB                        ; an 8x16 block at the top left, inverted
        mov edx, 16
.crow:  mov ecx, 8
.cpx:   not dword [edi]
        add edi, 4
        dec ecx
        jnz .cpx
        add edi, (W - 8) * 4
        dec edx
        jnz .crow
        jmp .blink
%else
        inc ebp
        jmp .frame
%endif
novga:  db "FAIL no vga at 00:02.0", 10, 0
