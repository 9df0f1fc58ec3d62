/*
 * tests/unit/em/test_em_kvm.c - a real VM driven through the EM API, once
 * under hm (/dev/kvm) and once under rem: pause, resume, reset and
 * power-off from another thread while the guest is in the engine or
 * halted; two VMs in one process; the port I/O exit round trip through the
 * whole EM + IOM path; rem's speed on a spinning loop inside a VM; the
 * engine per CPU mode (a real-mode guest toggling CR0.PE: the log line of
 * each mode's first entry, the counters, and under auto with hm picked the
 * hand-overs between rem and hm). Without a
 * usable /dev/kvm the hm half is skipped and counted (tests/lib/testskip.h)
 * and the rem half runs as always.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "em/em.h"
#include "iom/iom.h"
#include "loader/loader.h"
#include "stam/stam.h"
#include "testskip.h"

/* xor eax,eax; l: inc eax; out 0x80,al; jmp l */
static const uint8_t ioloop[] = {0x31, 0xc0, 0x40, 0xe6, 0x80, 0xeb, 0xfb};
/* cli; hlt; jmp $-1 */
static const uint8_t cli_hlt[] = {0xfa, 0xf4, 0xeb, 0xfd};

struct guest {
    struct vm *vm;
    const uint8_t *code;
    size_t len;
    uint64_t outs; /* OUTs to port 0x80 */
    int first;     /* the first value written to port 0x80, -1: none yet */
};

static cap_result port80(void *user, uint16_t port, unsigned size, bool write, uint32_t *val)
{
    struct guest *g = user;
    if (!write)
        *val = 0xff;
    else if (__atomic_add_fetch(&g->outs, 1, __ATOMIC_RELAXED) == 1)
        __atomic_store_n(&g->first, (int)(*val & 0xff), __ATOMIC_RELAXED);
    return CAP_OK;
}

static cap_result load(struct guest *g, struct vm *vm)
{
    struct loader_params lp = {.kernel_buf = g->code,
                               .kernel_len = g->len,
                               .format = LOADER_FLAT,
                               .entry = LOADER_ENTRY_PROTECTED};
    return loader_load(vm_pgm(vm), vm_cpu(vm, 0), &lp, NULL);
}

static cap_result reset_hook(void *ctx, struct vm *vm)
{
    return load(ctx, vm);
}

static void quiet(void *ctx, const char *who, enum vm_log_level l, const char *msg)
{
    (void)ctx, (void)who, (void)l, (void)msg;
}

/* Each control test runs once per engine (a Check loop test: _i). */
static const enum vm_engine engines[] = {VM_ENGINE_HM, VM_ENGINE_REM};
#define ENGINE engines[_i]

static void guest_create_ram(struct guest *g, enum vm_engine engine, const uint8_t *code,
                             size_t len, uint64_t ram)
{
    memset(g, 0, sizeof(*g));
    g->code = code;
    g->len = len;
    g->first = -1;
    struct vm_config c = {.ram_bytes = ram,
                          .ncpus = 1,
                          .engine = engine,
                          .log = quiet,
                          .reset_hook = reset_hook,
                          .reset_ctx = g};
    cap_result rc = vm_create(&c, &g->vm);
    ck_assert_msg(CAP_SUCCEEDED(rc), "vm_create: %s", cap_error_peek_message());
    ck_assert_int_eq(iom_register_io(vm_iom(g->vm), 0x80, 1, 0, port80, g, "test"), CAP_OK);
    ck_assert_int_eq(load(g, g->vm), CAP_OK);
}

static void guest_create(struct guest *g, enum vm_engine engine, const uint8_t *code, size_t len)
{
    guest_create_ram(g, engine, code, len, 4 << 20);
}

static uint64_t outs(struct guest *g)
{
    return __atomic_load_n(&g->outs, __ATOMIC_RELAXED);
}

/* CAPSULE_TIMEOUT_SCALE (6 under asan=1): the waits below bound a hung VM
 * only, and a loaded or sanitized host needs longer to get there. */
