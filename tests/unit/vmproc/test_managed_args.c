/*
 * tests/unit/vmproc/test_managed_args.c - the managed mode's translation of
 * a machine's firmware, boot order and drives into capsule-vm's own
 * options (managed_build_args, managed.h): the exact argument vector, and
 * that the standalone parser takes the firmware half of it; the network
 * adapters as --nic options (managed_build_nic_args), which the
 * standalone parser takes too, and the API's rule form as a forward
 * (vmproc_parse_natpf, controlvm natpfN).
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

START_TEST(test_nics)
{
    static const char *const rules[] = {"ssh,tcp,127.0.0.1,2222,,22", "dns,udp,,5353,10.0.2.15,53"};
    struct managed_nic n[] = {
        {.slot = 0,
         .mac = "080027AB12CD",
         .cable = true,
         .nat = true,
         .rules = rules,
         .n_rules = 2},
        {.slot = 2, .virtio = true, .mac = "0A0027000001", .nat = true, .trace = "/t/a,b.pcap"},
    };
    struct managed_boot b = {.kernel = "/k"};
    int argc = 0;
    char **argv = NULL;
    ck_assert_int_eq(managed_build_args(&b, NULL, 0, &argc, &argv), CAP_OK);
    ck_assert_int_eq(managed_build_nic_args(n, 2, &argc, &argv), CAP_OK);
    ck_assert_ptr_null(argv[argc]);
    ck_assert_str_eq(joined(argc, argv),
                     "--kernel /k --graphics none "
                     "--nic nat,model=e1000,mac=08:00:27:AB:12:CD,link=on,"
                     "hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.0.2.15:53 "
                     "--nic nat,model=virtio,mac=0A:00:27:00:00:01,link=off,trace=/t/a,b.pcap");
    /* the standalone parser takes them as they are */
    struct vmproc_opts o;
    vmproc_opts_init(&o);
    ck_assert_int_eq(vmproc_add_nic(&o, argv[6], stderr), 0);
    ck_assert_int_eq(vmproc_add_nic(&o, argv[8], stderr), 0);
    ck_assert_str_eq(o.nics[0].mac, "08:00:27:AB:12:CD");
    ck_assert_uint_eq(o.nics[0].n_fwd, 2);
    ck_assert_uint_eq(o.nics[0].fwd[0].host_addr, 0x7f000001u);
    ck_assert_uint_eq(o.nics[0].fwd[1].host_addr, 0x7f000001u); /* loopback by default */
    ck_assert_uint_eq(o.nics[0].fwd[1].guest_addr, 0x0a00020fu);
    ck_assert(o.nics[0].fwd[1].udp);
    ck_assert(!o.nics[1].link);
    ck_assert_str_eq(o.nics[1].model, "virtio");
    ck_assert_str_eq(o.nics[1].trace, "/t/a,b.pcap");
    /* an adapter attached to nothing: refused, the vector as it was */
    int before = argc;
    n[1].nat = false;
    ck_assert_int_eq(managed_build_nic_args(n, 2, &argc, &argv), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(
        strstr(cap_error_peek_message(), "network adapter 3 is attached to nothing"));
    ck_assert_int_eq(argc, before);
    n[1].nat = true;
    static const char *const bad[] = {"ssh,tcp,,2222,22"};
    n[0].rules = bad;
    n[0].n_rules = 1;
    ck_assert_int_eq(managed_build_nic_args(n, 1, &argc, &argv), CAP_E_INVALIDARG);
    ck_assert_int_eq(argc, before);
    cap_error_clear();
    managed_args_free(argc, argv);
}
END_TEST

START_TEST(test_natpf_rule)
{
    struct vmproc_hostfwd f;
    char name[64], why[200];
    ck_assert_int_eq(vmproc_parse_natpf("web,tcp,,8080,10.0.2.16,80", &f, name, why, sizeof(why)),
                     0);
    ck_assert_str_eq(name, "web");
    ck_assert(!f.udp);
    ck_assert_uint_eq(f.host_addr, 0x7f000001u); /* 127.0.0.1 unless given */
    ck_assert_uint_eq(f.host_port, 8080);
    ck_assert_uint_eq(f.guest_addr, 0x0a000210u);
    ck_assert_uint_eq(f.guest_port, 80);
    ck_assert_int_eq(vmproc_parse_natpf("w,udp,0.0.0.0,53,,53", &f, name, why, sizeof(why)), 0);
    ck_assert(f.udp);
    ck_assert_uint_eq(f.host_addr, 0);
    ck_assert_uint_eq(f.guest_addr, 0); /* the guest's DHCP address */
    ck_assert_int_eq(vmproc_parse_natpf("w,tcp,,0,,53", &f, name, why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "'w,tcp,,0,,53' has a port"));
}
END_TEST

Suite *managed_args_suite(void)
{
    Suite *s = suite_create("managed_args");
    VT_CASE(s, "args", 0, test_bios_drives, test_direct_boot, test_refusals, test_nics,
            test_natpf_rule);
    return s;
}
