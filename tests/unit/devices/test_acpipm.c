/*
 * tests/unit/devices/test_acpipm.c - the ACPI PM block: PM1 status/enable/
 * control semantics, S5 through SLP_TYP + SLP_EN powers off, other sleep
 * types do not, the PM timer runs at 3.579545 MHz on the virtual clock,
 * the power button (status, SCI while enabled, write-1-to-clear), config
 * handling, saved state through the SSM stream.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#define PM1_STS 0x600
#define PM1_EN  0x602
#define PM1_CNT 0x604
#define PM_TMR  0x608
#define SLP_EN  0x2000u
#define PWRBTN  0x0100u

static struct harness h;

static void setup(void)
{
    h_setup(&h);
}

static void teardown(void)
{
    h_teardown(&h);
}

START_TEST(test_registers)
{
    ck_assert_int_eq(h_add(&h, "acpipm", NULL, 0), CAP_OK);
    ck_assert_uint_eq(h_in(&h, PM1_STS, 2), 0);
    ck_assert_uint_eq(h_in(&h, PM1_CNT, 2), 1); /* SCI_EN: always in ACPI mode */
    h_out(&h, PM1_EN, 2, 0x0121);
    ck_assert_uint_eq(h_in(&h, PM1_EN, 2), 0x0121);
    ck_assert_uint_eq(h_in(&h, PM1_EN + 1, 1), 0x01);
    h_out(&h, PM1_STS, 2, 0xffff); /* write-1-to-clear: nothing set, stays 0 */
    ck_assert_uint_eq(h_in(&h, PM1_STS, 2), 0);
    /* SLP_TYP without SLP_EN is just stored; SLP_EN reads 0 */
    h_out(&h, PM1_CNT, 2, 5u << 10);
    ck_assert_uint_eq(h_in(&h, PM1_CNT, 2), (5u << 10) | 1);
    ck_assert_int_eq(h.power_offs, 0);
    /* the 32-bit read of the block's first dword: STS | EN << 16 */
    ck_assert_uint_eq(h_in(&h, PM1_STS, 4), 0x01210000u);
    h_out(&h, PM_TMR, 4, 0x12345678); /* read-only */
    ck_assert_uint_eq(h_in(&h, 0x60c, 1), 0xff); /* past the block: unclaimed */
}
END_TEST

START_TEST(test_s5_powers_off)
{
    ck_assert_int_eq(h_add(&h, "acpipm", NULL, 0), CAP_OK);
    /* what ACPICA does: SLP_TYP first, then SLP_TYP | SLP_EN */
    h_out(&h, PM1_CNT, 2, (5u << 10) | 1);
    ck_assert_int_eq(h.power_offs, 0);
    h_out(&h, PM1_CNT, 2, (5u << 10) | SLP_EN | 1);
    ck_assert_int_eq(h.power_offs, 1);
    ck_assert_int_eq(h.exit_code, -1);
    ck_assert(h_logged(&h, "S5"));
    ck_assert_uint_eq(h_in(&h, PM1_CNT, 2) & SLP_EN, 0);
}
END_TEST

START_TEST(test_other_sleep_types_ignored)
{
    ck_assert_int_eq(h_add(&h, "acpipm", NULL, 0), CAP_OK);
    h_out(&h, PM1_CNT, 2, (1u << 10) | SLP_EN); /* S1 */
    h_out(&h, PM1_CNT + 1, 1, (3u << 2) | 0x20); /* byte write: SLP_TYP 3 | SLP_EN */
    ck_assert_int_eq(h.power_offs, 0);
    ck_assert(h_logged(&h, "not supported"));
    h_out(&h, PM1_CNT + 1, 1, (5u << 2) | 0x20); /* byte write of S5 */
    ck_assert_int_eq(h.power_offs, 1);
}
END_TEST