static int scale(void)
{
    const char *s = getenv("CAPSULE_TIMEOUT_SCALE");
    int v = s ? atoi(s) : 1;
    return v > 0 ? v : 1;
}

static void wait_outs(struct guest *g, uint64_t n)
{
    for (int i = 0; i < 5000 * scale() && outs(g) < n; i++)
        usleep(1000);
    ck_assert_uint_ge(outs(g), n);
}

/* Waits until the vCPU thread has halted at least once (bounded). */
static void wait_halted(struct guest *g)
{
    struct stam_value halt;
    stam_get(vm_stam(g->vm), "/EM/Halt", &halt);
    for (int i = 0; i < 5000 * scale() && halt.count < 1; i++) {
        usleep(1000);
        stam_get(vm_stam(g->vm), "/EM/Halt", &halt);
    }
    ck_assert_uint_ge(halt.count, 1);
}

START_TEST(pause_resume_power_off)
{
    struct guest g;
    guest_create(&g, ENGINE, ioloop, sizeof(ioloop));
    ck_assert_int_eq(vm_get_state(g.vm), VM_STATE_CREATED);
    ck_assert_int_eq(vm_resume(g.vm), VMM_E_BAD_STATE);
    ck_assert_int_eq(vm_start(g.vm), CAP_OK);
    ck_assert_int_eq(vm_start(g.vm), VMM_E_BAD_STATE);
    wait_outs(&g, 100);
    ck_assert_int_eq(vm_pause(g.vm), CAP_OK);
    ck_assert_int_eq(vm_get_state(g.vm), VM_STATE_PAUSED);
    uint64_t n = outs(&g);
    usleep(20000);
    ck_assert_uint_eq(outs(&g), n); /* really parked */
    ck_assert_int_eq(vm_resume(g.vm), CAP_OK);
    ck_assert_int_eq(vm_get_state(g.vm), VM_STATE_RUNNING);
    wait_outs(&g, n + 100);
    /* reset: the hook reloads the image and the guest runs on */
    ck_assert_int_eq(vm_reset(g.vm), CAP_OK);
    n = outs(&g);
    wait_outs(&g, n + 100);
    ck_assert_int_eq(vm_power_off(g.vm), CAP_OK);
    ck_assert_int_eq(vm_wait(g.vm, 5000 * scale()), VM_STATE_POWERED_OFF);
    struct vm_stop_info si;
    vm_get_stop_info(g.vm, &si);
    ck_assert_int_eq(si.reason, VM_STOP_USER_POWER_OFF);
    ck_assert_int_eq(vm_power_off(g.vm), VMM_E_BAD_STATE);
    struct stam *st = vm_stam(g.vm);
    ck_assert_uint_eq(stam_value(st, "/EM/Resets"), 1);
    ck_assert_uint_ge(stam_value(st, "/EM/Kicks"), 2);
    ck_assert_uint_ge(stam_value(st, "/EM/Exits/io"), 300);
    cap_error_clear();
    vm_destroy(g.vm);
}
END_TEST

/* vm_save_state / vm_restore_state: only paused / not started; the
 * restored VM goes on with the saved EAX (the loop's next OUT writes it or
 * the next value), under the same engine and the other; another RAM size
 * is refused before anything is applied. */
