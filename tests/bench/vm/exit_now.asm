; exit_now.asm - the start-up payload of `scons bench-vm`: a multiboot v1
; ELF32 whose first instruction writes 0 to the debug-exit port 0xf4, so the
; VM ends (status 1) as soon as the guest runs at all. Process start to that
; exit is the VMM's start-up cost (plus its teardown).
bits 32
section .text                               ; one section: header first
global _start
        dd 0x1badb002, 0, -0x1badb002       ; multiboot magic, flags, checksum
_start: xor eax, eax
        out 0xf4, al
.hang:  cli
        hlt
        jmp .hang
