/*
 * tests/unit/vmproc/test_vmproc.c - the VM process core
 * (plugins/frontends/vmproc/vmproc.c) and the headless frontend
 * (plugins/frontends/headless): whole VMs of a few instruction bytes under
 * the software CPU (--engine rem, no /dev/kvm), with the real device
 * plugins. Exit statuses from debug-exit, power-off and abort; --stats;
 * the device list (--device / --no-device) and its errors; the engine's
 * reason; COM1 through the serial server both ways; SIGTERM through the
 * headless frontend; the CPU profile the guest sees.
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum_profile.h"
#include "headless/headless.h"
#include "serial_server.h"
#include "vmproc_frontends.h"
#include "vmproc_test.h"

/* stderr (fd 2) into `path` until stderr_back. */
static int stderr_to(const char *path)
{
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dup2(fd, 2), 0);
    close(fd);
    return saved;
}

static void stderr_back(int saved)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
}

#define ck_contains(text, part)                                                                    \
    ck_assert_msg((text) && strstr((text), (part)), "'%s' lacks '%s'", (text) ? (text) : "(null)", \
                  (part))

/* Creates the VM of `o` or fails the test with the error info. */
static struct vmproc *create_ok(const struct vmproc_opts *o)
{
    struct vmproc *p = NULL;
    cap_result rc = vmproc_create(o, &p);
    ck_assert_msg(CAP_SUCCEEDED(rc), "vmproc_create: %s (%s)", cap_error_peek_message(),
                  vmm_result_name(rc));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* A scratch folder with the guest as a file, and options for it under
 * rem with debug-exit and no COM1 backend. */
struct scratch {
    char *dir, *kernel, *log, *com1;
    struct vmproc_opts o;
};

static void scratch_up(struct scratch *g, const uint8_t *guest, size_t len)
{
    g->dir = vt_tmpdir();
    g->kernel = vt_write_file(g->dir, "guest.bin", guest, len);
    g->log = vt_path(g->dir, "stderr.txt");
    g->com1 = NULL;
    vt_opts(&g->o, g->kernel, "none");
}

static void scratch_down(struct scratch *g)
{
    free(g->kernel);
    free(g->log);
    free(g->com1);
    vt_rmdir(g->dir);
}

/* ud2 with the loader's IDT limit 0: #UD -> #GP -> #DF -> triple fault */
static const uint8_t guest_ud2[] = {0x0f, 0x0b};
static const size_t guest_ud2_len = sizeof(guest_ud2);

/* mov al,1; out 0xf4,al; hlt; jmp $-1: the guest reports a failure (QEMU's
 * convention: status 3) */
static const uint8_t guest_fail[] = {0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd};
static const size_t guest_fail_len = sizeof(guest_fail);

/* mov dx,0x3cc; in al,dx; out 0xf4,al; hlt; jmp $-1: the guest reports the
 * VGA's misc output register (0xff where there is no VGA) */
static const uint8_t guest_vga_misc[] = {0x66, 0xba, 0xcc, 0x03, 0xec,
                                         0xe6, 0xf4, 0xf4, 0xeb, 0xfd};
static const size_t guest_vga_misc_len = sizeof(guest_vga_misc);

/* ---- running to the end ------------------------------------------------------------ */

/* One VM each, from create to destroy, with stderr captured. */
static const struct {
    const char *name;
    const uint8_t *guest;
    const size_t *len;
    bool stats, no_debug_exit, com1_file, no_com1;
    bool power_off; /* from outside, once it runs */
    const char *device[2], *no_device[2];
    const char *graphics; /* --graphics */
    int status;
    enum vm_state state;
    const char *log[4]; /* what stderr must say */
    const char *not_log;
    const char *await; /* with power_off: logged before the power-off is sent */
} runs[] = {
    {"debug-exit", vt_guest_hello, &vt_guest_hello_len, .com1_file = true, .status = 85,
     .state = VM_STATE_POWERED_OFF, .log = {"capsule-vm: loaded ", "guest wrote 0x2a to port 0xf4"},
     .not_log = "EM statistics"},
    {"stats", vt_guest_hello, &vt_guest_hello_len, .stats = true, .status = 85,
     .state = VM_STATE_POWERED_OFF,
     /* the guest's port writes, by port: three to COM1, one to debug-exit */
     .log = {"== EM statistics", "start to first guest entry",
             "\n/IOM/Ports/0x03f8/Writes 3 count\n", "\n/IOM/Ports/0x00f4/Writes 1 count\n"}},
    {"triple fault", guest_ud2, &guest_ud2_len, .status = VMPROC_EXIT_ABORTED,
     .state = VM_STATE_ABORTED, .log = {"capsule-vm: aborted: triple fault"}},
    /* the guest's failure is not the VMM's: 3, not VMPROC_EXIT_ABORTED */
    {"debug-exit 1", guest_fail, &guest_fail_len, .status = 3, .state = VM_STATE_POWERED_OFF,
     .log = {"guest wrote 0x1 to port 0xf4"}, .not_log = "aborted"},
    {"power-off", vt_guest_spin, &vt_guest_spin_len, .power_off = true, .status = 0,
     .state = VM_STATE_POWERED_OFF, .log = {"powered off on request"}},
    /* keys for default devices, an extra instance, default devices left out */
    {"devices", vt_guest_hello, &vt_guest_hello_len,
     .device = {"rtc,irq=8", "serial,iobase=0x2f8,irq=3,backend=none"},
     .no_device = {"apic", "acpipm"}, .status = 85, .state = VM_STATE_POWERED_OFF},
    /* no COM1 device at all: the guest's writes go nowhere */
    {"no COM1", vt_guest_hello, &vt_guest_hello_len, .no_com1 = true, .status = 85,
     .state = VM_STATE_POWERED_OFF, .log = {"unclaimed port 0x03f8"}},
    /* without debug-exit the OUT to 0xf4 is dropped and the guest halts
     * with IF clear; a power-off from outside ends it with status 0 */
    /* --graphics vga without a BIOS: the VGA in mode 3 (misc 0x67, as a
     * BIOS leaves it); none and the default (a direct boot): no VGA */
    {"graphics vga", guest_vga_misc, &guest_vga_misc_len, .graphics = "vga",
     .status = VMPROC_EXIT_DEBUG(0x67), .state = VM_STATE_POWERED_OFF},
    {"graphics none", guest_vga_misc, &guest_vga_misc_len, .graphics = "none",
     .status = VMPROC_EXIT_DEBUG(0xff), .state = VM_STATE_POWERED_OFF},
    {"graphics default", guest_vga_misc, &guest_vga_misc_len, .status = VMPROC_EXIT_DEBUG(0xff),
     .state = VM_STATE_POWERED_OFF},
    {"no debug-exit", vt_guest_hello, &vt_guest_hello_len, .no_debug_exit = true, .power_off = true,
     .status = 0, .state = VM_STATE_POWERED_OFF, .log = {"unclaimed port 0x00f4"},
     .await = "unclaimed port 0x00f4"},
};

/* capsule-vm's own statuses are even and distinct; a debug-exit status
 * (V<<1)|1 is odd, so none of them can be mistaken for the guest's. */
START_TEST(test_status_values)
{
    const int own[] = {VMPROC_EXIT_OK, VMPROC_EXIT_USAGE, VMPROC_EXIT_FAILURE,
                       VMPROC_EXIT_ABORTED};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        ck_assert_msg(own[i] % 2 == 0 && own[i] < 256, "status %d is not even", own[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_int_ne(own[i], own[j]);
    }
    for (unsigned v = 0; v < 0x200; v++)
        ck_assert_int_eq(VMPROC_EXIT_DEBUG(v) % 2, 1);
    ck_assert_int_eq(VMPROC_EXIT_DEBUG(0x10), 33);
    ck_assert_int_eq(VMPROC_EXIT_DEBUG(0x11), 35);
    ck_assert_int_eq(VMPROC_EXIT_DEBUG(1), 3);
}
END_TEST

/* Waits until `path` contains `want` (NULL: nothing to wait for), at most
 * 10 s times CAPSULE_TIMEOUT_SCALE; the caller's checks report a miss. */
static void wait_logged(const char *path, const char *want)
{
    const char *sc = getenv("CAPSULE_TIMEOUT_SCALE");
    int scale = sc && atoi(sc) > 0 ? atoi(sc) : 1;
    for (int i = 0; want && i < 1000 * scale; i++) {
        fflush(stderr);
        char *text = vt_read_file(path);
        bool found = text && strstr(text, want);
        free(text);
        if (found)
            return;
        usleep(10000);
    }
}

START_TEST(test_run)
{
    struct scratch g;
    scratch_up(&g, runs[_i].guest, *runs[_i].len);
    char *spec = NULL;
    if (runs[_i].com1_file) {
        g.com1 = vt_path(g.dir, "com1.txt");
        ck_assert_int_ge(asprintf(&spec, "file:%s", g.com1), 0);
        g.o.serial = spec;
    }
    if (runs[_i].no_com1)
        g.o.serial = NULL;
    g.o.stats = runs[_i].stats;
    g.o.debug_exit = !runs[_i].no_debug_exit;
    g.o.graphics = runs[_i].graphics;
    for (int i = 0; i < 2; i++) {
        if (runs[_i].device[i])
            g.o.extra_devices[g.o.n_extra_devices++] = runs[_i].device[i];
        if (runs[_i].no_device[i])
            g.o.disabled_devices[g.o.n_disabled_devices++] = runs[_i].no_device[i];
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    g.o.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;

    int saved = stderr_to(g.log);
    struct vmproc *p = create_ok(&g.o);
    ck_assert_int_eq(vmproc_start(p), CAP_OK);
    if (runs[_i].power_off) {
        ck_assert_int_eq(vm_wait(vmproc_vm(p), 100), VM_STATE_RUNNING);
        /* a loaded host may not have run the guest that far yet: wait
         * (bounded) for what the run must have logged before stopping it */
        wait_logged(g.log, runs[_i].await);
        ck_assert_int_eq(vm_power_off(vmproc_vm(p)), CAP_OK);
    }
    enum vm_state st = VM_STATE_RUNNING;
    int status = vmproc_finish(p, &st);
    vmproc_destroy(p);
    stderr_back(saved);

    char *text = vt_read_file(g.log);
    ck_assert_msg(status == runs[_i].status, "%s: status %d, want %d; stderr:\n%s",
                  runs[_i].name, status, runs[_i].status, text);
    ck_assert_int_eq(st, runs[_i].state);
    for (int i = 0; i < 4 && runs[_i].log[i]; i++)
        ck_contains(text, runs[_i].log[i]);
    if (runs[_i].not_log)
        ck_assert_ptr_null(strstr(text, runs[_i].not_log));
    free(text);
    if (g.com1) {
        text = vt_read_file(g.com1);
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(text, "hi\n");
        free(text);
    }
    free(spec);
    scratch_down(&g);
}
END_TEST

/* vmproc_run (start + finish) as standalone main() uses it, and the
 * engine's reason as EM logged it. */
START_TEST(test_run_and_reason)
{
    struct scratch g;
    scratch_up(&g, vt_guest_hello, vt_guest_hello_len);
    struct vmproc *p = create_ok(&g.o);
    ck_assert_ptr_nonnull(vmproc_vm(p));
    ck_assert_int_eq(vm_get_engine(vmproc_vm(p)), VM_ENGINE_REM);
    ck_contains(vmproc_engine_reason(p), "engine rem");
    ck_contains(vmproc_engine_reason(p), "requested");
    ck_assert_int_eq(vmproc_run(p), 85); /* (0x2a << 1) | 1 */
    vmproc_destroy(p);
    vmproc_destroy(NULL);
    scratch_down(&g);
}
END_TEST

/* ---- the device list and setup errors ------------------------------------------------ */

static void expect_create_error(const struct vmproc_opts *o, const char *part)
{
    struct vmproc *p = (struct vmproc *)1;
    cap_result rc = vmproc_create(o, &p);
    ck_assert_msg(CAP_FAILED(rc), "created a VM that should fail with '%s'", part);
    ck_assert_ptr_null(p);
    const char *m = cap_error_peek_message();
    ck_assert_msg(m && strstr(m, part), "message '%s' lacks '%s'", m ? m : "(none)", part);
    cap_error_clear();
}

/* One bad setting each, on the hello guest unless `kernel` names another
 * file of the scratch folder. */
static const struct {
    const char *kernel, *frontend, *serial, *device, *no_device, *cpu_profile, *message;
} bad_setups[] = {
    {.cpu_profile = "pentium", .message = "unknown CPU profile 'pentium' (known: host, "},
    {.kernel = "missing.bin", .message = "missing.bin"},
    {.kernel = "empty.bin", .message = "empty.bin"},
    {.frontend = "qt", .message = "unknown frontend 'qt' (known: headless, sdl, gui)"},
    {.no_device = "rtcx", .message = "--no-device rtcx: not a default device"},
    {.device = ",irq=3", .message = "--device ',irq=3': no device name"},
    {.device = "rtc,irq", .message = "--device 'rtc,irq': 'irq' is not key=value"},
    {.device = "rtc,irq=8,,x=1", .message = "--device 'rtc,irq=8,,x=1': '' is not key=value"},
    {.device = "rtc,k1=1,k2=2,k3=3,k4=4,k5=5,k6=6,k7=7,k8=8,k9=9,k10=10,k11=11,k12=12,k13=13,k14="
               "14,k15=15,k16=16,k17=17,k18=18,k19=19,k20=20,k21=21,k22=22,k23=23,k24=24,k25=25,"
               "k26=26,k27=27,k28=28,k29=29,k30=30,k31=31,k32=32,k33=33,k34=34,k35=35,k36=36,k37="
               "37,k38=38,k39=39,k40=40",
     .message = "rtc: more than 40 config keys"},
    /* typed values: the command line's text is parsed here, the device
     * checks the type */
    {.device = "rtc,irq=eight",
     .message = "rtc0: config key 'irq': expected an integer, got the string 'eight'"},
    {.device = "rtc,base_time=0",
     .message = "expected a string, got the integer 0 (on the command line: key=string:VALUE)"},
    {.device = "rtc,irq=integer:8x", .message = "config key 'irq': 'integer:8x' is not an integer"},
    {.device = "fwcfg,e820=bytes:0g", .message = "config key 'e820': bytes value"},
    {.device = "rtc,irq=99",
     .message = "rtc0: config key 'irq': 99 (0x63) is not an integer in [0, 15]"},
    {.device = "nosuchdevice", .message = "nosuchdevice"},
    {.serial = "file:/nonexistent-vmproc-dir/com1", .message = "/nonexistent-vmproc-dir/com1"},
};

START_TEST(test_create_errors)
{
    struct scratch g;
    scratch_up(&g, vt_guest_hello, vt_guest_hello_len);
    free(vt_write_file(g.dir, "empty.bin", "", 0));
    struct vmproc_opts o;
    for (size_t i = 0; i < sizeof(bad_setups) / sizeof(bad_setups[0]); i++) {
        char *kernel = bad_setups[i].kernel ? vt_path(g.dir, bad_setups[i].kernel) : NULL;
        vt_opts(&o, kernel ? kernel : g.kernel,
                bad_setups[i].serial ? bad_setups[i].serial : "none");
        if (bad_setups[i].frontend)
            o.frontend = bad_setups[i].frontend;
        o.cpu_profile = bad_setups[i].cpu_profile;
        if (bad_setups[i].device)
            o.extra_devices[o.n_extra_devices++] = bad_setups[i].device;
        if (bad_setups[i].no_device)
            o.disabled_devices[o.n_disabled_devices++] = bad_setups[i].no_device;
        expect_create_error(&o, bad_setups[i].message);
        free(kernel);
    }
    /* and a good VM after all of that (nothing left half-built) */
    struct vmproc *p = create_ok(&g.o);
    ck_assert_int_eq(vmproc_run(p), 85);
    vmproc_destroy(p);
    scratch_down(&g);
}
END_TEST

/* More guest RAM than the host has is refused unless forced (issue 19,
 * item 10): RAM is reserved lazily, but the guest may touch all of it. */
START_TEST(test_memory_beyond_host)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t host_mb = (uint64_t)pages * (uint64_t)psz >> 20;
    if (host_mb * 2 > (1u << 20))
        return; /* beyond --memory's range: nothing to refuse */
    struct scratch g;
    scratch_up(&g, vt_guest_hello, vt_guest_hello_len);
    struct vmproc_opts o;
    vt_opts(&o, g.kernel, "none");
    o.memory_mb = host_mb * 2;
    o.force_memory = false;
    expect_create_error(&o, "more than this host's physical memory");
    o.force_memory = true;
    struct vmproc *p = create_ok(&o);
    ck_assert_int_eq(vmproc_run(p), 85);
    vmproc_destroy(p);
    scratch_down(&g);
}
END_TEST

/* ---- the CPU profile ------------------------------------------------------------------- */

/* xor eax,eax; cpuid; mov al,bl; out 0xf4,al; hlt; jmp $-1: the first
 * byte of the vendor string as the debug-exit code ('A' -> 131, 'G' -> 143). */
static const uint8_t guest_vendor[] = {0x31, 0xc0, 0x0f, 0xa2, 0x88, 0xd8,
                                       0xe6, 0xf4, 0xf4, 0xeb, 0xfd};

START_TEST(test_cpu_profile)
{
    static const struct {
        const char *profile; /* NULL: the default */
        char vendor0;        /* 0: the host's */
    } cases[] = {{NULL, 0}, {"host", 0}, {"intel-core", 'G'}, {"amd-epyc", 'A'}};
    char host0 = cpum_host_vendor() == CPUM_VENDOR_AMD ? 'A' : 'G';
    struct scratch g;
    scratch_up(&g, guest_vendor, sizeof(guest_vendor));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        g.o.cpu_profile = cases[i].profile;
        int saved = stderr_to(g.log);
        struct vmproc *p = create_ok(&g.o);
        int status = vmproc_run(p);
        vmproc_destroy(p);
        stderr_back(saved);
        char want = cases[i].vendor0 ? cases[i].vendor0 : host0;
        ck_assert_msg(status == ((want << 1) | 1), "%s: status %d, want %d ('%c')",
                      cases[i].profile ? cases[i].profile : "(default)", status, (want << 1) | 1,
                      want);
        char *text = vt_read_file(g.log);
        char line[64];
        snprintf(line, sizeof(line), "capsule-vm: CPU profile %s: %s",
                 cases[i].profile ? cases[i].profile : "host",
                 want == 'A' ? "AuthenticAMD" : "GenuineIntel");
        ck_contains(text, line);
        free(text);
    }
    scratch_down(&g);
}
END_TEST

/* ---- COM1 through the serial server, both ways --------------------------------------- */

START_TEST(test_serial_server_guest)
{
    struct scratch g;
    scratch_up(&g, vt_guest_echo, vt_guest_echo_len);
    char *sock = vt_path(g.dir, "com1.sock");
    struct serial_server *srv = NULL;
    ck_assert_int_eq(serial_server_create(sock, &srv), CAP_OK);
    g.o.serial = serial_server_device_spec(srv);
    struct vmproc *p = create_ok(&g.o);
    ck_assert_int_eq(vmproc_start(p), CAP_OK);
    int c = vt_connect(sock);
    /* until the relay has the client, what it types is lost: type 'a'
     * until the guest's 'b' comes back */
    char buf[256];
    int linked = 0;
    for (int i = 0; i < 400 && !linked; i++) {
        ck_assert_int_eq(write(c, "a", 1), 1);
        ssize_t n = vt_read_for(c, buf, sizeof(buf), 1, 25);
        for (ssize_t j = 0; j < n; j++)
            linked |= buf[j] == 'b';
    }
    ck_assert_msg(linked, "the guest never echoed through the serial server");
    while (vt_read_for(c, buf, sizeof(buf), 1, 50) > 0)
        ;
    ck_assert_int_eq(write(c, "HAL", 3), 3);
    size_t got = 0;
    while (got < 3) {
        ssize_t n = vt_read_for(c, buf + got, sizeof(buf) - got, 1, 5000);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    buf[got] = '\0';
    ck_assert_str_eq(buf, "IBM");
    /* '.' ends the guest with debug-exit 7 */
    ck_assert_int_eq(write(c, ".", 1), 1);
    ck_assert_int_eq(vmproc_finish(p, NULL), 15);
    vmproc_destroy(p);
    close(c);
    serial_server_destroy(srv);
    free(sock);
    scratch_down(&g);
}
END_TEST

/* ---- the headless frontend ------------------------------------------------------------ */

START_TEST(test_frontend_table)
{
    ck_assert_ptr_eq(vmproc_find_frontend("headless"), &headless_frontend);
    ck_assert_ptr_null(vmproc_find_frontend("Headless"));
    ck_assert_ptr_null(vmproc_find_frontend("vnc"));
    ck_assert_ptr_null(vmproc_find_frontend(""));
    ck_assert_ptr_null(vmproc_find_frontend(NULL));
    ck_assert_str_eq(headless_frontend.name, "headless");
    ck_assert_ptr_nonnull(headless_frontend.description);
    ck_assert_ptr_nonnull(headless_frontend.attach);
    ck_assert_ptr_nonnull(headless_frontend.detach);
    headless_frontend.detach(NULL); /* nothing attached: fine */
}
END_TEST

/* SIGTERM (also SIGINT, SIGHUP) to the process powers the VM off cleanly:
 * status 0; a second signal while it ends is harmless. */
static void signal_powers_off(int sig)
{
    struct scratch g;
    scratch_up(&g, vt_guest_spin, vt_guest_spin_len);
    int saved = stderr_to(g.log);
    struct vmproc *p = create_ok(&g.o);
    ck_assert_int_eq(vmproc_start(p), CAP_OK);
    ck_assert_int_eq(vm_wait(vmproc_vm(p), 100), VM_STATE_RUNNING);
    kill(getpid(), sig);
    kill(getpid(), sig);
    enum vm_state st = VM_STATE_RUNNING;
    int status = vmproc_finish(p, &st);
    vmproc_destroy(p);
    stderr_back(saved);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(st, VM_STATE_POWERED_OFF);
    char *text = vt_read_file(g.log);
    char want[128];
    snprintf(want, sizeof(want), "capsule-vm: %s received: powering the VM off", strsignal(sig));
    ck_contains(text, want);
    free(text);
    scratch_down(&g);
}

START_TEST(test_headless_sigterm)
{
    signal_powers_off(SIGTERM);
}
END_TEST

START_TEST(test_headless_sigint)
{
    signal_powers_off(SIGINT);
}
END_TEST

/* After the VM ended by itself, detach ends the signal thread (the
 * process's signals stay blocked, nothing is left waiting). */
START_TEST(test_headless_detach)
{
    struct scratch g;
    scratch_up(&g, vt_guest_hello, vt_guest_hello_len);
    for (int i = 0; i < 3; i++) {
        struct vmproc *p = create_ok(&g.o);
        ck_assert_int_eq(vmproc_run(p), 85);
        vmproc_destroy(p);
    }
    /* attach/detach with no run in between */
    struct vmproc *p = create_ok(&g.o);
    void *state = NULL;
    struct vm_frontend_env env = {.vm = vmproc_vm(p), .display = vmproc_display(p)};
    ck_assert_ptr_nonnull(env.display);
    ck_assert_int_eq(headless_frontend.attach(&env, &state), CAP_OK);
    ck_assert_ptr_nonnull(state);
    headless_frontend.detach(state);
    vmproc_destroy(p);
    scratch_down(&g);
}
END_TEST

Suite *vmproc_suite(void)
{
    Suite *s = suite_create("vmproc");
    TCase *tc = tcase_create("runs");
    tcase_set_timeout(tc, VT_TIMEOUT);
    tcase_add_test(tc, test_status_values);
    tcase_add_loop_test(tc, test_run, 0, sizeof(runs) / sizeof(runs[0]));
    suite_add_tcase(s, tc);
    VT_CASE(s, "setup", VT_TIMEOUT, test_run_and_reason, test_create_errors, test_memory_beyond_host,
            test_serial_server_guest, test_cpu_profile);
    VT_CASE(s, "headless", VT_TIMEOUT, test_frontend_table, test_headless_sigterm,
            test_headless_sigint, test_headless_detach);
    return s;
}