START_TEST(save_restore)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/em-kvm-%d.sav", (int)getpid());
    struct guest g, r, x;
    guest_create(&g, ENGINE, ioloop, sizeof(ioloop));
    ck_assert_int_eq(vm_save_state(g.vm, path, "test", NULL), VMM_E_BAD_STATE);
    ck_assert_int_eq(vm_start(g.vm), CAP_OK);
    wait_outs(&g, 1000);
    ck_assert_int_eq(vm_save_state(g.vm, path, "test", NULL), VMM_E_BAD_STATE);
    ck_assert_int_eq(vm_pause(g.vm), CAP_OK);
    uint64_t bytes = 0;
    ck_assert_int_eq(vm_save_state(g.vm, path, "test", &bytes), CAP_OK);
    ck_assert_uint_gt(bytes, 0);
    uint64_t eax = vm_cpu(g.vm, 0)->ctx.gpr[CPUM_RAX];
    ck_assert_uint_ge(eax, 1000);
    ck_assert_int_eq(vm_restore_state(g.vm, path), VMM_E_BAD_STATE); /* not CREATED */
    vm_destroy(g.vm);

    for (int other = 0; other < 2; other++) {
        guest_create(&r, other ? engines[1 - _i] : ENGINE, ioloop, sizeof(ioloop));
        ck_assert_msg(vm_restore_state(r.vm, path) == CAP_OK, "%s", cap_error_peek_message());
        ck_assert_uint_eq(vm_cpu(r.vm, 0)->ctx.gpr[CPUM_RAX], eax);
        ck_assert_int_eq(vm_start(r.vm), CAP_OK);
        wait_outs(&r, 10);
        int first = __atomic_load_n(&r.first, __ATOMIC_RELAXED);
        ck_assert_msg(first == (int)(eax & 0xff) || first == (int)((eax + 1) & 0xff),
                      "saved EAX %llu, first OUT after the restore %d", (unsigned long long)eax,
                      first);
        vm_destroy(r.vm);
    }

    guest_create_ram(&x, ENGINE, ioloop, sizeof(ioloop), 8 << 20);
    ck_assert_int_eq(vm_restore_state(x.vm, path), VMM_E_SSM_FIELD);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "RAM of 4 MiB, this VM has 8 MiB"));
    ck_assert_uint_eq(vm_cpu(x.vm, 0)->ctx.gpr[CPUM_RAX], 0); /* nothing applied */
    cap_error_clear();
    vm_destroy(x.vm);
    unlink(path);
}
END_TEST

START_TEST(power_off_while_paused_and_halted)
{
    struct guest g;
    guest_create(&g, ENGINE, cli_hlt, sizeof(cli_hlt));
    ck_assert_int_eq(vm_start(g.vm), CAP_OK);
    wait_halted(&g); /* halted for good: cli; hlt, no timers */
    ck_assert_int_eq(vm_pause(g.vm), CAP_OK);
    ck_assert_int_eq(vm_resume(g.vm), CAP_OK);
    usleep(5000);
    ck_assert_int_eq(vm_pause(g.vm), CAP_OK);
    ck_assert_int_eq(vm_power_off(g.vm), CAP_OK);
    ck_assert_int_eq(vm_wait(g.vm, 5000 * scale()), VM_STATE_POWERED_OFF);
    struct stam_value halt;
    stam_get(vm_stam(g.vm), "/EM/Halt", &halt);
    ck_assert_uint_ge(halt.count, 1);
    ck_assert_uint_le(stam_value(vm_stam(g.vm), "/EM/Runs"), 10); /* no busy loop while halted */
    vm_destroy(g.vm);
}
END_TEST

START_TEST(two_vms_one_process)
{
    struct guest a, b;
    guest_create(&a, ENGINE, ioloop, sizeof(ioloop));
    guest_create(&b, ENGINE, ioloop, sizeof(ioloop));
    ck_assert_int_eq(vm_start(a.vm), CAP_OK);
    ck_assert_int_eq(vm_start(b.vm), CAP_OK);
    wait_outs(&a, 200);
    wait_outs(&b, 200);
    ck_assert_int_eq(vm_pause(a.vm), CAP_OK);
    uint64_t n = outs(&b);
    wait_outs(&b, n + 100); /* b runs on while a is paused */
    vm_destroy(a.vm);       /* powers off and joins */
    ck_assert_int_eq(vm_get_state(b.vm), VM_STATE_RUNNING);
    vm_destroy(b.vm);
}
END_TEST

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

