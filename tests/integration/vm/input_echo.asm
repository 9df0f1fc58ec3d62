; input_echo.asm - flat 32-bit payload for the input tests (input.sh):
; turns on the i8042's mouse (aux port enable, 0xD4 0xF4: stream mode
; reporting), then polls the controller with interrupts off and prints
; every byte it reads to COM1, one a line: "k 1e" for a keyboard byte, "m 08"
; for a mouse byte (status bit 5). "input echo ready" once the mouse has
; acknowledged, so the host knows both devices are on.
bits 32
org 0x100000
        cli
        mov esi, up
        call puts
        mov al, 0xa8            ; enable the aux interface
        call ctrl_cmd
        mov al, 0xd4            ; next data byte to the mouse
        call ctrl_cmd
        mov al, 0xf4            ; enable reporting
        call data_out
.ack:   in al, 0x64             ; wait for the mouse's 0xFA
        test al, 1
        jz .ack
        mov bl, al
        in al, 0x60
        call echo
        cmp al, 0xfa
        jne .ack
        mov esi, ready
        call puts
.poll:  in al, 0x64
        test al, 1
        jz .poll
        mov bl, al
        in al, 0x60
        call echo
        jmp .poll

; prints "k XX" or "m XX" (bl: the status byte, al: the data byte)
echo:   push eax
        mov ah, al
        mov al, 'k'
        test bl, 0x20
        jz .kbd
        mov al, 'm'
.kbd:   call putc
        mov al, ' '
        call putc
        mov al, ah
        shr al, 4
        call hex
        mov al, ah
        and al, 15
        call hex
        mov al, 10
        call putc
        pop eax
        ret

hex:    add al, '0'
        cmp al, '9'
        jbe putc
        add al, 'a' - '0' - 10
putc:   push edx
        mov dx, 0x3f8
        out dx, al
        pop edx
        ret

puts:   lodsb
        test al, al
        jz .done
        call putc
        jmp puts
.done:  ret

wait_ibf:
        push eax
.w:     in al, 0x64
        test al, 2
        jnz .w
        pop eax
        ret

ctrl_cmd:
        call wait_ibf
        out 0x64, al
        ret

data_out:
        call wait_ibf
        out 0x60, al
        ret

up:     db "input echo up", 10, 0
ready:  db "input echo ready", 10, 0
