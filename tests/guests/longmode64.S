/*
 * longmode64.S - pieces of the longmode payload that C cannot express: a
 * trip through compatibility mode, where the byte 0x40 is `inc %eax`
 * (in 64-bit mode it is a REX prefix), and RIP-relative data.
 */
#include "selectors.h"

        .text
        .code64
        .globl lm_compat, lm_rip_value, lm_rip_data
/* uint32_t lm_compat(void): 42 when the code really ran in compat mode. */
lm_compat:
        pushq   $SEL_CODE32
        lea     1f(%rip), %rax
        push    %rax
        lretq
        .code32
1:      mov     $41, %eax
        .byte   0x40                    /* inc %eax */
        ljmp    $SEL_CODE64, $2f
        .code64
2:      ret

/* uint64_t lm_rip_value(uint64_t *addr): the data read RIP-relatively,
 * and in *addr the address LEA computed for it. */
lm_rip_value:
        lea     lm_rip_data(%rip), %rax
        mov     %rax, (%rdi)
        mov     lm_rip_data(%rip), %rax
        ret

        .data
        .balign 8
lm_rip_data:
        .quad   0x0123456789abcdef

        .section .note.GNU-stack, "", @progbits