START_TEST(io_exit_round_trip)
{
    struct guest g;
    guest_create(&g, ENGINE, ioloop, sizeof(ioloop));
    ck_assert_int_eq(vm_start(g.vm), CAP_OK);
    wait_outs(&g, 200);
    uint64_t n0 = outs(&g);
    double t0 = now_us();
    usleep(300000);
    uint64_t n = outs(&g) - n0;
    double dt = now_us() - t0;
    vm_power_off(g.vm);
    vm_wait(g.vm, 5000 * scale());
    printf("em (%s): CPL0 OUT exit round trip through EM+IOM: %.2f us (%llu exits in %.0f ms)\n",
           vm_engine_name(ENGINE), dt / (double)n, (unsigned long long)n, dt / 1000);
    vm_print_stats(g.vm, stdout);
    vm_destroy(g.vm);
}
END_TEST

/* inc eax; jmp $-1: the two-instruction loop QEMU's TCG runs at ~510 MIPS here */
static const uint8_t spin[] = {0x40, 0xeb, 0xfd};

START_TEST(rem_mips)
{
    struct guest g;
    guest_create(&g, VM_ENGINE_REM, spin, sizeof(spin));
    ck_assert_int_eq(vm_start(g.vm), CAP_OK);
    usleep(300000);
    /* progress only (ASan builds run ~10x slower, a loaded host gives the
     * vCPU thread less): wait, bounded, until it has some */
    struct stam *st = vm_stam(g.vm);
    for (int i = 0; i < 1000 * scale() && stam_value(st, "/REM/Insns") <= 100000; i++)
        usleep(10000);
    vm_power_off(g.vm);
    ck_assert_int_eq(vm_wait(g.vm, 5000 * scale()), VM_STATE_POWERED_OFF);
    uint64_t insns = stam_value(st, "/REM/Insns"), rem_ns = stam_value(st, "/EM/RemNs");
    ck_assert_uint_gt(insns, 100000);
    printf("em (rem): 2-instruction CPL0 loop in a VM: %.1f MIPS (%llu instructions in %.0f ms "
           "in rem, %llu runs)\n",
           insns * 1e3 / (double)rem_ns, (unsigned long long)insns, rem_ns / 1e6,
           (unsigned long long)stam_value(st, "/EM/Runs"));
    vm_destroy(g.vm);
}
END_TEST

/* Real mode at 0:7c00, toggling CR0.PE around OUTs to port 0x80:
 *   l: mov eax,cr0; or al,1; mov cr0,eax; out 0x80,al   (protected mode)
 *      and al,0xfe; mov cr0,eax; out 0x80,al; jmp l     (real mode) */
static const uint8_t pe_toggle[] = {0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0xe6, 0x80,
                                    0x24, 0xfe, 0x0f, 0x22, 0xc0, 0xe6, 0x80, 0xeb, 0xed};

struct log_capture {
    pthread_mutex_t lock;
    char text[4096];
    size_t len;
};

static void capture(void *ctx, const char *who, enum vm_log_level l, const char *msg)
{
    struct log_capture *c = ctx;
    (void)l;
    pthread_mutex_lock(&c->lock);
    int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s: %s\n", who, msg);
    if (n > 0 && (size_t)n < sizeof(c->text) - c->len)
        c->len += (size_t)n;
    pthread_mutex_unlock(&c->lock);
}

/* The engine per CPU mode, in a VM: each mode's first entry is logged with
 * the engine em_engine_for_mode gives it, entries are counted, and under
 * auto with hm picked (a host with VT-x/AMD-V) the vCPU goes back and forth
 * between rem (real mode) and hm (protected mode) and the guest runs on. */
static const enum vm_engine mode_engines[] = {VM_ENGINE_HM, VM_ENGINE_AUTO, VM_ENGINE_REM};

