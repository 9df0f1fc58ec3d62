; idle.asm - the memory payload of `scons bench-vm`: a multiboot v1 ELF32
; that writes "IDLE" to COM1 and halts with interrupts off, touching no
; guest RAM beyond its own page, so the VM process's resident memory is
; almost all the VMM's own. The driver reads /proc/PID/status and smaps
; once "IDLE" arrives, then ends the process.
bits 32
section .text                               ; one section: header first
global _start
        dd 0x1badb002, 0, -0x1badb002       ; multiboot magic, flags, checksum
_start: mov dx, 0x3f8
        mov esi, msg
        mov ecx, msg_len
        rep outsb
.hang:  cli
        hlt
        jmp .hang
msg:    db "IDLE", 13, 10
msg_len equ $ - msg
