; spin64.asm - flat 32-bit payload that enters long mode and runs 64-bit
; code forever: a call in a loop (blocks that rem translates and chains),
; and one OUT to port 0x99 (unclaimed: logged once) every 100000
; iterations. For the tests that look at a running VM (debugvm.sh: rem's
; JIT counters); it never exits, the test powers it off. Needs 4 MiB of
; RAM (page tables at 2 MiB).
bits 32
org 0x100000
PML4    equ 0x200000
PDPT    equ 0x201000
PD      equ 0x202000
        mov edi, PML4           ; three zeroed tables
        xor eax, eax
        mov ecx, 3 * 1024
        rep stosd
        mov dword [PML4], PDPT | 3
        mov dword [PDPT], PD | 3
        mov edi, PD             ; identity map 16 MiB in 2 MiB pages
        mov eax, 0x83
        mov ecx, 8
.pd:    mov [edi], eax
        add eax, 0x200000
        add edi, 8
        loop .pd
        mov eax, PML4
        mov cr3, eax
        mov eax, cr4
        or eax, 1 << 5          ; PAE
        mov cr4, eax
        mov ecx, 0xc0000080     ; EFER.LME
        rdmsr
        or eax, 1 << 8
        wrmsr
        lgdt [gdtr]
        mov eax, cr0
        or eax, 1 << 31         ; paging: long mode is active
        mov cr0, eax
        jmp 0x08:long64
bits 64
long64: mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov rsp, 0x1f0000
        xor ebx, ebx
.outer: mov ecx, 100000
.inner: call work
        dec ecx
        jnz .inner
        inc ebx
        mov al, bl
        out 0x99, al
        jmp .outer
work:   add rax, rcx
        xor rdx, rax
        ret
align 8
gdt:    dq 0
        dq 0x00af9a000000ffff   ; 0x08: 64-bit code
        dq 0x00cf92000000ffff   ; 0x10: data
gdtr:   dw gdtr - gdt - 1
        dd gdt
