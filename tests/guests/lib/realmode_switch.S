/*
 * realmode_switch.S - the drop from 32-bit protected mode to real mode and back
 * (32-bit build only; paging must be off).
 *
 * realmode_enter() runs from the image; the 16-bit part (rm_tramp_start ..
 * rm_tramp_end) is copied to REALMODE_TRAMP by realmode_call() first,
 * because real-mode code must sit below 1 MiB. The path is the one the SDM
 * gives: a 16-bit protected-mode segment with 64 KiB limits, clear CR0.PE,
 * a far jump to reload CS, real-mode segments and IVT; then the far call
 * into the payload's code; then back with LGDT, CR0.PE and a far jump.
 */
#include "selectors.h"

#define REALMODE_TRAMP 0x6000
#define T(label) (REALMODE_TRAMP + ((label) - rm_tramp_start))

        .text
        .code32
        .globl realmode_enter
realmode_enter:
        push    %ebp
        push    %ebx
        push    %esi
        push    %edi
        pushf
        cli
        mov     %esp, saved_esp
        sidt    saved_idtr
        sgdt    T(rm_gdtr)
        ljmp    $SEL_CODE16, $T(t16)

back32:
        mov     $SEL_DATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     saved_esp, %esp
        lidt    saved_idtr
        popf
        pop     %edi
        pop     %esi
        pop     %ebx
        pop     %ebp
        ret

        .code16
        .globl rm_tramp_start, rm_tramp_end, rm_target
rm_tramp_start:
t16:
        mov     $SEL_DATA16, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %cr0, %eax
        and     $0xfffffffe, %eax
        mov     %eax, %cr0
        ljmp    $0, $T(rm16)
rm16:
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $REALMODE_TRAMP, %sp
        lidt    T(rm_idtr)
        lcall   *T(rm_target)
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        lgdtl   T(rm_gdtr)
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   $SEL_CODE32, $back32
rm_idtr:
        .word   0x3ff
        .long   0
rm_gdtr:
        .word   0
        .long   0
rm_target:
        .word   0, 0
rm_tramp_end:

        .data
saved_esp:      .long 0
saved_idtr:     .word 0
                .long 0

        .section .note.GNU-stack, "", @progbits
