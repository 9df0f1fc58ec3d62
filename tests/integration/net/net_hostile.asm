; net_hostile.asm - flat 32-bit payload for net_hostile.sh, without a BIOS:
; a guest that drives the virtio-net function (capsule-vm --nic nat,model=virtio, at
; 00:03.0) by hand and lies to it.
;  1. finds 1af4:1041 on bus 0, puts BAR 0 at 0xfebf0000, memory and bus
;     master on; negotiates VERSION_1 only; receiveq (0) and transmitq (1),
;     256 entries each, in RAM;
;  2. a looping transmit chain: DEVICE_NEEDS_RESET ("loop: needs reset");
;     a reset and the set-up again;
;  3. a transmit buffer outside RAM: DEVICE_NEEDS_RESET ("bad dma: needs
;     reset"); reset, set up;
;  4. a zero-length and an almost-4-GiB transmit buffer: both dropped and
;     returned, the device fine ("zero and huge: dropped");
;  5. a storm: 256 transmit chains at one notify; the device sends them in
;     bounded batches, the rest from its timer: all come back ("storm: 256
;     returned");
;  6. one receive buffer and an ARP request for 10.0.2.2: the NAT's ARP
;     reply lands in the buffer ("arp reply").
; Debug-exit 0x25 (status 75) when all held, 0x2b (status 87) if not.
%include "common.inc"
%include "virtio.inc"
bits 32
org 0x100000
BAR     equ 0xfebf0000
CCFG    equ BAR
NOTIFY  equ BAR + 0x3000
RXDESC  equ 0x30000
RXAVAIL equ 0x31000
RXUSED  equ 0x32000
TXDESC  equ 0x33000
TXAVAIL equ 0x34000
TXUSED  equ 0x35000
RXBUF   equ 0x36000
FRAME   equ 0x38000                     ; 12-byte header, then the frame
        VIRTIO_FIND 0x10411af4, BAR
        mov esi, arp                    ; the frame: header of zeros, ARP
        mov edi, FRAME + 12
        mov ecx, arp_len
        cld
        rep movsb

        call setup
        ; ---- a loop: 0 -> 1 -> 0
        mov eax, 0
        mov edx, FRAME
        mov ecx, 54
        mov bx, 1                       ; NEXT -> 1
        call desc
        mov eax, 1
        mov bx, 1
        call desc
        mov word [TXDESC + 16 + 14], 0  ; 1 -> 0
        call offer_tx
        call kick_tx
        call broken
        puts msg_loop

        call setup
        ; ---- a buffer outside RAM
        mov eax, 0
        mov edx, 0xffff0000
        mov ecx, 54
        xor bx, bx
        call desc
        call offer_tx
        call kick_tx
        call broken
        puts msg_dma

        call setup
        ; ---- zero length, then almost 4 GiB: dropped, returned
        mov eax, 0
        mov edx, FRAME
        xor ecx, ecx
        xor bx, bx
        call desc
        mov eax, 1
        mov edx, FRAME
        mov ecx, 0xfffffff0
        xor bx, bx
        call desc
        mov word [TXAVAIL + 4], 0
        mov word [TXAVAIL + 6], 1
        mov word [TXAVAIL + 2], 2
        call kick_tx
        call fine
        cmp word [TXUSED + 2], 2
        jne fail
        puts msg_huge

        ; ---- a storm: 256 chains, one notify
        mov esi, 0
.fill:  mov eax, esi
        mov edx, FRAME
        mov ecx, 12 + arp_len
        xor bx, bx
        call desc
        mov eax, esi
        mov [TXAVAIL + 4 + esi * 2], ax
        inc esi
        cmp esi, 256
        jb .fill
        add word [TXAVAIL + 2], 256
        call kick_tx
        mov ecx, 50000000               ; the rest come from the timer
.storm: cmp word [TXUSED + 2], 258
        je .stormed
        pause
        loop .storm
        jmp fail
.stormed:
        call fine
        puts msg_storm

        call setup
        ; ---- a receive buffer, an ARP request: the NAT answers
        mov dword [RXDESC], RXBUF
        mov dword [RXDESC + 4], 0
        mov dword [RXDESC + 8], 2048
        mov word [RXDESC + 12], 2       ; WRITE
        mov word [RXAVAIL + 4], 0
        mov word [RXAVAIL + 2], 1
        mov word [NOTIFY], 0
        mov eax, 0
        mov edx, FRAME
        mov ecx, 12 + arp_len
        xor bx, bx
        call desc
        call offer_tx
        call kick_tx
        mov ecx, 200000000              ; the NAT's I/O thread answers
.rx:    cmp word [RXUSED + 2], 1
        je .got
        pause
        loop .rx
        jmp fail
.got:   cmp word [RXBUF + 12 + 12], 0x0608     ; ARP (big-endian 0x0806)
        jne fail
        cmp word [RXBUF + 12 + 20], 0x0200     ; a reply
        jne fail
        cmp dword [RXBUF + 12 + 28], 0x0202000a ; from 10.0.2.2
        jne fail
        call fine
        puts msg_ok
        mov al, 0x25
        out 0xf4, al
        hlt

fail:   puts msg_fail
        mov al, 0x2b
        out 0xf4, al
        hlt

; setup: reset, VERSION_1 only, both queues, DRIVER_OK
setup:
        VIRTIO_RESET_V1 CCFG
        mov edi, RXAVAIL                ; clear the rings
        mov ecx, (TXUSED + 0x1000 - RXAVAIL) / 4
        xor eax, eax
        cld
        rep stosd
        VIRTIO_QUEUE CCFG, 0, RXDESC, RXAVAIL, RXUSED
        VIRTIO_QUEUE CCFG, 1, TXDESC, TXAVAIL, TXUSED
        mov byte [CCFG + 0x14], 0x0f
        ret

; desc: transmit descriptor eax = addr edx, len ecx, flags bx, next eax + 1
desc:
        push edi
        mov edi, eax
        shl edi, 4
        mov [TXDESC + edi], edx
        mov dword [TXDESC + edi + 4], 0
        mov [TXDESC + edi + 8], ecx
        mov [TXDESC + edi + 12], bx
        push eax
        inc eax
        mov [TXDESC + edi + 14], ax
        pop eax
        pop edi
        ret

; offer_tx: chain 0 into the transmit available ring
offer_tx:
        movzx eax, word [TXAVAIL + 2]
        and eax, 255
        mov word [TXAVAIL + 4 + eax * 2], 0
        inc word [TXAVAIL + 2]
        ret

kick_tx:
        mov word [NOTIFY + 4], 1
        ret

broken:
        test byte [CCFG + 0x14], 0x40
        jz fail
        ret

fine:
        test byte [CCFG + 0x14], 0x40
        jnz fail
        ret

; an ARP request from 52:54:00:12:34:56 / 10.0.2.15 for 10.0.2.2
arp:    db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56
        db 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01
        db 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15
        db 0, 0, 0, 0, 0, 0, 10, 0, 2, 2
arp_len equ $ - arp
msg_loop:  db "loop: needs reset", 13, 10, 0
msg_dma:   db "bad dma: needs reset", 13, 10, 0
msg_huge:  db "zero and huge: dropped", 13, 10, 0
msg_storm: db "storm: 256 returned", 13, 10, 0
msg_ok:    db "arp reply", 13, 10, 0
msg_fail:  db "net hostile FAILED", 13, 10, 0
