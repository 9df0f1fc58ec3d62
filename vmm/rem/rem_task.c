/*
 * rem_task.c - task switches (SDM Vol. 3A 7.3) with 32-bit TSSs: JMP or
 * CALL to a TSS or a task gate (rem_far.c), a task gate in the IDT
 * (rem_xcpt.c) and IRET with NT set (rem_far.c). A 16-bit TSS stops the
 * run as an emulation failure naming what is missing.
 */
#include "rem_internal.h"

#define TSS_CR3         0x1c
#define TSS_EIP         0x20
#define TSS_EFLAGS      0x24
#define TSS_GPR         0x28 /* EAX..EDI, 4 bytes each, in CPUM's order */
#define TSS_SREG        0x48 /* ES CS SS DS FS GS, 4 bytes apart */
#define TSS_LDT         0x60
#define TSS32_MIN_LIMIT 0x67

/* A segment register of the new task (after the switch: a fault here is
 * the new task's, #TS for a bad selector as the SDM's table 7-1 says). */
static void task_sreg(struct rem_vcpu *v, unsigned sreg, uint16_t sel)
{
    struct cpum_seg *s = &v->ctx->seg[sreg];
    if ((sel & ~3u) == 0) {
        if (sreg == CPUM_SS || sreg == CPUM_CS)
            rem_raise(v, X86_TS, sel & ~3u);
        rem_seg_null(s, sel);
        return;
    }
    uint64_t d = rem_read_desc(v, sel, X86_TS);
    unsigned rpl = sel & 3, dpl = rem_desc_dpl(d), cpl = v->cpl;
    if (sreg == CPUM_CS) {
        if (!rem_desc_code(d) || ((rem_desc_type(d) & 4) ? dpl > rpl : dpl != rpl))
            rem_raise(v, X86_TS, sel & ~3u);
    } else if (sreg == CPUM_SS) {
        if (rpl != cpl || dpl != cpl || !rem_desc_data(d) || !(rem_desc_type(d) & 2))
            rem_raise(v, X86_TS, sel & ~3u);
    } else if (!(rem_desc_data(d) || (rem_desc_code(d) && (rem_desc_type(d) & 2))) ||
               ((rem_desc_data(d) || !(rem_desc_type(d) & 4)) && (rpl > dpl || cpl > dpl))) {
        rem_raise(v, X86_TS, sel & ~3u);
    }
    if (!rem_desc_present(d))
        rem_raise(v, sreg == CPUM_SS ? X86_SS : X86_NP, sel & ~3u);
    rem_set_accessed(v, sel, d);
    rem_desc_to_seg(d | (1ull << 40), sel, s);
}

/* Switches to the task of TSS selector `sel`: JMP / CALL to a TSS or a task
 * gate, an interrupt or exception through a task gate (`err` pushed on the
 * new task's stack unless REM_NO_ERR), or IRET with NT set (back to the
 * link). The current task's state is saved with EIP = `ret_eip`. Checks
 * come first and fault in the old task; from the register loads on, faults
 * belong to the new one. 16-bit TSSs are not implemented. */
