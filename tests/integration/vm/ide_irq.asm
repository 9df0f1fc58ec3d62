; ide_irq.asm - flat 32-bit payload for ide.sh, without a BIOS: the PIIX3
; IDE disk's completions as interrupts (IRQ 14 through the 8259s) that wake
; the CPU from HLT. The block layer completes on its own I/O thread, so
; only that thread's interrupt can end each HLT (no timer runs).
;  1. READ SECTORS of LBA 5 by PIO with nIEN clear: HLT until IRQ 14, then
;     the data ("IRQ!" repeated) through the data port;
;  2. the PCI function 00:01.1 set up by hand (BAR4 = 0xc000, I/O and bus
;     master enabled), READ DMA of LBA 6 through a one-entry PRD table:
;     HLT until IRQ 14, the bus master's status INTR without ACTIVE or
;     ERROR, the data ("DMA!" repeated) in memory.
; Debug-exit 0x23 (status 71) when both worked, 0x2d (status 91) if not.
%include "common.inc"
bits 32
org 0x100000
IDT equ 0x8000
PRD equ 0x20000
PIOBUF equ 0x21000
DMABUF equ 0x22000
        mov eax, handler                ; vector 0x2e: IRQ 14 on the slave
        mov edi, IDT + 0x2e * 8
        mov word [edi], ax
        mov word [edi + 2], 0x10
        mov word [edi + 4], 0x8e00
        shr eax, 16
        mov word [edi + 6], ax
        lidt [idtr]
        mov al, 0x11                    ; the 8259s at 0x20/0x28
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
        mov al, 0xfb                    ; only the cascade and IRQ 14 open
        out 0x21, al
        mov al, 0xbf
        out 0xa1, al

        mov dx, 0x3f6                   ; nIEN clear
        xor al, al
        out dx, al
        mov bl, 5
        mov bh, 0x20                    ; READ SECTORS
        call command
        call wait_irq
        mov edi, PIOBUF
        mov ecx, 256
        mov dx, 0x1f0
        cld
        rep insw
        cmp dword [PIOBUF], 'IRQ!'
        jne fail
        cmp dword [PIOBUF + 508], 'IRQ!'
        jne fail
        puts msg_pio

        mov dx, 0xcf8                   ; 00:01.1 BAR4 = 0xc000
        mov eax, 0x80000920
        out dx, eax
        mov dx, 0xcfc
        mov eax, 0xc001
        out dx, eax
        mov dx, 0xcf8                   ; command: I/O, bus master
        mov eax, 0x80000904
        out dx, eax
        mov dx, 0xcfc
        mov ax, 5
        out dx, ax
        mov dword [PRD], DMABUF
        mov dword [PRD + 4], 0x80000200 ; 512 bytes, end of table
        mov dx, 0xc004
        mov eax, PRD
        out dx, eax
        mov dx, 0xc002                  ; clear INTR and ERROR
        mov al, 6
        out dx, al
        mov bl, 6
        mov bh, 0xc8                    ; READ DMA
        call command
        mov dx, 0xc000                  ; start, device to memory
        mov al, 9
        out dx, al
        call wait_irq
        mov dx, 0xc000
        xor al, al
        out dx, al
        mov dx, 0xc002
        in al, dx
        and al, 7
        cmp al, 4
        jne fail
        cmp dword [DMABUF], 'DMA!'
        jne fail
        cmp dword [DMABUF + 508], 'DMA!'
        jne fail
        puts msg_dma
        mov al, 0x23
        out 0xf4, al
        hlt

; command: BH to the primary master for one sector at LBA BL, interrupts off
command:
        cli
        mov byte [flag], 0
        mov dx, 0x1f6
        mov al, 0xe0
        out dx, al
        mov dx, 0x1f2
        mov al, 1
        out dx, al
        inc dx
        mov al, bl
        out dx, al
        inc dx
        xor al, al
        out dx, al
        inc dx
        out dx, al
        mov dx, 0x1f7
        mov al, bh
        out dx, al
        ret

; HLT with interrupts on until the IRQ 14 handler ran
wait_irq:
        sti
        hlt
        cli
        cmp byte [flag], 0
        je wait_irq
        ret

fail:   puts msg_fail
        mov al, 0x2d
        out 0xf4, al
        hlt

handler:
        push eax
        push edx
        mov dx, 0x1f7                   ; status: acknowledges the device
        in al, dx
        mov byte [flag], 1
        mov al, 0x20
        out 0xa0, al
        out 0x20, al
        pop edx
        pop eax
        iret

flag:     db 0
idtr:     dw 0x30 * 8 - 1
          dd IDT
msg_pio:  db "pio irq ok", 10, 0
msg_dma:  db "dma irq ok", 10, 0
msg_fail: db "ide irq FAILED", 10, 0
