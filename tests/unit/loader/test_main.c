/*
 * test_main.c - the loader suite: a small VM per test, synthetic images of
 * every format built in the tests, the guest RAM and vCPU state checked
 * after a load, and every class of bad image checked to fail with a clear
 * message before anything is written.
 */
#include <stdio.h>
#include <stdlib.h>

#include <capsule/errorinfo.h>

#include "loader_test.h"

char last_msg[1024];

const char *take_message(void)
{
    struct cap_error_info info;
    last_msg[0] = '\0';
    if (cap_error_take(&info) == 0 && info.message)
        snprintf(last_msg, sizeof(last_msg), "%s", info.message);
    cap_error_info_clear(&info);
    return last_msg;
}

static cap_result nop_read(void *opaque, uint64_t off, void *data, unsigned size)
{
    memset(data, 0xff, size);
    return CAP_OK;
}

static cap_result nop_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
    return CAP_OK;
}

static const struct pgm_mmio_ops nop_ops = { .read = nop_read, .write = nop_write };

void tvm_init(struct tvm *vm, uint64_t ram, int mmio)
{
    memset(vm, 0, sizeof(*vm));
    ck_assert_int_eq(pgm_create(&vm->pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(vm->pgm, 0, ram, "ram"), CAP_OK);
    if (mmio)
        ck_assert_int_eq(pgm_map_mmio(vm->pgm, 0xfec00000, 0x1000, &nop_ops, NULL, "ioapic"),
                         CAP_OK);
    ck_assert_int_eq(cpum_policy_init(&vm->policy, 1, NULL), CAP_OK);
    cpum_cpu_init(&vm->cpu, &vm->policy, 0);
}

void tvm_fini(struct tvm *vm)
{
    pgm_destroy(vm->pgm);
}

uint8_t *gp(struct tvm *vm, uint64_t gpa, size_t len)
{
    uint8_t *p = pgm_gpa_to_hva(vm->pgm, gpa, len, 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

void assert_untouched(struct tvm *vm)
{
    ck_assert_msg(all_zero(gp(vm, 0, 0x9fc00), 0x9fc00), "low memory written");
    ck_assert_msg(all_zero(gp(vm, 0x100000, 0x100000), 0x100000), "memory at 1 MiB written");
    ck_assert_uint_eq(vm->cpu.ctx.rip, 0xfff0);
    ck_assert_uint_eq(vm->cpu.ctx.seg[CPUM_CS].sel, 0xf000);
}

cap_result load_buf(struct tvm *vm, const void *img, size_t len, enum loader_format fmt,
                    enum loader_entry entry, const char *cmdline, const void *initrd,
                    size_t initrd_len)
{
    struct loader_params p = {
        .kernel_buf = img, .kernel_len = len, .kernel_name = "test-kernel",
        .initrd_buf = initrd, .initrd_len = initrd_len, .initrd_name = "test-initrd",
        .cmdline = cmdline, .format = fmt, .entry = entry,
    };
    cap_error_clear();
    cap_result rc = loader_load(vm->pgm, &vm->cpu, &p, &vm->info);
    take_message();
    if (rc != CAP_OK && !last_msg[0])
        ck_abort_msg("failure 0x%x without error info", (unsigned)rc);
    return rc;
}

cap_result load_probed(struct tvm *vm, const void *img, size_t len)
{
    struct loader_params p = {
        .kernel_buf = img, .kernel_len = len, .kernel_name = "test-kernel",
        .flat_fallback = 1, /* as capsule-vm loads a kernel */
    };
    cap_error_clear();
    cap_result rc = loader_load(vm->pgm, &vm->cpu, &p, &vm->info);
    take_message();
    if (rc != CAP_OK && !last_msg[0])
        ck_abort_msg("failure 0x%x without error info", (unsigned)rc);
    return rc;
}

int main(void)
{
    Suite *s = suite_create("loader");
    suite_add_tcase(s, tcase_linux());
    suite_add_tcase(s, tcase_linux_bad());
    suite_add_tcase(s, tcase_acpi());
    suite_add_tcase(s, tcase_multiboot());
    suite_add_tcase(s, tcase_multiboot_bad());
    suite_add_tcase(s, tcase_flat());
    suite_add_tcase(s, tcase_files());
    suite_add_tcase(s, tcase_vmlinux());
    suite_add_tcase(s, tcase_firmware());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
