; pit_spin.asm - pit_hlt.asm with a busy loop instead of HLT: sti, then
; spin without a single exit. EM must still run the PIT's timer at its
; deadline (its kick timer gets the vCPU out of the engine) and deliver
; IRQ0: the handler writes 'T' and debug-exits with 0x10 (status 33). If
; the timer never fires, the VM spins until run's timeout.
bits 32
org 0x100000
IDT equ 0x8000
        ; gate for vector 0x20 -> handler (32-bit interrupt gate, sel 0x10)
        mov eax, handler
        mov edi, IDT + 0x20 * 8
        mov word [edi], ax
        mov word [edi + 2], 0x10
        mov word [edi + 4], 0x8e00
        shr eax, 16
        mov word [edi + 6], ax
        lidt [idtr]
        ; PIC: ICW1..4, vector base 0x20/0x28, mask all but IRQ0
        mov al, 0x11
        out 0x20, al
        out 0xa0, al
        mov al, 0x20
        out 0x21, al
        mov al, 0x28
        out 0xa1, al
        mov al, 4
        out 0x21, al
        mov al, 2
        out 0xa1, al
        mov al, 1
        out 0x21, al
        out 0xa1, al
        mov al, 0xfe
        out 0x21, al
        mov al, 0xff
        out 0xa1, al
        ; PIT channel 0, mode 2, count 11932 (~10 ms)
        mov al, 0x34
        out 0x43, al
        mov al, 0x9c
        out 0x40, al
        mov al, 0x2e
        out 0x40, al
        sti
spin:   jmp spin
handler:
        mov dx, 0x3f8
        mov al, 'T'
        out dx, al
        mov al, 10
        out dx, al
        mov al, 0x10
        out 0xf4, al
        hlt
idtr:   dw 0x30 * 8 - 1
        dd IDT
