; ide_mbr.asm - a hard disk's boot sector for ide.sh: SeaBIOS loads it from
; the PIIX3 IDE disk to 0:7c00. It prints "disk boot" on COM1, writes
; LBA 2050 (in the disk's second MiB: a new block of a dynamic VDI) with a
; pattern through INT 13h (SeaBIOS: ATA WRITE SECTORS), reads it back into another buffer (READ SECTORS), compares,
; and reports through the debug-exit port: 0x21 when the data came back
; ("disk write ok"), 0x2f when a call failed or the data differ.
bits 16
org 0x7c00
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [drive], dl
        mov si, hello
        call puts
        mov di, 0x8000                  ; the sector: the pattern 16 times
        mov bx, 16
.fill:  mov si, pattern
        mov cx, 32
        rep movsb
        dec bx
        jnz .fill
        mov ax, 0x0301                  ; write 1 sector, CHS 2/0/35 = LBA 2050
        mov cx, 0x0223                  ; (16 heads, 63 sectors per track)
        xor dh, dh
        mov dl, [drive]
        mov bx, 0x8000
        int 0x13
        jc fail
        mov ax, 0x0201                  ; read it back
        mov cx, 0x0223
        xor dh, dh
        mov dl, [drive]
        mov bx, 0x9000
        int 0x13
        jc fail
        mov si, 0x8000
        mov di, 0x9000
        mov cx, 512
        repe cmpsb
        jne fail
        mov si, ok
        call puts
        mov al, 0x21
        out 0xf4, al
        hlt
fail:   mov si, bad
        call puts
        mov al, 0x2f
        out 0xf4, al
        hlt

puts:   lodsb
        test al, al
        jz .done
        mov dx, 0x3f8
        out dx, al
        jmp puts
.done:  ret

drive:   db 0
hello:   db "disk boot", 13, 10, 0
ok:      db "disk write ok", 13, 10, 0
bad:     db "disk write FAILED", 13, 10, 0
pattern: db "CAPSULE-IDE-WRITE-TEST-LBA-2050!"
times 510-($-$$) db 0
dw 0xaa55
