/*
 * tests/unit/devices/test_apic.c - the local APIC: registers, virtual wire
 * with the PIC (software-disabled, LINT0 ExtINT, LINT0 masked), self IPIs
 * and priority arbitration (IRR/ISR/PPR/TPR, EOI), the timer (one-shot,
 * periodic, divide, masked), NMI (ICR, LINT0 in NMI mode), INIT/SIPI, the
 * error register; software disable as the SDM describes it (10.4.7.2) and
 * global disable through IA32_APIC_BASE[11] (the page is open bus);
 * timer storms (issue 19): a periodic count of 1 interrupts at most every
 * TM_MIN_PERIOD_NS while the current count keeps its rate, and a masked
 * timer or one whose vector waits in IRR runs no callbacks.
 */
#include <check.h>
#include <stdlib.h>

#include "harness.h"

#define APIC 0xfee00000ull

static struct harness h;

static void setup(void)
{
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint32_t rd(unsigned reg)
{
    return (uint32_t)h_mmio_in(&h, APIC + reg, 4);
}

static void wr(unsigned reg, uint32_t v)
{
    h_mmio_out(&h, APIC + reg, 4, v);
}

static bool isr_bit(unsigned v)
{
    return (rd(0x100 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool irr_bit(unsigned v)
{
    return (rd(0x200 + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static void add_pic_apic(void)
{
    struct pdm_dev_config cfg[] = {{.device = "pic"}, {.device = "apic"}, {.device = "pit"}};
    ck_assert_int_eq(pdm_instantiate(h.pdm, cfg, 3), CAP_OK);
    const uint8_t init[][2] = {
        {0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xfe}};
    for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
        h_out(&h, init[i][0], 1, init[i][1]);
}

static void enable(void)
{
    wr(0xf0, 0x1ff); /* software enable, spurious vector 0xff */
}

START_TEST(test_registers)
{
    struct pdm_cfg_kv kv[] = {{"id", "3"}};
    ck_assert_int_eq(h_add(&h, "apic", kv, 1), CAP_OK);
    ck_assert_uint_eq(rd(0x20), 3u << 24);
    ck_assert_uint_eq(rd(0x30), 0x00050014);
    ck_assert_uint_eq(rd(0xe0), 0xffffffff);
    ck_assert_uint_eq(rd(0xf0), 0xff);
    for (unsigned r = 0x320; r <= 0x370; r += 0x10)
        ck_assert_uint_eq(rd(r), 0x10000);
    wr(0x20, 0x05000000);
    ck_assert_uint_eq(rd(0x20), 0x05000000);
    wr(0xd0, 0x01000000);
    ck_assert_uint_eq(rd(0xd0), 0x01000000);
    wr(0xe0, 0x0fffffff); /* cluster model */
    ck_assert_uint_eq(rd(0xe0), 0x0fffffff);
    wr(0x80, 0x20);
    ck_assert_uint_eq(rd(0x80), 0x20);
    ck_assert_uint_eq(rd(0xa0), 0x20);
    /* While software-disabled, LVT entries stay masked. */
    wr(0x350, 0x700);
    ck_assert_uint_eq(rd(0x350), 0x10700);
    enable();
    wr(0x350, 0x700);
    ck_assert_uint_eq(rd(0x350), 0x700);
    wr(0xf0, 0x0ff); /* disabling masks them again */
    ck_assert_uint_eq(rd(0x350), 0x10700);
    /* Narrow reads see part of a register. */
    ck_assert_uint_eq(h_mmio_in(&h, APIC + 0x30, 1), 0x14);
    ck_assert_uint_eq(h_mmio_in(&h, APIC + 0x32, 2), 0x0005);
    ck_assert_int_eq(h_add(&h, "apic", NULL, 0), CAP_E_INVALIDARG); /* one per VM */
}
END_TEST

START_TEST(test_virtual_wire)
{
    add_pic_apic();
    /* Software-disabled after reset: the PIC passes straight through. */
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x00);
    h_out(&h, 0x40, 1, 0x01);
    h_advance(&h, 300000);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x20);
    ck_assert_int_eq(h.intr, 0);
    h_out(&h, 0x20, 1, 0x20);
    /* Enabled with LINT0 masked: the PIC is cut off. */
    enable();
    h_advance(&h, 300000);
    ck_assert_int_eq(h.intr, 0);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), -1);
    /* LINT0 ExtINT: virtual wire through the APIC. */
    wr(0x350, 0x700);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), 0x20);
    h_out(&h, 0x20, 1, 0x20);
    /* APIC vectors go first. */
    h_advance(&h, 300000);
    wr(0x300, 0x40040); /* self IPI 0x40 */
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), 0x40);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), 0x20);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 1), -1); /* no vCPU 1 */
}
END_TEST

