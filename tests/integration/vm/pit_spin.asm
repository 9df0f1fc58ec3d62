; pit_spin.asm - pit_hlt.asm with a busy loop instead of HLT: sti, then
; spin without a single exit. EM must still run the PIT's timer at its
; deadline (its kick timer gets the vCPU out of the engine) and deliver
; IRQ0: the handler writes 'T' and debug-exits with 0x10 (status 33). If
; the timer never fires, the VM spins until run's timeout.
%include "pit_common.inc"
        PIT_SETUP
spin:   jmp spin
        PIT_HANDLER
