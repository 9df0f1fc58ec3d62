; vdi_crash.asm - a hard disk's boot sector and the sectors after it, for
; vdi_crash.sh: SeaBIOS loads the boot sector from the PIIX3 IDE disk to
; 0:7c00; it loads the rest (LBA 1..) with INT 13h and from then on drives
; the primary master by hand (the legacy ports 0x1f0-0x1f7, nIEN set,
; status polled; PIO and the bus master of the PCI function 00:01.1), so
; the payload decides the order of writes and flushes: INT 13h has no
; flush.
;
; Write number k (0, 1, 2, ...) goes to one sector: in 1 MiB VDI block
; 8 * (1 + (37k mod 127)), at sector (k div 127 mod 4) * 500 + (k mod 127)
; of it (a disk of 1 GiB: blocks 8 to 1016, so their block map entries lie
; in the map's first 4 KiB and past them). The first 127 writes each
; allocate a new block of a dynamic image, the next ones land in allocated
; blocks, and from write 508 on the same sectors are written again.
; Round r (1, 2, ...) is writes (r-1)*4 .. (r-1)*4+3 and then one bus-master
; DMA write (WRITE DMA, 0xca) of 8 sectors across the boundary of blocks
; 8j and 8j+1, j = 1 + (r mod 127): the last 4 sectors of the one, the
; first 4 of the other (a request that allocates mid-way). Each sector
; holds 32 times the record
;   "VDIC", run id, round, LBA   (four little-endian dwords)
; The test script sets the configuration at bytes 4..11 of the boot sector:
;   dword run id; word mode; word rounds.
; Mode 1 (the kill test): "boot ID" on the debug console (port 0x402),
;   ID = run id ^ TSC, the run id of this boot's records; then rounds 1,
;   2, ... forever, each followed by FLUSH CACHE (0xe7) and then "synced R"
;   (R in hex), so the line is out only once the round is on the disk.
; Mode 2 (power-off and restart): if the state sector (LBA 40) does not
;   hold "VDIS" and this run id: rounds 1..N, one flush, "synced N",
;   then the state sector, a flush, "written N" and debug-exit 0x31. If it
;   does: every sector of rounds 1..N read back and compared ("verified N",
;   debug-exit 0x33; "verify FAILED at LBA", 0x3d). N <= 127: no sector
;   is written twice.
; A device error: "ata error STATUS", 0x3b; a bad configuration or a
; failed load: 0x3f.
bits 16
org 0x7c00
PER_ROUND equ 4
STATE_LBA equ 40
NBLK      equ 127                 ; a prime: k -> MULT * k mod NBLK visits all
MULT      equ 37
WBUF      equ 0x9000
RBUF      equ 0xa000
DBUF      equ 0xb000                ; the DMA write's 8 sectors
PRD       equ 0xc000                ; its one-entry PRD table
        jmp short start
        times 4-($-$$) db 0
cfg_run:    dd 0
cfg_mode:   dw 0
cfg_rounds: dw 0
start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        cld
        mov ax, 0x0200 + NSECT          ; read the rest: CHS 0/0/2 on
        mov cx, 0x0002
        xor dh, dh
        mov bx, main
        int 0x13
        jc bad
        jmp main
bad:    mov si, msg_bad
        call dputs
        mov al, 0x3f
        out 0xf4, al
        hlt

; dputs: the string at SI to the debug console
dputs:  lodsb
        test al, al
        jz .done
        mov dx, 0x402
        out dx, al
        jmp dputs
.done:  ret

msg_bad: db "load or configuration FAILED", 10, 0
        times 510-($-$$) db 0
        dw 0xaa55

; ---- LBA 1 on ----------------------------------------------------------
main:   mov dx, 0x3f6                   ; nIEN: no interrupts, polled
        mov al, 2
        out dx, al
        mov dx, 0xcf8                   ; the IDE function 00:01.1: BAR4
        mov eax, 0x80000920
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        and ax, 0xfffc
        jnz .bar
        mov eax, 0xc001                 ; (not assigned: our own)
        out dx, eax
        mov ax, 0xc000
.bar:   mov [bmbase], ax
        mov dx, 0xcf8                   ; command: I/O space, bus master
        mov eax, 0x80000904
        out dx, eax
        mov dx, 0xcfc
        in ax, dx
        or ax, 5
        out dx, ax
        cmp word [cfg_mode], 1
        je loop_mode
        cmp word [cfg_mode], 2
        je once_mode
        jmp bad

loop_mode:
        rdtsc                           ; this boot's id: the run id ^ the TSC
        xor [cfg_run], eax              ; (the records tell boots apart)
        mov eax, [cfg_run]
        mov [round], eax
        mov si, msg_boot
        call report
        mov dword [round], 1
.next:  call write_round
        call flush
        mov si, msg_synced
        call report
        inc dword [round]
        jmp .next

once_mode:
        movzx eax, word [cfg_rounds]
        test eax, eax
        jz bad
        cmp eax, NBLK
        ja bad
        mov eax, STATE_LBA
        mov di, RBUF
        call ata_read
        cmp dword [RBUF], 'VDIS'
        jne .write
        mov eax, [cfg_run]
        cmp [RBUF + 4], eax
        je verify
.write: mov dword [round], 1
.next:  call write_round
        inc dword [round]
        movzx eax, word [cfg_rounds]
        cmp [round], eax
        jbe .next
        mov [round], eax
        call flush
        mov si, msg_synced
        call report
        mov eax, STATE_LBA              ; the state: "VDIS", run id, N
        call fill
        mov dword [WBUF], 'VDIS'
        mov eax, STATE_LBA
        call ata_write
        call flush
        mov si, msg_written
        call report
        mov al, 0x31
        out 0xf4, al
        hlt

verify: mov dword [round], 1
.round: mov byte [index], 0
.sect:  call lba_of_round
        call check_sector
        inc byte [index]
        cmp byte [index], PER_ROUND
        jb .sect
        call lba_dma                    ; the DMA write's sectors
        mov cx, 8
.dma:   push cx
        push eax
        call check_sector
        pop eax
        pop cx
        inc eax
        loop .dma
        inc dword [round]
        movzx eax, word [cfg_rounds]
        cmp [round], eax
        jbe .round
        mov [round], eax
        mov si, msg_verified
        call report
        mov al, 0x33
        out 0xf4, al
        hlt

; check_sector: LBA EAX must hold [round]'s record ("verify FAILED" if not)
check_sector:
        mov [lba], eax
        mov di, RBUF
        call ata_read
        mov eax, [lba]
        call fill
        mov si, WBUF
        mov di, RBUF
        mov cx, 256
        repe cmpsw
        jne .fail
        ret
.fail:  mov si, msg_vfail
        call dputs
        mov eax, [lba]
        call dhex
        mov si, msg_nl
        call dputs
        mov al, 0x3d
        out 0xf4, al
        hlt

; report: the string at SI, [round] in hex, a newline
report: call dputs
        mov eax, [round]
        call dhex
        mov si, msg_nl
        jmp dputs

; dhex: EAX as 8 hex digits to the debug console
dhex:   mov cx, 8
.digit: rol eax, 4
        push eax
        and al, 0x0f
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '9' - 1
.out:   mov dx, 0x402
        out dx, al
        pop eax
        loop .digit
        ret

; write_round: the PER_ROUND sectors of [round]
write_round:
        mov byte [index], 0
.sect:  call lba_of_round
        push eax
        call fill
        pop eax
        call ata_write
        inc byte [index]
        cmp byte [index], PER_ROUND
        jb .sect
        call lba_dma                    ; 8 sectors by DMA
        push eax
        mov di, DBUF
        mov bp, 8
.dsect: push eax
        call fill_at
        pop eax
        inc eax
        dec bp
        jnz .dsect
        pop eax
        jmp dma_write

; lba_dma: EAX = the first LBA of [round]'s DMA write, 4 sectors before
; the end of block 8 * (1 + [round] mod 127)
lba_dma:
        mov eax, [round]
        xor edx, edx
        mov ecx, NBLK
        div ecx
        lea eax, [edx + 1]
        shl eax, 3
        inc eax
        shl eax, 11
        sub eax, 4
        ret

; lba_of_round: EAX = the LBA of write k = ([round] - 1) * PER_ROUND + [index]
lba_of_round:
        mov eax, [round]
        dec eax
        imul eax, eax, PER_ROUND
        movzx ecx, byte [index]
        add eax, ecx
        xor edx, edx
        mov ecx, NBLK
        div ecx                         ; EAX = k div NBLK, EDX = k mod NBLK
        and eax, 3
        imul ebx, eax, 500
        add ebx, edx                    ; the sector within the block
        imul eax, edx, MULT
        xor edx, edx
        div ecx                         ; EDX = MULT * k mod NBLK
        lea eax, [edx + 1]
        shl eax, 11 + 3                 ; (every 8th block) * 2048 sectors
        add eax, ebx
        ret

; fill: WBUF = 32 records "VDIC", run id, [round], EAX
fill:   mov di, WBUF
; fill_at: the same at DI (DI ends past the sector)
fill_at:
        mov cx, 32
        mov edx, [cfg_run]
        mov ebx, [round]
.rec:   mov dword [di], 'VDIC'
        mov [di + 4], edx
        mov [di + 8], ebx
        mov [di + 12], eax
        add di, 16
        loop .rec
        ret

; ata_wait: until BSY clears; ERR or DF: failure
ata_wait:
        mov dx, 0x1f7
.poll:  in al, dx
        test al, 0x80
        jnz .poll
        test al, 0x21
        jnz ata_fail
        ret

; ata_cmd: command BL for one sector at LBA EAX (28 bits) on the master,
; until its data phase
ata_cmd:
        mov bh, 1
        call ata_issue
        call ata_wait
        test al, 0x08                   ; DRQ: the data phase
        jz ata_fail
        ret

; ata_issue: command BL for BH sectors at LBA EAX on the master
ata_issue:
        push eax
        call ata_wait
        pop eax
        mov ecx, eax
        mov dx, 0x1f6
        shr eax, 24
        and al, 0x0f
        or al, 0xe0
        out dx, al
        mov dx, 0x1f2
        mov al, bh
        out dx, al
        inc dx
        mov al, cl
        out dx, al
        inc dx
        mov al, ch
        out dx, al
        inc dx
        shr ecx, 16
        mov al, cl
        out dx, al
        mov dx, 0x1f7
        mov al, bl
        out dx, al
        ret

; dma_write: DBUF's 8 sectors to LBA EAX (WRITE DMA through the PRD
; table), until the device is done; the bus master must not report an
; error
dma_write:
        mov dword [PRD], DBUF
        mov dword [PRD + 4], 0x80000000 + 8 * 512
        push eax
        mov dx, [bmbase]
        xor al, al                      ; stopped
        out dx, al
        add dx, 2
        mov al, 6                       ; clear INTR and ERROR
        out dx, al
        add dx, 2
        mov eax, PRD
        out dx, eax
        pop eax
        mov bx, 0x08ca                  ; 8 sectors, WRITE DMA
        call ata_issue
        mov dx, [bmbase]
        mov al, 1                       ; start, memory to device
        out dx, al
        call ata_wait
        mov dx, [bmbase]
        xor al, al
        out dx, al
        add dx, 2
        in al, dx
        test al, 2
        jnz ata_fail
        ret