START_TEST(test_priorities_and_eoi)
{
    ck_assert_int_eq(h_add(&h, "apic", NULL, 0), CAP_OK);
    wr(0x300, 0x40050); /* disabled: fixed interrupts are not accepted */
    ck_assert(!irr_bit(0x50));
    enable();
    wr(0x300, 0x40050);
    wr(0x300, 0x40080);
    wr(0x300, 0x40031);
    ck_assert(irr_bit(0x50) && irr_bit(0x80) && irr_bit(0x31));
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x80);
    ck_assert(isr_bit(0x80) && !irr_bit(0x80));
    ck_assert_uint_eq(rd(0xa0), 0x80); /* PPR: the in-service class */
    ck_assert_int_eq(h.intr, 0);       /* 0x50 is below */
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), -1);
    wr(0xb0, 0); /* EOI */
    ck_assert(!isr_bit(0x80));
    ck_assert_int_eq(h.intr, 1);
    /* TPR holds back the lower classes. */
    wr(0x80, 0x50);
    ck_assert_int_eq(h.intr, 0);
    wr(0x80, 0x4f);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x50);
    wr(0x80, 0);
    /* 0x31 is a lower class than 0x50 in service: nested only after EOI. */
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), -1);
    wr(0xb0, 0);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x31);
    wr(0xb0, 0);
    ck_assert_uint_eq(rd(0x100 + 0x10), 0);
    /* Physical and logical destinations to self, broadcast. */
    wr(0x310, 0x00000000);
    wr(0x300, 0x00061); /* physical dest 0 = us */
    ck_assert(irr_bit(0x61));
    wr(0xd0, 0x02000000);
    wr(0x310, 0x02000000);
    wr(0x300, 0x00862); /* logical flat, bit 1 */
    ck_assert(irr_bit(0x62));
    wr(0x310, 0x04000000);
    wr(0x300, 0x00863); /* logical, not us */
    ck_assert(!irr_bit(0x63));
    wr(0x300, 0xc0064); /* all excluding self */
    ck_assert(!irr_bit(0x64));
    wr(0x300, 0x80065); /* all including self */
    ck_assert(irr_bit(0x65));
}
END_TEST

START_TEST(test_timer)
{
    ck_assert_int_eq(h_add(&h, "apic", NULL, 0), CAP_OK);
    enable();
    wr(0x3e0, 0xb);     /* divide by 1: 1 tick per ns */
    wr(0x320, 0x00041); /* one-shot, vector 0x41 */
    wr(0x380, 100000);
    h_advance(&h, 40000);
    uint32_t cur = rd(0x390);
    ck_assert_uint_eq(cur, 60000);
    h_advance(&h, 60000);
    ck_assert(irr_bit(0x41));
    ck_assert_uint_eq(rd(0x390), 0);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x41);
    wr(0xb0, 0);
    h_advance(&h, 500000);
    ck_assert(!irr_bit(0x41)); /* one shot only */
    /* Periodic, divide by 2 (a period above TM_MIN_PERIOD_NS). */
    wr(0x3e0, 0x0);
    wr(0x320, 0x20042);
    wr(0x380, 150000); /* 300 us */
    h_advance(&h, 299999);
    ck_assert(!irr_bit(0x42));
    h_advance(&h, 1);
    ck_assert(irr_bit(0x42));
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x42);
    wr(0xb0, 0);
    h_advance(&h, 300000);
    ck_assert(irr_bit(0x42));
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x42);
    wr(0xb0, 0);
    /* A stall: one interrupt, the phase kept. */
    h_advance(&h, 3000000 + 75000);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x42);
    wr(0xb0, 0);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), -1);
    ck_assert_uint_eq(rd(0x390), 112500);
    /* Masked: counts, no interrupt. */
    wr(0x320, 0x30042);
    h_advance(&h, 4000);
    ck_assert(!irr_bit(0x42));
    ck_assert_uint_ne(rd(0x390), 0);
    /* Initial count 0 stops it. */
    wr(0x380, 0);
    ck_assert_uint_eq(rd(0x390), 0);
    /* TSC-deadline is not supported: logged, idle. */
    wr(0x320, 0x40043);
    wr(0x380, 10);
    h_advance(&h, 1000);
    ck_assert(!irr_bit(0x43));
    ck_assert(h_logged(&h, "TSC-deadline"));
}
END_TEST