void rem_task_switch(struct rem_vcpu *v, uint16_t sel, enum rem_task_reason why, uint32_t err,
                     uint64_t ret_eip, uint32_t ext)
{
    struct cpum_ctx *c = v->ctx;
    unsigned bad = why == REM_TASK_IRET ? X86_TS : X86_GP;
    if (sel & 4)
        rem_raise(v, bad, (sel & ~3u) | ext);
    uint64_t d = rem_read_desc(v, sel, bad);
    unsigned type = rem_desc_type(d);
    if (!((d >> 44) & 1) && (type == 1 || type == 3))
        rem_unimplemented(v); /* a 16-bit TSS */
    if (((d >> 44) & 1) || type != (why == REM_TASK_IRET ? 0xbu : 9u))
        rem_raise(v, bad, (sel & ~3u) | ext);
    if (!rem_desc_present(d))
        rem_raise(v, X86_NP, (sel & ~3u) | ext);
    struct cpum_seg nt;
    rem_desc_to_seg(d, sel, &nt);
    if (nt.limit < TSS32_MIN_LIMIT || c->tr.limit < TSS32_MIN_LIMIT)
        rem_raise(v, X86_TS, (sel & ~3u) | ext);
    uint32_t nb = (uint32_t)nt.base, ob = (uint32_t)c->tr.base;
    /* Read the new task's state, then save the current one. */
    uint32_t ncr3 = (uint32_t)rem_sys_rd(v, nb + TSS_CR3, 4);
    uint32_t neip = (uint32_t)rem_sys_rd(v, nb + TSS_EIP, 4);
    uint64_t nfl = rem_sys_rd(v, nb + TSS_EFLAGS, 4);
    uint32_t ngpr[8];
    uint16_t nsel[CPUM_SREG_COUNT];
    for (unsigned i = 0; i < 8; i++)
        ngpr[i] = (uint32_t)rem_sys_rd(v, nb + TSS_GPR + 4 * i, 4);
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        nsel[i] = (uint16_t)rem_sys_rd(v, nb + TSS_SREG + 4 * i, 2);
    uint16_t nldt = (uint16_t)rem_sys_rd(v, nb + TSS_LDT, 2);
    uint64_t fl = rem_get_rflags(v);
    if (why == REM_TASK_JMP || why == REM_TASK_IRET)
        fl &= ~(uint64_t)FL_NT;
    rem_sys_wr(v, ob + TSS_EIP, 4, (uint32_t)ret_eip);
    rem_sys_wr(v, ob + TSS_EFLAGS, 4, (uint32_t)fl);
    for (unsigned i = 0; i < 8; i++)
        rem_sys_wr(v, ob + TSS_GPR + 4 * i, 4, (uint32_t)c->gpr[i]);
    for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
        rem_sys_wr(v, ob + TSS_SREG + 4 * i, 2, c->seg[i].sel);
    /* Busy bits and the back link. */
    if (why == REM_TASK_JMP || why == REM_TASK_IRET) {
        uint64_t od = rem_read_desc(v, c->tr.sel, X86_TS);
        rem_sys_wr(v, rem_desc_addr(v, c->tr.sel, X86_TS, 8) + 5, 1, (uint8_t)((od >> 40) & ~2u));
    }
    if (why != REM_TASK_IRET)
        rem_sys_wr(v, rem_desc_addr(v, sel, bad, 8) + 5, 1, (uint8_t)((d >> 40) | 2u));
    if (why == REM_TASK_CALL || why == REM_TASK_INT) {
        rem_sys_wr(v, nb + REM_TSS_LINK, 2, c->tr.sel);
        nfl |= FL_NT;
    }
    /* The switch: TR, CR0.TS, CR3, then the registers. */
    nt.attr |= 2; /* busy */
    c->tr = nt;
    c->cr0 |= CR0_TS;
    if (c->cr0 & CR0_PG) {
        c->cr3 = ncr3;
        rem_paging_invalidated(v);
    }
    c->rip = neip;
    for (unsigned i = 0; i < 8; i++)
        c->gpr[i] = ngpr[i];
    rem_set_rflags(v, nfl | 2);
    if (nfl & FL_VM) {
        for (unsigned i = 0; i < CPUM_SREG_COUNT; i++) {
            c->seg[i].sel = nsel[i];
            c->seg[i].base = (uint32_t)nsel[i] << 4;
            c->seg[i].limit = 0xffff;
            c->seg[i].attr = 0xf3;
        }
        rem_update_mode(v);
        rem_load_ldtr(v, nldt);
    } else {
        /* Selectors first (what a fault in the loads below leaves), then
         * the LDT (the segments may live there), CS (the new CPL), SS and
         * the data segments. */
        for (unsigned i = 0; i < CPUM_SREG_COUNT; i++)
            rem_seg_null(&c->seg[i], nsel[i]);
        c->seg[CPUM_CS].attr =
            0x9b | (uint16_t)((nsel[CPUM_CS] & 3) << CPUM_SEG_DPL_SHIFT) | CPUM_SEG_DB;
        rem_update_mode(v);
        rem_load_ldtr(v, nldt);
        task_sreg(v, CPUM_CS, nsel[CPUM_CS]);
        rem_update_mode(v);
        task_sreg(v, CPUM_SS, nsel[CPUM_SS]);
        static const unsigned data[] = {CPUM_ES, CPUM_DS, CPUM_FS, CPUM_GS};
        for (unsigned i = 0; i < 4; i++)
            task_sreg(v, data[i], nsel[data[i]]);
        rem_update_mode(v);
    }
    if (c->rip > c->seg[CPUM_CS].limit)
        rem_gp0(v);
    if (err != REM_NO_ERR)
        rem_push(v, (c->seg[CPUM_CS].attr & CPUM_SEG_DB) ? 4 : 2, err);
}
