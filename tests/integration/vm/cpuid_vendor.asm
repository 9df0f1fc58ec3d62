; cpuid_vendor.asm - flat 32-bit payload: the CPU the guest sees, on COM1,
; as "cpuid: VENDOR BRAND" (CPUID leaf 0 and leaves 0x80000002-4), then
; debug-exit 0x2a (capsule-vm exits with 85); without a debug-exit device
; it halts with interrupts off until powered off. For the CPU profile tests
; (tests/integration/cpu_profile.sh). No stack: the loader sets none.
bits 32
org 0x100000
        xor eax, eax
        cpuid
        mov [vendor], ebx
        mov [vendor + 4], edx
        mov [vendor + 8], ecx
        mov edi, brand
        mov ebp, 0x80000002
.leaf:  mov eax, ebp
        cpuid
        mov [edi], eax
        mov [edi + 4], ebx
        mov [edi + 8], ecx
        mov [edi + 12], edx
        add edi, 16
        inc ebp
        cmp ebp, 0x80000005
        jne .leaf
        mov esi, msg
        mov dx, 0x3f8
.next:  lodsb
        test al, al
        jz .done
        out dx, al
        jmp .next
.done:  mov al, 10
        out dx, al
        mov al, 0x2a
        out 0xf4, al
.idle:  cli
        hlt
        jmp .idle
msg:    db "cpuid: "
vendor: times 12 db 0
        db " "
brand:  times 49 db 0