START_TEST(test_nmi_init_sipi_errors)
{
    ck_assert_int_eq(h_add(&h, "apic", NULL, 0), CAP_OK);
    enable();
    wr(0x300, 0x40400); /* NMI to self */
    ck_assert_int_eq(h.nmis, 1);
    wr(0x310, 0x01000000);
    wr(0x300, 0x04500); /* INIT assert to APIC 1 */
    wr(0x300, 0x0069a); /* SIPI vector 0x9a to APIC 1 */
    ck_assert_int_eq(h.nmis, 1);
    ck_assert(h_logged(&h, "none exist yet"));
    /* Illegal vector: ESR after a write, error LVT delivered. */
    wr(0x370, 0x000ee);
    wr(0x300, 0x40005);
    ck_assert_uint_eq(rd(0x280), 0); /* not latched yet */
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0x20);
    ck_assert(irr_bit(0xee));
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0);
    /* Illegal register. */
    wr(0x3f0, 1);
    wr(0x280, 0);
    ck_assert_uint_eq(rd(0x280), 0x80);
    /* ICR reads back; delivery status idle. */
    wr(0x300, 0x40061);
    ck_assert_uint_eq(rd(0x300), 0x40061);
    ck_assert_uint_eq(rd(0x310), 0x01000000);
}
END_TEST

START_TEST(test_reset_and_save)
{
    ck_assert_int_eq(h_add(&h, "apic", NULL, 0), CAP_OK);
    enable();
    wr(0x3e0, 0xb);
    wr(0x320, 0x20044);
    wr(0x380, 500000); /* 500 us: above TM_MIN_PERIOD_NS */
    wr(0x300, 0x40070);
    ck_assert_int_eq(h.intr, 1);
    h_ssm_save(&h);
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.intr, 0);
    ck_assert_uint_eq(rd(0xf0), 0xff);
    h_advance(&h, 10000);
    ck_assert(!irr_bit(0x44));
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x70);
    wr(0xb0, 0);
    h_advance(&h, 500000);
    ck_assert(irr_bit(0x44));
}
END_TEST

/* PIT channel 0 in mode 2 with count 0x100: IRQ0 every ~215 us. */
static void pit_start(void)
{
    h_out(&h, 0x43, 1, 0x34);
    h_out(&h, 0x40, 1, 0x00);
    h_out(&h, 0x40, 1, 0x01);
}

/* SDM Vol. 3A 10.4.7.2: after an explicit software disable the APIC is
 * still readable and writable, LVT masks stick, fixed interrupts are not
 * accepted but NMIs are, the ICR still sends, IRR/ISR are held and what
 * IRR holds still reaches the CPU, EOI works. */
