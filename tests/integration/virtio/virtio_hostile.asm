; virtio_hostile.asm - flat 32-bit payload for virtio.sh, without a BIOS: a
; guest that drives the virtio-blk function by hand and lies to it.
;  1. finds 1af4:1042 on bus 0, puts BAR 0 at 0xfebf0000, memory and bus
;     master on; negotiates VERSION_1 only; queue 0 (256 entries) in RAM;
;  2. a looping descriptor chain: the device must set DEVICE_NEEDS_RESET
;     ("loop: needs reset"); then a reset and the set-up again;
;  3. a read into memory outside RAM (4 GiB - 64 KiB) and a read of almost
;     4 GiB: each ends with VIRTIO_BLK_S_IOERR in the used ring ("bad dma:
;     ioerr");
;  4. notifications of queues that do not exist and the available index
;     jumped 1000 ahead: DEVICE_NEEDS_RESET again ("avail jump: needs
;     reset"); reset, set up;
;  5. a good read of sector 1, polled to completion (the block layer's I/O
;     thread): the image's text "VIRTIO-HOSTILE-SECTOR-1" ("read ok").
; Debug-exit 0x25 (status 75) when all held, 0x2b (status 87) if not.
%include "common.inc"
%include "virtio.inc"
bits 32
org 0x100000
BAR     equ 0xfebf0000
CCFG  equ BAR
NOTIFY  equ BAR + 0x3000
DESC    equ 0x30000
AVAIL   equ 0x34000
USED    equ 0x35000
HDR     equ 0x36000
STATUS  equ 0x36100
DATA    equ 0x37000
        VIRTIO_FIND 0x10421af4, BAR

        call setup
        ; ---- a loop: 0 -> 1 -> 0
        mov edi, DESC
        call desc_hdr                   ; 0: header, NEXT -> 1
        mov dword [DESC + 16], DATA
        mov dword [DESC + 20], 0
        mov dword [DESC + 24], 512
        mov word [DESC + 28], 1         ; NEXT
        mov word [DESC + 30], 0         ; back to 0
        call offer
        mov al, [CCFG + 0x14]
        test al, 0x40
        jz fail
        puts msg_loop

        call setup
        ; ---- data outside RAM, then an absurd length
        mov dword [DATA_ADDR], 0xffff0000
        mov dword [DATA_LEN], 512
        call read_req
        call wait_used
        cmp byte [STATUS], 1
        jne fail
        mov dword [DATA_ADDR], DATA
        mov dword [DATA_LEN], 0xfffffe00
        call read_req
        call wait_used
        cmp byte [STATUS], 1
        jne fail
        puts msg_dma

        ; ---- notifications nobody listens to, then the index jumping ahead
        mov word [NOTIFY + 4 * 5], 5
        mov word [NOTIFY + 0xff0], 0x1234
        mov al, [CCFG + 0x14]
        test al, 0x40
        jnz fail
        add word [AVAIL + 2], 1000
        mov word [NOTIFY], 0
        mov al, [CCFG + 0x14]
        test al, 0x40
        jz fail
        puts msg_jump

        call setup
        ; ---- the device works on
        mov dword [DATA_ADDR], DATA
        mov dword [DATA_LEN], 512
        mov dword [HDR + 8], 1          ; sector 1
        call read_req
        call wait_used
        cmp byte [STATUS], 0
        jne fail
        mov esi, DATA
        mov edi, want
        mov ecx, want_len
        repe cmpsb
        jne fail
        puts msg_ok
        mov al, 0x25
        out 0xf4, al
        hlt

fail:   puts msg_fail
        mov al, 0x2b
        out 0xf4, al
        hlt

; setup: reset, VERSION_1 only, queue 0 at DESC/AVAIL/USED, DRIVER_OK
setup:
        VIRTIO_RESET_V1 CCFG
        mov edi, AVAIL                  ; clear the rings
        mov ecx, (USED + 0x1000 - AVAIL) / 4
        xor eax, eax
        cld
        rep stosd
        VIRTIO_QUEUE CCFG, 0, DESC, AVAIL, USED
        mov byte [CCFG + 0x14], 0x0f
        mov word [used_seen], 0
        ret

; desc_hdr: descriptor 0 = the header (16 bytes, NEXT -> 1)
desc_hdr:
        mov dword [HDR], 0              ; VIRTIO_BLK_T_IN
        mov dword [DESC], HDR
        mov dword [DESC + 4], 0
        mov dword [DESC + 8], 16
        mov word [DESC + 12], 1
        mov word [DESC + 14], 1
        ret

; offer: chain 0 into the available ring, notify queue 0
offer:
        movzx eax, word [AVAIL + 2]
        and eax, 255
        mov word [AVAIL + 4 + eax * 2], 0
        inc word [AVAIL + 2]
        mov word [NOTIFY], 0
        ret

; read_req: header | data (DATA_ADDR, DATA_LEN, writable) | status
read_req:
        call desc_hdr
        mov eax, [DATA_ADDR]
        mov [DESC + 16], eax
        mov dword [DESC + 20], 0
        mov eax, [DATA_LEN]
        mov [DESC + 24], eax
        mov word [DESC + 28], 3         ; NEXT | WRITE
        mov word [DESC + 30], 2
        mov dword [DESC + 32], STATUS
        mov dword [DESC + 36], 0
        mov dword [DESC + 40], 1
        mov word [DESC + 44], 2         ; WRITE
        mov byte [STATUS], 0xee
        jmp offer

; wait_used: until the used index moves (bounded), else fail
wait_used:
        mov ecx, 50000000
.poll:  mov ax, [USED + 2]
        cmp ax, [used_seen]
        jne .done
        pause
        loop .poll
        jmp fail
.done:  mov [used_seen], ax
        ret

DATA_ADDR: dd 0
DATA_LEN:  dd 0
used_seen: dw 0
want:      db "VIRTIO-HOSTILE-SECTOR-1"
want_len   equ $ - want
msg_loop:  db "loop: needs reset", 13, 10, 0
msg_dma:   db "bad dma: ioerr", 13, 10, 0
msg_jump:  db "avail jump: needs reset", 13, 10, 0
msg_ok:    db "read ok", 13, 10, 0
msg_fail:  db "virtio hostile FAILED", 13, 10, 0