; ata_write: WBUF to LBA EAX (WRITE SECTORS), until the device is done
ata_write:
        mov bl, 0x30
        call ata_cmd
        mov si, WBUF
        mov cx, 256
        mov dx, 0x1f0
        rep outsw
        jmp ata_wait

; ata_read: LBA EAX to DI (READ SECTORS)
ata_read:
        mov bl, 0x20
        call ata_cmd
        mov cx, 256
        mov dx, 0x1f0
        rep insw
        jmp ata_wait

; flush: FLUSH CACHE, until the device is done
flush:  call ata_wait
        mov dx, 0x1f6
        mov al, 0xe0
        out dx, al
        mov dx, 0x1f7
        mov al, 0xe7
        out dx, al
        jmp ata_wait

ata_fail:
        movzx eax, al
        push eax
        mov si, msg_ata
        call dputs
        pop eax
        call dhex
        mov si, msg_nl
        call dputs
        mov al, 0x3b
        out 0xf4, al
        hlt

round:        dd 0
lba:          dd 0
bmbase:       dw 0
index:        db 0
msg_boot:     db "boot ", 0
msg_synced:   db "synced ", 0
msg_written:  db "written ", 0
msg_verified: db "verified ", 0
msg_vfail:    db "verify FAILED at LBA ", 0
msg_ata:      db "ata error ", 0
msg_nl:       db 10, 0
code_end:
NSECT equ (code_end - main + 511) / 512
        times NSECT * 512 - (code_end - main) db 0