START_TEST(test_pm_timer)
{
    ck_assert_int_eq(h_add(&h, "acpipm", NULL, 0), CAP_OK);
    uint32_t t0 = h_in(&h, PM_TMR, 4);
    ck_assert_uint_le(t0, 0xffffff);
    h_advance(&h, 1000000000ull);
    uint32_t t1 = h_in(&h, PM_TMR, 4);
    ck_assert_uint_eq((t1 - t0) & 0xffffff, 3579545);
    h_advance(&h, 1000000ull);
    uint32_t t2 = h_in(&h, PM_TMR, 4);
    uint32_t d = (t2 - t1) & 0xffffff;
    ck_assert(d >= 3579 && d <= 3580);
    /* 24 bits: the top byte reads 0; 16-bit halves agree with the dword */
    ck_assert_uint_eq(h_in(&h, PM_TMR + 3, 1), 0);
    ck_assert_uint_eq(h_in(&h, PM_TMR, 2), t2 & 0xffff);
    /* wraps after 2^24 ticks (about 4.69 s) */
    h_advance(&h, 4686956000ull);
    ck_assert_uint_le(h_in(&h, PM_TMR, 4), 0xffffff);
}
END_TEST

START_TEST(test_reset)
{
    ck_assert_int_eq(h_add(&h, "acpipm", NULL, 0), CAP_OK);
    h_out(&h, PM1_EN, 2, 0x0100);
    h_out(&h, PM1_CNT, 2, 3u << 10);
    pdm_reset(h.pdm);
    ck_assert_uint_eq(h_in(&h, PM1_EN, 2), 0);
    ck_assert_uint_eq(h_in(&h, PM1_CNT, 2), 1);
}
END_TEST

START_TEST(test_power_button)
{
    ck_assert_int_eq(pdm_acpi_power_button(h.pdm), CAP_E_NOTIMPL); /* no device yet */
    ck_assert_int_eq(h_add(&h, "acpipm", NULL, 0), CAP_OK);
    /* Not enabled by the guest: the status is set, no SCI. */
    ck_assert_int_eq(pdm_acpi_power_button(h.pdm), CAP_OK);
    ck_assert_uint_eq(h_in(&h, PM1_STS, 2), PWRBTN);
    ck_assert_int_eq(h.irq_level[9], 0);
    ck_assert(h_logged(&h, "not enabled"));
    /* Enabling it with the status pending raises the SCI (IRQ 9, level). */
    h_out(&h, PM1_EN, 2, PWRBTN);
    ck_assert_int_eq(h.irq_level[9], 1);
    h_out(&h, PM1_STS, 2, 0x0001); /* clearing another bit keeps it */
    ck_assert_int_eq(h.irq_level[9], 1);
    h_out(&h, PM1_STS + 1, 1, 0x01); /* write-1-to-clear PWRBTN_STS */
    ck_assert_uint_eq(h_in(&h, PM1_STS, 2), 0);
    ck_assert_int_eq(h.irq_level[9], 0);
    /* Enabled: a press raises it at once, once per press. */
    ck_assert_int_eq(pdm_acpi_power_button(h.pdm), CAP_OK);
    ck_assert_int_eq(h.irq_level[9], 1);
    ck_assert_uint_eq(h.irq_raises[9], 2);
    /* Reset drops it with the registers. */
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.irq_level[9], 0);
    ck_assert_uint_eq(h_in(&h, PM1_STS, 2), 0);
}
END_TEST

