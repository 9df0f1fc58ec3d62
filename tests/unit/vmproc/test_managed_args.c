/*
 * tests/unit/vmproc/test_managed_args.c - the managed mode's translation of
 * a machine's firmware, boot order and drives into capsule-vm's own
 * options (managed_build_args, managed.h): the exact argument vector, and
 * that the standalone parser takes the firmware half of it.
 */
#include <stdio.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "managed.h"
#include "vmproc_test.h"

/* argv[1..] joined by spaces. */
static char *joined(int argc, char **argv)
{
    static char buf[1024];
    buf[0] = '\0';
    for (int i = 1; i < argc; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i > 1 ? " " : "", argv[i]);
    return buf;
}

START_TEST(test_bios_drives)
{
    struct managed_boot b = {
        .bios = true,
        .vga = true,
        .boot = {DeviceType_DVD, DeviceType_HardDisk, DeviceType_DVD, DeviceType_Null},
        .kernel = "/ignored/with/bios"};
    struct managed_drive d[] = {
        {.bus = "ide",
         .port = 1,
         .device = 0,
         .cdrom = true,
         .format = "iso",
         .file = "/media/a,b.iso"},
        {.bus = "ide", .port = 1, .device = 1, .cdrom = true},
        {.bus = "sata", .port = 0, .device = 0, .format = "vdi", .file = "/d/disk.vdi"},
        {.bus = "virtio",
         .port = 15,
         .device = 0,
         .readonly = true,
         .format = "raw",
         .file = "/d/ro.img"},
    };
    int argc = 0;
    char **argv = NULL;
    ck_assert_int_eq(managed_build_args(&b, d, 4, &argc, &argv), CAP_OK);
    ck_assert_int_eq(argc, 15);
    ck_assert_ptr_null(argv[argc]);
    ck_assert_str_eq(argv[0], "capsule-vm");
    ck_assert_str_eq(joined(argc, argv),
                     "--firmware bios --boot dvd,disk --graphics vga "
                     "--drive if=ide,port=1,device=0,media=cdrom,format=iso,file=/media/a,b.iso "
                     "--drive if=ide,port=1,device=1,media=cdrom "
                     "--drive if=sata,port=0,device=0,media=disk,format=vdi,file=/d/disk.vdi "
                     "--drive if=virtio,port=15,device=0,media=disk,readonly=on,format=raw,"
                     "file=/d/ro.img");
    managed_args_free(argc, argv);
    /* Without drives, the standalone parser takes it as it is. */
    ck_assert_int_eq(managed_build_args(&b, NULL, 0, &argc, &argv), CAP_OK);
    struct vmproc_opts o;
    vmproc_opts_init(&o);
    ck_assert_int_eq(vmproc_parse_args(argc, argv, &o, stdout, stderr), 0);
    ck_assert(vmproc_opts_bios(&o));
    ck_assert_str_eq(o.boot_order, "dvd,disk");
    ck_assert_str_eq(o.graphics, "vga");
    ck_assert_ptr_null(o.kernel);
    managed_args_free(argc, argv);
}
END_TEST

START_TEST(test_direct_boot)
{
    struct managed_boot b = {.kernel = "/k/bzImage", .initrd = "", .append = "console=ttyS0"};
    struct managed_drive d = {.bus = "sata", .file = "/d/x.vdi"};
    int argc = 0;
    char **argv = NULL;
    ck_assert_int_eq(managed_build_args(&b, &d, 1, &argc, &argv), CAP_OK);
    ck_assert_str_eq(joined(argc, argv),
                     "--kernel /k/bzImage --append console=ttyS0 --graphics none --drive "
                     "if=sata,port=0,device=0,media=disk,file=/d/x.vdi");
    managed_args_free(argc, argv);
    ck_assert_int_eq(managed_build_args(&b, NULL, 0, &argc, &argv), CAP_OK);
    struct vmproc_opts o;
    vmproc_opts_init(&o);
    ck_assert_int_eq(vmproc_parse_args(argc, argv, &o, stdout, stderr), 0);
    ck_assert_str_eq(o.kernel, "/k/bzImage");
    ck_assert_str_eq(o.append, "console=ttyS0");
    ck_assert_ptr_null(o.initrd);
    ck_assert_str_eq(o.graphics, "none"); /* the machine's, said even where it is the default */
    ck_assert(!vmproc_opts_bios(&o));
    managed_args_free(argc, argv);
}
END_TEST

START_TEST(test_refusals)
{
    struct managed_boot b = {.bios = true};
    int argc = 0;
    char **argv = NULL;
    ck_assert_int_eq(managed_build_args(&b, NULL, 0, &argc, &argv), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "boot order is empty"));
    ck_assert_ptr_null(argv);
    b.bios = false;
    ck_assert_int_eq(managed_build_args(&b, NULL, 0, &argc, &argv), CAP_E_FILE_ERROR);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "--firmware bios"));
    cap_error_clear();
}
END_TEST

Suite *managed_args_suite(void)
{
    Suite *s = suite_create("managed_args");
    VT_CASE(s, "args", 0, test_bios_drives, test_direct_boot, test_refusals);
    return s;
}
