; dvd_watch.asm - flat 32-bit payload for dvd_hotplug.sh, without a BIOS: a
; guest that watches the DVD drive on the secondary master (legacy ports
; 0x170-0x177, PIO, no interrupts) for medium changes made while it runs.
; It polls TEST UNIT READY; a CHECK CONDITION's sense key (the error
; register's high nibble) says what happened:
;   UNIT ATTENTION (6)  -> "DVD: changed"
;   NOT READY (2)       -> "DVD: empty" (once per state change)
;   ready               -> READ(10) of LBA 16, the ISO's primary volume
;                          descriptor -> "DVD: medium VOLID" (its volume id)
; A volume id starting "LOCK" makes it lock the drive (PREVENT ALLOW MEDIUM
; REMOVAL, prevent=1) -> "DVD: locked"; any other unlocks it (prevent=0).
; Lines go to COM1; it never ends.
%include "common.inc"
bits 32
org 0x100000
BUF equ 0x20000
        cli
        mov dx, 0x376                   ; nIEN: no interrupts, we poll
        mov al, 2
        out dx, al
        puts msg_up
        mov byte [state], 0             ; 0 unknown, 1 empty, 2 medium read
watch:  mov esi, tur
        call atapi
        test al, 1
        jz .ready
        mov dx, 0x171                   ; the sense key
        in al, dx
        shr al, 4
        cmp al, 6
        je .ua
        cmp al, 2
        jne .pause
        cmp byte [state], 1
        je .pause
        mov byte [state], 1
        puts msg_empty
        jmp .pause
.ua:    mov byte [state], 0
        puts msg_changed
        jmp watch
.ready: cmp byte [state], 2
        je .pause
        mov esi, read10
        call atapi
        test al, 1
        jnz .pause                      ; (a change in between: next round)
        mov byte [state], 2
        puts msg_medium
        mov esi, BUF + 40               ; the volume id, space padded
        mov ecx, 32
.vol:   lodsb
        cmp al, ' '
        jbe .voldone
        mov dx, 0x3f8
        out dx, al
        loop .vol
.voldone:
        puts msg_crlf
        mov esi, allow
        cmp dword [BUF + 40], 'LOCK'
        jne .allow
        mov esi, prevent
        call atapi
        test al, 1
        jnz .pause
        puts msg_locked
        jmp .pause
.allow: call atapi
.pause: mov ecx, 20000
        loop $
        jmp watch

; atapi: the 12-byte packet at esi to the secondary master; a data phase
; (at most 2048 bytes) lands in BUF. Returns the final status in al.
atapi:  mov dx, 0x176
        mov al, 0xa0                    ; master
        out dx, al
        mov dx, 0x177
.idle:  in al, dx
        test al, 0x80
        jnz .idle
        mov dx, 0x171                   ; features: PIO
        xor al, al
        out dx, al
        mov dx, 0x174                   ; byte count limit 2048
        out dx, al
        mov dx, 0x175
        mov al, 8
        out dx, al
        mov dx, 0x177
        mov al, 0xa0                    ; PACKET
        out dx, al
.drq:   in al, dx
        test al, 0x80
        jnz .drq
        test al, 1
        jnz .done
        test al, 8
        jz .drq
        mov ecx, 6
        mov dx, 0x170
        cld
        rep outsw
        mov dx, 0x177
.busy:  in al, dx
        test al, 0x80
        jnz .busy
        test al, 8
        jz .done
        mov edi, BUF
        mov ecx, 1024
        mov dx, 0x170
        rep insw
        mov dx, 0x177
.end:   in al, dx
        test al, 0x80
        jnz .end
.done:  ret

tur:     db 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
read10:  db 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0
prevent: db 0x1e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0
allow:   db 0x1e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
state:   db 0
msg_up:      db "DVD watch up", 13, 10, 0
msg_empty:   db "DVD: empty", 13, 10, 0
msg_changed: db "DVD: changed", 13, 10, 0
msg_medium:  db "DVD: medium ", 0
msg_locked:  db "DVD: locked", 13, 10, 0
msg_crlf:    db 13, 10, 0
