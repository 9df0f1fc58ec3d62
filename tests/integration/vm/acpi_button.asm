; acpi_button.asm - flat 32-bit payload for `capsule controlvm VM
; acpipowerbutton` (acpi_button.sh): what an ACPI guest does with the
; fixed-feature power button, by polling instead of taking the SCI. Writes
; "acpi payload up" to COM1, enables PWRBTN_EN in PM1_EN, waits until
; PWRBTN_STS in PM1_STS is set, clears it (write 1), writes "power button"
; and enters S5 (SLP_TYP 5 | SLP_EN in PM1_CNT): the VM powers off.
bits 32
org 0x100000
PM1_STS equ 0x600
PM1_EN  equ 0x602
PM1_CNT equ 0x604
PWRBTN  equ 0x0100
%include "common.inc"
        puts up
        mov dx, PM1_EN
        mov ax, PWRBTN
        out dx, ax
.wait:  mov ecx, 100000         ; a pause between polls: fewer exits
.spin:  pause
        loop .spin
        mov dx, PM1_STS
        in ax, dx
        test ax, PWRBTN
        jz .wait
        mov ax, PWRBTN          ; write-1-to-clear
        out dx, ax
        puts pressed
        mov dx, PM1_CNT
        mov ax, (5 << 10) | 0x2000
        out dx, ax
.off:   cli                     ; not reached: S5 powers the VM off
        hlt
        jmp .off
up:      db "acpi payload up", 10, 0
pressed: db "power button", 10, 0