START_TEST(test_software_disabled)
{
    add_pic_apic();
    enable();
    wr(0x80, 0x20);
    wr(0x320, 0x20040);     /* periodic timer, vector 0x40 */
    wr(0x350, 0x700);       /* LINT0 ExtINT: virtual wire */
    wr(0x300, 0x40050);     /* pending in IRR, not yet taken */
    wr(0x300, 0x40090);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), 0x90); /* 0x90 in service */
    ck_assert(irr_bit(0x50) && isr_bit(0x90));
    wr(0xf0, 0x0ef);        /* software disable, spurious vector 0xef */
    /* every register still reads */
    ck_assert_uint_eq(rd(0xf0), 0xef);
    ck_assert_uint_eq(rd(0x30), 0x00050014);
    ck_assert_uint_eq(rd(0x20), 0);
    ck_assert_uint_eq(rd(0x80), 0x20);
    ck_assert_uint_eq(rd(0xe0), 0xffffffff);
    for (unsigned r = 0x320; r <= 0x370; r += 0x10)
        ck_assert_msg(rd(r) & 0x10000, "LVT 0x%x not masked", r);
    ck_assert_uint_eq(rd(0x320), 0x30040); /* the mode and vector stay */
    /* a write cannot clear a mask bit; its other fields are written */
    wr(0x320, 0x00041);
    ck_assert_uint_eq(rd(0x320), 0x10041);
    wr(0x80, 0x30);
    ck_assert_uint_eq(rd(0x80), 0x30);
    wr(0x80, 0);
    /* held: ISR until EOI, IRR until the CPU takes it - and it does */
    ck_assert(isr_bit(0x90));
    wr(0xb0, 0);
    ck_assert(!isr_bit(0x90));
    ck_assert(irr_bit(0x50));
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), 0x50);
    ck_assert(isr_bit(0x50));
    wr(0xb0, 0);
    /* fixed interrupts are not accepted; NMIs are, by shorthand or ID */
    wr(0x300, 0x40060);
    ck_assert(!irr_bit(0x60));
    wr(0x300, 0x40400);
    ck_assert_int_eq(h.nmis, 1);
    wr(0x310, 0);
    wr(0x300, 0x00400);
    ck_assert_int_eq(h.nmis, 2);
    /* LINT0 is masked now: the PIC no longer reaches the CPU */
    pit_start();
    h_advance(&h, 300000);
    ck_assert_int_eq(h.intr, 0);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), -1);
    /* the timer counts on, its LVT masked */
    wr(0x380, 1000);
    h_advance(&h, 5000);
    ck_assert(!irr_bit(0x41));
    /* SVR bit 12 (directed EOI) is reserved: the version does not offer it */
    wr(0xf0, 0x11ff);
    ck_assert_uint_eq(rd(0xf0), 0x1ff);
}
END_TEST

/* LVT LINT0 in NMI mode: the PIC's INTR edge is an NMI, not an interrupt. */
START_TEST(test_lint0_nmi)
{
    add_pic_apic();
    enable();
    wr(0x350, 0x400);
    ck_assert_uint_eq(rd(0x350), 0x400);
    pit_start();
    h_advance(&h, 300000);
    ck_assert_int_eq(h.nmis, 1);
    ck_assert_int_eq(h.intr, 0); /* the PIC waits for an INTA that never comes */
    wr(0x350, 0x10400);          /* masked: no more */
    h_out(&h, 0x20, 1, 0x20);
    h_advance(&h, 300000);
    ck_assert_int_eq(h.nmis, 1);
}
END_TEST

/* IA32_APIC_BASE[11] clear: no APIC (SDM 10.4.3). The page is open bus,
 * the PIC drives INTR, and re-enabled the APIC is in its reset state. */
START_TEST(test_hardware_disabled)
{
    add_pic_apic();
    enable();
    wr(0x80, 0x40);
    wr(0x320, 0x20045);
    wr(0x380, 100000);
    h.apic_base = 0xfee00100u;
    ck_assert_uint_eq(rd(0x30), 0xffffffff);
    ck_assert_uint_eq(rd(0x80), 0xffffffff);
    ck_assert_uint_eq(h_mmio_in(&h, APIC + 0xf0, 1), 0xff);
    wr(0xf0, 0x1ff); /* goes nowhere */
    wr(0x300, 0x40400);
    ck_assert_int_eq(h.nmis, 0);
    pit_start();
    h_advance(&h, 300000);
    ck_assert_int_eq(h.intr, 1);
    ck_assert_int_eq(pdm_get_interrupt_cpu(h.pdm, 0), 0x20);
    h_out(&h, 0x20, 1, 0x20);
    h_out(&h, 0x21, 1, 0xff); /* PIC quiet */
    h_advance(&h, 300000);
    h.apic_base = 0xfee00900u;
    ck_assert_uint_eq(rd(0xf0), 0xff);
    ck_assert_uint_eq(rd(0x80), 0);
    ck_assert_uint_eq(rd(0x320), 0x10000);
    ck_assert_uint_eq(rd(0x380), 0);
    ck_assert_uint_eq(rd(0x30), 0x00050014);
    /* moved elsewhere: not modelled, the old page reads as open bus */
    h.apic_base = 0xfed00900u;
    ck_assert_uint_eq(rd(0x30), 0xffffffff);
    ck_assert(h_logged(&h, "relocation is not supported"));
}
END_TEST

