; counter.asm - flat 32-bit payload for the saved-state test (savestate.sh):
; PIT channel 0 at ~100 Hz through the PIC (IRQ0 only); each interrupt
; increments a counter in RAM and prints it in decimal on COM1, one number
; a line; between interrupts the CPU sits in HLT. A restored VM must go on
; with the next number.
%include "common.inc"
bits 32
org 0x100000
IDT equ 0x8000
        mov esp, 0x90000
        mov eax, handler                ; gate for vector 0x20 (sel 0x10)
        mov edi, IDT + 0x20 * 8
        mov word [edi], ax
        mov word [edi + 2], 0x10
        mov word [edi + 4], 0x8e00
        shr eax, 16
        mov word [edi + 6], ax
        lidt [idtr]
        PIC_IRQ0_ONLY
        mov al, 0x34                    ; channel 0, mode 2, count 11932 (~10 ms)
        out 0x43, al
        mov al, 0x9c
        out 0x40, al
        mov al, 0x2e
        out 0x40, al
        sti
.idle:  hlt
        jmp .idle

handler:
        pushad
        inc dword [count]
        mov eax, [count]
        mov edi, buf_end
        mov byte [edi], 10
        mov ecx, 10
.digit: xor edx, edx
        div ecx
        add dl, '0'
        dec edi
        mov [edi], dl
        test eax, eax
        jnz .digit
        mov dx, 0x3f8
.out:   mov al, [edi]
        out dx, al
        inc edi
        cmp edi, buf_end
        jbe .out
        mov al, 0x20                    ; EOI
        out 0x20, al
        popad
        iretd

idtr:   dw 0x30 * 8 - 1
        dd IDT
count:  dd 0
buf:    times 12 db 0
buf_end: db 0
