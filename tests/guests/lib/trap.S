/*
 * trap.S - the 256 interrupt stubs, setjmp/longjmp and the CPL3 entry.
 *
 * Each stub is 16-byte aligned at trap_stubs + 16 * vector (so the IDT is
 * filled arithmetically), pushes a zero error code where the CPU pushes
 * none, then the vector, and joins trap_common, which saves the general
 * registers as a struct trap_frame and calls trap_dispatch(frame).
 */
#include "selectors.h"

#ifdef __x86_64__
#define W 8
#else
#define W 4
#endif

        .text
        .balign 16
        .globl trap_stubs
trap_stubs:
        .set vec, 0
        .rept 256
        .balign 16
        .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        .else
        push    $0
        .endif
        push    $vec
        jmp     trap_common
        .set vec, vec + 1
        .endr

trap_common:
#ifdef __x86_64__
        push    %rax
        push    %rbx
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %rbp
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        cld
        mov     %rsp, %rdi
        mov     %rsp, %rbx
        and     $-16, %rsp
        call    trap_dispatch
        mov     %rbx, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rbp
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rbx
        pop     %rax
        add     $16, %rsp
        iretq
#else
        pusha
        cld
        push    %esp
        call    trap_dispatch
        add     $4, %esp
        popa
        add     $8, %esp
        iret
#endif

/* int gsetjmp(struct gjmp *j): bx sp bp si di r12 r13 r14 r15 ip flags */
        .globl gsetjmp, glongjmp
gsetjmp:
#ifdef __x86_64__
        mov     %rbx, 0(%rdi)
        lea     8(%rsp), %rax
        mov     %rax, 8(%rdi)
        mov     %rbp, 16(%rdi)
        mov     %r12, 40(%rdi)
        mov     %r13, 48(%rdi)
        mov     %r14, 56(%rdi)
        mov     %r15, 64(%rdi)
        mov     (%rsp), %rax
        mov     %rax, 72(%rdi)
        pushf
        pop     %rax
        mov     %rax, 80(%rdi)
        xor     %eax, %eax
        ret
#else
        mov     4(%esp), %eax
        mov     %ebx, 0(%eax)
        lea     4(%esp), %ecx
        mov     %ecx, 4(%eax)
        mov     %ebp, 8(%eax)
        mov     %esi, 12(%eax)
        mov     %edi, 16(%eax)
        mov     (%esp), %ecx
        mov     %ecx, 36(%eax)
        pushf
        pop     %ecx
        mov     %ecx, 40(%eax)
        xor     %eax, %eax
        ret
#endif

/* void glongjmp(struct gjmp *j, int v) */
glongjmp:
#ifdef __x86_64__
        mov     %esi, %eax
        mov     0(%rdi), %rbx
        mov     16(%rdi), %rbp
        mov     40(%rdi), %r12
        mov     48(%rdi), %r13
        mov     56(%rdi), %r14
        mov     64(%rdi), %r15
        mov     8(%rdi), %rsp
        pushq   80(%rdi)
        popf
        jmp     *72(%rdi)
#else
        mov     4(%esp), %edx
        mov     8(%esp), %eax
        mov     0(%edx), %ebx
        mov     8(%edx), %ebp
        mov     12(%edx), %esi
        mov     16(%edx), %edi
        mov     4(%edx), %esp
        pushl   40(%edx)
        popf
        jmp     *36(%edx)
#endif

/* void user_enter(ureg ip, ureg sp): iret to CPL3, never returns. */
        .globl user_enter
user_enter:
#ifdef __x86_64__
        pushq   $SEL_UDATA
        push    %rsi
        pushq   $0x202
        pushq   $SEL_UCODE64
        push    %rdi
        iretq
#else
        mov     4(%esp), %ecx
        mov     8(%esp), %edx
        mov     $SEL_UDATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        pushl   $SEL_UDATA
        push    %edx
        pushl   $0x202
        pushl   $SEL_UCODE32
        push    %ecx
        iret
#endif

        .section .note.GNU-stack, "", @progbits
