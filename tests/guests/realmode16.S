/*
 * realmode16.S - the real-mode half of the realmode payload. The code is
 * copied to 0x7000 and runs at 0700:0000 (realmode_call()); every address
 * in it is an offset from rm_blob, and the results go to rm_results for
 * realmode.c to check after the return to protected mode.
 */
#define O(x) ((x) - rm_blob)

        .text
        .code16
        .globl rm_blob, rm_blob_end, rm_results
rm_blob:
        mov     %cs, %ax
        mov     %ax, %ds
        smsw    %ax
        mov     %ax, O(r_msw)

        /* arithmetic and flags */
        mov     $0x1234, %ax
        add     $0x4321, %ax
        mov     %ax, O(r_add)
        mov     $0x1234, %ax
        mov     $0x100, %bx
        mul     %bx
        mov     %ax, O(r_mul_lo)
        mov     %dx, O(r_mul_hi)
        mov     $1, %dx
        mov     $0x2345, %ax
        div     %bx
        mov     %ax, O(r_div_q)
        mov     %dx, O(r_div_r)
        mov     $5, %ax
        sub     $6, %ax
        pushf
        pop     %ax
        and     $0x08d5, %ax
        mov     %ax, O(r_flags)
        mov     $0x12345678, %eax       /* 32-bit operands in real mode */
        add     $0x11111111, %eax
        mov     %eax, O(r_32)

        /* segment arithmetic: 1000:0010 and 1001:0000 are one byte */
        mov     $0x1000, %ax
        mov     %ax, %es
        movw    $0xbeef, %es:0x10
        mov     $0x1001, %ax
        mov     %ax, %es
        mov     %es:0, %ax
        mov     %ax, O(r_seg)

        /* far call into the same code through another CS (0600:1000+o) */
        lcall   $0x0600, $(O(far_fn) + 0x1000)

        /* software interrupt through the IVT */
        xor     %ax, %ax
        mov     %ax, %es
        movw    $O(int50), %es:0x140
        movw    $0x0700, %es:0x142
        mov     $0x77, %cx
        int     $0x50
        mov     %cx, O(r_int)

        /* string instructions */
        push    %ds
        pop     %es
        cld
        mov     $O(str_src), %si
        mov     $O(str_dst), %di
        mov     $8, %cx
        rep movsb
        mov     $O(str_src), %si
        mov     $O(str_dst), %di
        mov     $8, %cx
        repe cmpsb
        mov     %cx, O(r_cmps)

        /* stack: pusha/popa balance, loop */
        mov     %sp, %bx
        pusha
        popa
        sub     %sp, %bx
        mov     %bx, O(r_sp)
        mov     $10, %cx
        xor     %ax, %ax
1:      add     %cx, %ax
        loop    1b
        mov     %ax, O(r_loop)

        movw    $0x600d, O(r_done)
        lret

far_fn:
        mov     %cs, %ax
        mov     %ax, O(r_farcs)
        lret

int50:
        pushf
        pop     %ax
        mov     %ax, O(r_intflags)
        add     $0x100, %cx
        iret

str_src: .ascii "capsule!"
str_dst: .fill 8, 1, 0

        .balign 4
rm_results:
r_msw:      .word 0
r_add:      .word 0
r_mul_lo:   .word 0
r_mul_hi:   .word 0
r_div_q:    .word 0
r_div_r:    .word 0
r_32:       .long 0
r_flags:    .word 0
r_seg:      .word 0
r_farcs:    .word 0
r_int:      .word 0
r_intflags: .word 0
r_cmps:     .word 0
r_sp:       .word 0
r_loop:     .word 0
r_done:     .word 0
rm_blob_end:

        .section .note.GNU-stack, "", @progbits
