/*
 * test_files.c - loading from files: a multiboot a.out image written to a
 * temporary file, a missing file (the message names the path), no kernel
 * at all, no RAM at 0, and - only when the host has one - a real kernel
 * from /boot (the suite never depends on it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "loader_test.h"

START_TEST(files_load)
{
    char path[] = "/tmp/capsule-loader-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    uint8_t img[0x300] = { 0 };
    wr32(img + 0x10, 0x1badb002);
    wr32(img + 0x14, 0x10000);
    wr32(img + 0x18, (uint32_t)-(0x1badb002u + 0x10000));
    wr32(img + 0x1c, 0x100010); /* header_addr */
    wr32(img + 0x20, 0x100000); /* load_addr */
    wr32(img + 0x2c, 0x100100); /* entry */
    img[0x100] = 0xf4;
    ck_assert_int_eq(write(fd, img, sizeof(img)), (int)sizeof(img));
    close(fd);

    struct tvm vm;
    tvm_init(&vm, 8 * MiB, 0);
    struct loader_params p = { .kernel_path = path, .initrd_path = path, .cmdline = "a b" };
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &p, &vm.info), CAP_OK);
    ck_assert_int_eq(vm.info.format, LOADER_MULTIBOOT);
    ck_assert_uint_eq(*gp(&vm, 0x100100, 1), 0xf4);
    ck_assert_uint_eq(vm.cpu.ctx.rip, 0x100100);
    /* the command line is "PATH a b" (GRUB, QEMU); the module string the initrd's path */
    char want[sizeof(path) + 4];
    snprintf(want, sizeof(want), "%s a b", path);
    ck_assert_str_eq((char *)gp(&vm, rd32(gp(&vm, 0x7000 + 16, 4)), sizeof(want)), want);
    /* the module string is the initrd's path */
    uint8_t *mod = gp(&vm, rd32(gp(&vm, 0x7000 + 24, 4)), 16);
    ck_assert_str_eq((char *)gp(&vm, rd32(mod + 8), sizeof(path)), path);
    tvm_fini(&vm);

    tvm_init(&vm, 8 * MiB, 0);
    struct loader_params q = { .kernel_path = "/nonexistent/bzImage" };
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &q, NULL), CAP_E_IO);
    take_message();
    ck_assert_msg_has("/nonexistent/bzImage");
    ck_assert_msg_has("No such file");
    struct loader_params r = { .kernel_path = path, .initrd_path = "/nonexistent/initrd" };
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &r, NULL), CAP_E_IO);
    take_message();
    ck_assert_msg_has("/nonexistent/initrd");
    struct loader_params s = { 0 };
    ck_assert_int_eq(loader_load(vm.pgm, &vm.cpu, &s, NULL), CAP_E_INVALIDARG);
    take_message();
    ck_assert_msg_has("no kernel");
    assert_untouched(&vm);
    tvm_fini(&vm);
    unlink(path);
}
END_TEST

START_TEST(files_no_low_ram)
{
    struct pgm *pgm;
    struct cpum_policy pol;
    struct cpum_cpu cpu;
    uint8_t img[16] = { 0 };
    ck_assert_int_eq(pgm_create(&pgm), CAP_OK);
    ck_assert_int_eq(pgm_map_ram(pgm, 0x100000, 8 * MiB, "ram"), CAP_OK);
    cpum_policy_init(&pol, 1, NULL);
    cpum_cpu_init(&cpu, &pol, 0);
    struct loader_params p = { .kernel_buf = img, .kernel_len = sizeof(img),
                               .format = LOADER_FLAT };
    ck_assert_int_eq(loader_load(pgm, &cpu, &p, NULL), VMM_E_LOADER_NO_ROOM);
    take_message();
    ck_assert_msg_has("address 0");
    pgm_destroy(pgm);
}
END_TEST

/* Loads a real distribution kernel: registered only when CAPSULE_LINUX_KERNEL
 * names one (the guest-fetching scripts set it), and then it must pass. */
START_TEST(files_real_kernel)
{
    const char *path = getenv("CAPSULE_LINUX_KERNEL");
    ck_assert_ptr_nonnull(path);
    ck_assert_msg(access(path, R_OK) == 0, "CAPSULE_LINUX_KERNEL=%s is not readable", path);
    struct tvm vm;
    tvm_init(&vm, 512 * MiB, 0);
    struct loader_params p = { .kernel_path = path, .cmdline = "console=ttyS0" };
    cap_result rc = loader_load(vm.pgm, &vm.cpu, &p, &vm.info);
    take_message();
    ck_assert_msg(rc == CAP_OK, "%s: %s", path, last_msg);
    ck_assert_int_eq(vm.info.format, LOADER_LINUX);
    fprintf(stderr, "loader: %s: %s\n", path, vm.info.description);
    tvm_fini(&vm);
}
END_TEST

TCase *tcase_files(void)
{
    TCase *tc = tcase_create("files");
    tcase_add_test(tc, files_load);
    tcase_add_test(tc, files_no_low_ram);
    if (getenv("CAPSULE_LINUX_KERNEL"))
        tcase_add_test(tc, files_real_kernel);
    tcase_set_timeout(tc, 30);
    return tc;
}
