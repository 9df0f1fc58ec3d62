/*
 * entry.S - the multiboot v1 header and the entry point of every payload.
 *
 * A multiboot loader enters _start in flat 32-bit protected mode with
 * EAX = 0x2badb002 and EBX = the info block. The entry clears .bss, loads
 * the runtime's GDT and calls runtime_start(). The 64-bit build first turns
 * on long mode with static 4-level tables that identity-map 0..4 GiB with
 * 2 MiB pages (no loop runs to build them: guest ring-0 code is slow here).
 */
#include "selectors.h"

        .section .multiboot, "a"
        .balign 4
        .long 0x1badb002                /* magic */
        .long 0x00000003                /* page-aligned modules, memory info */
        .long -(0x1badb002 + 0x00000003)

        .text
        .code32
        .globl _start
_start:
        cli
        cld
        mov     %eax, mb_magic
        mov     %ebx, mb_info_addr
        mov     $__bss_start, %edi
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        xor     %eax, %eax
        rep stosb
        mov     $boot_stack_top, %esp
        lgdt    gdt_ptr
        ljmp    $SEL_CODE32, $1f
1:      mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
#ifdef __x86_64__
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax             /* PAE */
        mov     %eax, %cr4
        mov     $0xc0000080, %ecx       /* EFER.LME */
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80010001, %eax       /* PG | WP | PE */
        mov     %eax, %cr0
        ljmp    $SEL_CODE64, $start64
        .code64
start64:
        mov     $boot_stack_top, %rsp
        call    runtime_start
#else
        call    runtime_start
#endif
2:      cli
        hlt
        jmp     2b

        .data
        .globl mb_magic, mb_info_addr, gdt, gdt_ptr
mb_magic:       .long 0
mb_info_addr:   .long 0
        .balign 16
gdt:
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08 code32, flat */
        .quad 0x00cf92000000ffff        /* 0x10 data, flat */
        .quad 0x00af9a000000ffff        /* 0x18 code64 */
        .quad 0x00009a000000ffff        /* 0x20 code16, base 0, limit 64K */
        .quad 0x000092000000ffff        /* 0x28 data16, base 0, limit 64K */
        .quad 0x00cffa000000ffff        /* 0x30 user code32 */
        .quad 0x00cff2000000ffff        /* 0x38 user data */
        .quad 0x00affa000000ffff        /* 0x40 user code64 */
        .quad 0, 0                      /* 0x48 TSS (runtime_start fills it) */
        .quad 0, 0, 0, 0, 0             /* 0x58.. spare */
gdt_end:
        .balign 8
        .word 0, 0, 0
gdt_ptr:
        .word gdt_end - gdt - 1
        .long gdt, 0

#ifdef __x86_64__
        .balign 4096
        .globl pml4
pml4:   .quad pdpt + 7                  /* U at the upper levels: the PDEs decide */
        .fill 511, 8, 0
pdpt:   .quad pd + 7, pd + 0x1000 + 7, pd + 0x2000 + 7, pd + 0x3000 + 7
        .fill 508, 8, 0
pd:
        .set addr, 0
        .rept 2048
        .quad addr + 0x83               /* P | W | PS */
        .set addr, addr + 0x200000
        .endr
#endif

        .bss
        .balign 16
        .globl boot_stack_top
        .skip 16384
boot_stack_top:

        .section .note.GNU-stack, "", @progbits