START_TEST(engine_per_mode)
{
    enum vm_engine asked = mode_engines[_i];
    struct log_capture lc = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct guest g = {.code = pe_toggle, .len = sizeof(pe_toggle)};
    struct vm_config c = {
        .ram_bytes = 4 << 20, .ncpus = 1, .engine = asked, .log = capture, .log_ctx = &lc};
    cap_result rc = vm_create(&c, &g.vm);
    ck_assert_msg(CAP_SUCCEEDED(rc), "vm_create: %s", cap_error_peek_message());
    ck_assert_int_eq(iom_register_io(vm_iom(g.vm), 0x80, 1, 0, port80, &g, "test"), CAP_OK);
    struct loader_params lp = {.kernel_buf = g.code,
                               .kernel_len = g.len,
                               .format = LOADER_FLAT,
                               .entry = LOADER_ENTRY_REAL};
    ck_assert_int_eq(loader_load(vm_pgm(g.vm), vm_cpu(g.vm, 0), &lp, NULL), CAP_OK);
    ck_assert_int_eq(vm_start(g.vm), CAP_OK);
    wait_outs(&g, 1000);
    vm_power_off(g.vm);
    ck_assert_int_eq(vm_wait(g.vm, 5000 * scale()), VM_STATE_POWERED_OFF);
    enum vm_engine chosen = vm_get_engine(g.vm);
    char want[128];
    pthread_mutex_lock(&lc.lock);
    snprintf(want, sizeof(want), "em: real mode -> %s (first at 0000:00007c00)\n",
             vm_engine_name(em_engine_for_mode(asked, chosen, EM_MODE_REAL)));
    ck_assert_msg(strstr(lc.text, want), "no '%s' in:\n%s", want, lc.text);
    /* where EM first sees it: after the exit that follows the switch */
    snprintf(want, sizeof(want), "em: protected mode -> %s (first at 0000:0000",
             vm_engine_name(em_engine_for_mode(asked, chosen, EM_MODE_PROTECTED)));
    ck_assert_msg(strstr(lc.text, want), "no '%s' in:\n%s", want, lc.text);
    /* once each, however often the guest switched */
    ck_assert_ptr_null(strstr(strstr(lc.text, "real mode ->") + 1, "real mode ->"));
    ck_assert_ptr_null(strstr(strstr(lc.text, "protected mode ->") + 1, "protected mode ->"));
    ck_assert_ptr_null(strstr(lc.text, "long mode"));
    pthread_mutex_unlock(&lc.lock);
    struct stam *st = vm_stam(g.vm);
    ck_assert_uint_ge(stam_value(st, "/EM/Modes/Real"), 100);
    ck_assert_uint_ge(stam_value(st, "/EM/Modes/Protected"), 100);
    ck_assert_uint_eq(stam_value(st, "/EM/Modes/Long"), 0);
    uint64_t sw = stam_value(st, "/EM/EngineSwitches");
    if (asked == VM_ENGINE_AUTO && chosen == VM_ENGINE_HM)
        ck_assert_uint_ge(sw, 100); /* each OUT ends a run in the other mode */
    else
        ck_assert_uint_eq(sw, 0);
    printf("em (%s, picked %s): %llu OUTs, %llu real-mode and %llu protected-mode entries, "
           "%llu engine switches\n",
           vm_engine_name(asked), vm_engine_name(chosen), (unsigned long long)outs(&g),
           (unsigned long long)stam_value(st, "/EM/Modes/Real"),
           (unsigned long long)stam_value(st, "/EM/Modes/Protected"), (unsigned long long)sw);
    vm_destroy(g.vm);
}
END_TEST

int main(void)
{
    /* Each control test runs under hm (_i 0) and rem (_i 1). Without a usable
     * /dev/kvm only the hm half is skipped (and counted): the rem half still
     * runs every test and asserts. */
    int kvm = test_need_kvm("em-kvm (hm half)");
    if (kvm < 0)
        return 1;
    int first = kvm ? 0 : 1;
    Suite *s = suite_create("em-kvm");
    TCase *tc = tcase_create("control");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, pause_resume_power_off, first, 2);
    tcase_add_loop_test(tc, power_off_while_paused_and_halted, first, 2);
    tcase_add_loop_test(tc, save_restore, first, 2);
    tcase_add_loop_test(tc, two_vms_one_process, first, 2);
    tcase_add_loop_test(tc, io_exit_round_trip, first, 2);
    tcase_add_test(tc, rem_mips);
    /* hm (_i 0) needs KVM; auto (1) and rem (2) run anywhere: auto picks
     * rem without KVM, and hm with VT-x/AMD-V (the hand-over is tested there) */
    tcase_add_loop_test(tc, engine_per_mode, first, 3);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
