; hpet.asm - flat 32-bit payload for the HPET (plugins/devices/hpet) at
; 0xFED00000: checks the capabilities register (vendor 0x8086, 3 timers,
; 64-bit, legacy capable, rev 1; 100000000 fs = 10 MHz), that the main
; counter stays put while halted, enables it with legacy replacement, reads
; it twice around a pause and checks that it advanced (writes "hpet
; counter advanced"), then arms timer 0 as a one-shot 1 ms ahead and waits
; in HLT for its interrupt (IRQ0 through the PIC, vector 0x20): the handler
; writes "hpet irq0" and debug-exits with 0x10 (status 33). Failures
; debug-exit with 1 (capabilities: no HPET there, status 3), 2 (the counter
; ran while halted, 5) or 3 (it did not advance, 7). The PIT is never
; programmed, so only the HPET can raise IRQ0.
bits 32
org 0x100000
HPET    equ 0xfed00000
IDT     equ 0x8000
%include "common.inc"
%macro fail 1
        mov al, %1
        out 0xf4, al
        hlt
%endmacro
        mov ebx, HPET
        cmp dword [ebx], 0x8086a201     ; vendor, legacy, 64-bit, 3 timers, rev 1
        jne .nocap
        cmp dword [ebx + 4], 100000000  ; fs per tick
        jne .nocap
        ; halted: the counter does not move
        mov eax, [ebx + 0xf0]
        mov ecx, 100000
.s0:    pause
        loop .s0
        cmp eax, [ebx + 0xf0]
        jne .ran
        ; enabled, legacy replacement: it advances
        mov dword [ebx + 0x10], 3
        mov esi, [ebx + 0xf0]
        mov ecx, 200000
.s1:    pause
        loop .s1
        mov edi, [ebx + 0xf0]
        cmp edi, esi
        je .still
        puts advanced
        ; IDT gate 0x20 -> handler; PIC at 0x20/0x28, only IRQ0 open
        mov eax, handler
        mov edi, IDT + 0x20 * 8
        mov word [edi], ax
        mov word [edi + 2], 0x10
        mov word [edi + 4], 0x8e00
        shr eax, 16
        mov word [edi + 6], ax
        lidt [idtr]
        PIC_IRQ0_ONLY
        ; timer 0: one-shot, edge, interrupts on, 1 ms (10000 ticks) ahead
        mov dword [ebx + 0x100], 4
        mov dword [ebx + 0x104], 0
        mov eax, [ebx + 0xf0]
        mov edx, [ebx + 0xf4]
        add eax, 10000
        adc edx, 0
        mov [ebx + 0x10c], edx
        mov [ebx + 0x108], eax
        sti
.wait:  hlt
        jmp .wait
.nocap: fail 1
.ran:   fail 2
.still: fail 3
handler:
        puts irq
        mov al, 0x10
        out 0xf4, al
        hlt
idtr:   dw 0x30 * 8 - 1
        dd IDT
advanced: db "hpet counter advanced", 10, 0
irq:      db "hpet irq0", 10, 0