/* Saved state: the registers and the SCI level come back; SLP_EN never. */
START_TEST(test_saved_state)
{
    char path[64];
    struct ssm_writer *w;
    struct ssm_reader *r;
    snprintf(path, sizeof path, "/tmp/acpipm-%d.sav", (int)getpid());
    ck_assert_int_eq(h_add(&h, "acpipm", NULL, 0), CAP_OK);
    h_out(&h, PM1_EN, 2, PWRBTN | 0x20);
    h_out(&h, PM1_CNT, 2, 5u << 10);
    ck_assert_int_eq(pdm_acpi_power_button(h.pdm), CAP_OK);
    ck_assert_int_eq(h.irq_level[9], 1);
    ck_assert_int_eq(ssm_writer_create(path, "test_acpipm", &w), CAP_OK);
    ck_assert_int_eq(pdm_save_units(h.pdm, w), CAP_OK);
    ck_assert_int_eq(ssm_writer_commit(w, NULL), CAP_OK);
    pdm_reset(h.pdm);
    ck_assert_int_eq(h.irq_level[9], 0);
    ck_assert_int_eq(ssm_open(path, &r), CAP_OK);
    unlink(path);
    ck_assert_int_eq(pdm_load_units(h.pdm, r), CAP_OK);
    ck_assert_int_eq(ssm_check_all_used(r), CAP_OK);
    struct ssm_unit *u;
    uint16_t v = 0;
    ck_assert_int_eq(ssm_find_unit(r, "acpipm", 0, &u), CAP_OK);
    ck_assert_int_eq(ssm_get_u16(u, "pm1_en", 0, &v), CAP_OK);
    ck_assert_uint_eq(v, PWRBTN | 0x20);
    ssm_close(r);
    ck_assert_uint_eq(h_in(&h, PM1_STS, 2), PWRBTN);
    ck_assert_uint_eq(h_in(&h, PM1_EN, 2), PWRBTN | 0x20);
    ck_assert_uint_eq(h_in(&h, PM1_CNT, 2), (5u << 10) | 1);
    ck_assert_int_eq(h.irq_level[9], 1);
    ck_assert_int_eq(h.power_offs, 0);
}
END_TEST

START_TEST(test_power_button_config)
{
    struct pdm_cfg_kv kv[] = {{"sci_irq", "11"}};
    ck_assert_int_eq(h_add(&h, "acpipm", kv, 1), CAP_OK);
    h_out(&h, PM1_EN, 2, PWRBTN);
    ck_assert_int_eq(pdm_acpi_power_button(h.pdm), CAP_OK);
    ck_assert_int_eq(h.irq_level[11], 1);
    ck_assert_int_eq(h.irq_level[9], 0);
}
END_TEST

START_TEST(test_power_button_disabled)
{
    struct pdm_cfg_kv off[] = {{"enabled", "false"}};
    ck_assert_int_eq(h_add(&h, "acpipm", off, 1), CAP_OK);
    ck_assert_int_eq(pdm_acpi_power_button(h.pdm), CAP_E_NOTIMPL);
    struct pdm_cfg_kv bad[] = {{"sci_irq", "16"}};
    ck_assert_int_eq(h_add(&h, "acpipm", bad, 1), CAP_E_INVALIDARG);
}
END_TEST

START_TEST(test_config)
{
    struct pdm_cfg_kv kv[] = {{"iobase", "0xb000"}, {"s5_type", "7"}};
    ck_assert_int_eq(h_add(&h, "acpipm", kv, 2), CAP_OK);
    h_out(&h, PM1_CNT, 2, (5u << 10) | SLP_EN); /* the default port is unclaimed now */
    h_out(&h, 0xb004, 2, (5u << 10) | SLP_EN); /* not S5 here */
    ck_assert_int_eq(h.power_offs, 0);
    h_out(&h, 0xb004, 2, (7u << 10) | SLP_EN);
    ck_assert_int_eq(h.power_offs, 1);
}
END_TEST

START_TEST(test_bad_config)
{
    struct pdm_cfg_kv typ[] = {{"s5_type", "8"}};
    ck_assert_int_eq(h_add(&h, "acpipm", typ, 1), CAP_E_INVALIDARG);
    struct pdm_cfg_kv typo[] = {{"io_base", "0x600"}};
    ck_assert_int_eq(h_add(&h, "acpipm", typo, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "unknown config key 'io_base'"));
    struct pdm_cfg_kv off[] = {{"enabled", "false"}};
    ck_assert_int_eq(h_add(&h, "acpipm", off, 1), CAP_OK);
    ck_assert(!iom_io_claimed(h.iom, 0x600));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dev-acpipm");
    TCase *tc = tcase_create("acpipm");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registers);
    tcase_add_test(tc, test_s5_powers_off);
    tcase_add_test(tc, test_other_sleep_types_ignored);
    tcase_add_test(tc, test_pm_timer);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_power_button);
    tcase_add_test(tc, test_saved_state);
    tcase_add_test(tc, test_power_button_config);
    tcase_add_test(tc, test_power_button_disabled);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