/* Runs the clock for `ns` in 1 us steps, taking (INTA + EOI) what the
 * APIC raises when `ack`; returns the TM callbacks run. */
static unsigned run_us(uint64_t ns, bool ack, unsigned *delivered)
{
    unsigned polls = 0;
    for (uint64_t t = 0; t < ns; t += 1000) {
        h.host_ns += 1000;
        polls += pdm_poll_timers(h.pdm);
        if (ack && h.intr) {
            ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x40);
            wr(0xb0, 0);
            ++*delivered;
        }
    }
    return polls;
}

/* Count 1 at divide-by-1 (1 GHz): at most one interrupt per
 * TM_MIN_PERIOD_NS, the current count still at the programmed rate. */
START_TEST(test_timer_storm_clamped)
{
    ck_assert_int_eq(h_add(&h, "apic", NULL, 0), CAP_OK);
    enable();
    wr(0x3e0, 0xb);
    wr(0x320, 0x20040);
    wr(0x380, 1);
    unsigned got = 0, polls = run_us(10000000, true, &got);
    unsigned max = 10000000 / TM_MIN_PERIOD_NS + 1;
    ck_assert_uint_le(got, max);
    ck_assert_uint_ge(got, max - 5);
    ck_assert_uint_le(polls, max);
    wr(0x380, 1000); /* 1 us: the count moves with every ns */
    uint32_t c1 = rd(0x390);
    h_advance(&h, 37);
    uint32_t c2 = rd(0x390);
    ck_assert_uint_eq((c1 - c2 + 1000) % 1000, 37);
    /* a stall: one interrupt, not a burst */
    while (h.intr) {
        pdm_get_interrupt(h.pdm);
        wr(0xb0, 0);
    }
    h_advance(&h, 10000000000ull);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x40);
    wr(0xb0, 0);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), -1);
}
END_TEST

/* Masked LVT: no callbacks at all, the count still readable; unmasking
 * arms the timer again. Unmasked but never taken (IF=0): one vector in
 * IRR, then nothing until INTA. */
START_TEST(test_timer_masked_or_pending_costs_nothing)
{
    ck_assert_int_eq(h_add(&h, "apic", NULL, 0), CAP_OK);
    enable();
    wr(0x3e0, 0xb);
    wr(0x320, 0x30040); /* periodic, masked */
    wr(0x380, 100);
    ck_assert_uint_eq(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    ck_assert_uint_eq(run_us(10000000, false, NULL), 0);
    uint32_t c = rd(0x390);
    ck_assert(c >= 1 && c <= 100);
    wr(0x320, 0x20040); /* unmasked */
    ck_assert_uint_ne(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    ck_assert_uint_le(run_us(10000000, false, NULL), 1); /* one, then held in IRR */
    ck_assert(irr_bit(0x40));
    ck_assert_uint_eq(tm_next_deadline(h.tm), TM_NO_DEADLINE);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), 0x40);
    ck_assert_int_eq(pdm_get_interrupt(h.pdm), -1); /* one, not a queue */
    uint64_t d = tm_next_deadline(h.tm);
    ck_assert_uint_ne(d, TM_NO_DEADLINE);
    /* the next edge of the programmed period: the last one was long ago */
    ck_assert_uint_le(d - tm_now(h.tm), TM_MIN_PERIOD_NS + 100);
    wr(0xb0, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-apic");
    TCase *tc = tcase_create("apic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registers);
    tcase_add_test(tc, test_virtual_wire);
    tcase_add_test(tc, test_priorities_and_eoi);
    tcase_add_test(tc, test_timer);
    tcase_add_test(tc, test_nmi_init_sipi_errors);
    tcase_add_test(tc, test_reset_and_save);
    tcase_add_test(tc, test_software_disabled);
    tcase_add_test(tc, test_lint0_nmi);
    tcase_add_test(tc, test_hardware_disabled);
    tcase_add_test(tc, test_timer_storm_clamped);
    tcase_add_test(tc, test_timer_masked_or_pending_costs_nothing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
