/*
 * tests/unit/devices/test_virtioinput.c - the virtio-input tablet
 * (plugins/devices/virtio/virtio_input.c) as a driver sees it on the PCI
 * bus: its identity at the slot vmm/platform gives it, the configuration
 * (select / subsel answered with names, IDs, event bitmaps, absinfo), host
 * events through pdm_mouse_put_abs written into the buffers the driver
 * posted, coalescing into bounded state while it posted none, the status
 * queue, and drivers that lie (short, readable or out-of-RAM buffers, a
 * looping chain), saved state.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../../vmm/platform/platform_tables.h"
#include "harness.h"
#include "virtio_driver.h"

#define EVQ_DESC  0x10000u
#define EVQ_AVAIL 0x12000u
#define EVQ_USED  0x13000u
#define STQ_DESC  0x14000u
#define STQ_AVAIL 0x16000u
#define STQ_USED  0x17000u
#define EV_BUF    0x20000u /* event buffer i at EV_BUF + 8 i */
#define QSIZE     64u

#define EV_SYN     0
#define EV_KEY     1
#define EV_REL     2
#define EV_ABS     3
#define BTN_LEFT   0x110
#define BTN_RIGHT  0x111
#define BTN_MIDDLE 0x112
#define REL_WHEEL  8

static struct harness h;
static struct vdrv drv;
static uint16_t ev_avail; /* buffers posted on the eventq */
static uint16_t ev_seen;  /* used entries already checked */

static const struct vdrv_queue queues[2] = {{EVQ_DESC, EVQ_AVAIL, EVQ_USED},
                                            {STQ_DESC, STQ_AVAIL, STQ_USED}};

static void setup(void)
{
    h_setup(&h);
    ev_avail = ev_seen = 0;
}

static void teardown(void)
{
    h_teardown(&h);
}

static uint64_t rd(uint64_t a, unsigned size)
{
    return h_mmio_in(&h, a, size);
}

static void wr(uint64_t a, unsigned size, uint64_t v)
{
    h_mmio_out(&h, a, size, v);
}

/* The PCI bus and the tablet at the platform's slot. */
static void machine(void)
{
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add_platform(&h, "virtioinput", 64, PLATFORM_FW_BIOS), CAP_OK);
    vdrv_find(&drv, &h, 0x10521af4);
}

static uint8_t status(void)
{
    return (uint8_t)rd(VDRV_COMMON + VIRTIO_PCI_COMMON_STATUS, 1);
}

static void driver_init(void)
{
    ev_avail = ev_seen = 0;
    ck_assert_uint_eq(vdrv_init(&drv, VIRTIO_BIT(VIRTIO_F_VERSION_1), 2, queues), 0x0f);
}

static void desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    uint8_t *d = h.ram + table + 16 * i;
    virtio_put_le(d, 8, addr);
    virtio_put_le(d + 8, 4, len);
    virtio_put_le(d + 12, 2, flags);
    virtio_put_le(d + 14, 2, next);
}

/* Makes descriptor `head` of the eventq available (no notification). */
static void offer(uint16_t head)
{
    virtio_put_le(h.ram + EVQ_AVAIL + 4 + 2 * (ev_avail % QSIZE), 2, head);
    ev_avail++;
    virtio_put_le(h.ram + EVQ_AVAIL + 2, 2, ev_avail);
}

/* Posts n fresh 8-byte event buffers and notifies the eventq. */
static void post(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned d = ev_avail % QSIZE;
        desc(EVQ_DESC, d, EV_BUF + 8 * d, 8, VIRTQ_DESC_F_WRITE, 0);
        memset(h.ram + EV_BUF + 8 * d, 0xee, 8);
        offer((uint16_t)d);
    }
    wr(VDRV_NOTIFY, 2, 0);
}

static uint16_t used_idx(void)
{
    return (uint16_t)virtio_get_le(h.ram + EVQ_USED + 2, 2);
}

/* The next event the device returned: "type code value" ("" when none). */
static const char *next_event(void)
{
    static char b[48];
    if (used_idx() == ev_seen)
        return "";
    const uint8_t *u = h.ram + EVQ_USED + 4 + 8 * (ev_seen % QSIZE);
    ev_seen++;
    ck_assert_uint_eq(virtio_get_le(u + 4, 4), 8);
    const uint8_t *e = h.ram + EV_BUF + 8 * virtio_get_le(u, 4);
    snprintf(b, sizeof(b), "%u %#x %d", (unsigned)virtio_get_le(e, 2),
             (unsigned)virtio_get_le(e + 2, 2), (int32_t)virtio_get_le(e + 4, 4));
    return b;
}

/* Checks the events returned since the last call, ';'-separated. */
static void expect(const char *want)
{
    char got[512] = "";
    for (const char *e; *(e = next_event());)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", *got ? ";" : "", e);
    ck_assert_str_eq(got, want);
}

/* Selects select/subsel (one byte each) and returns size; *u the union. */
static unsigned cfg_select(uint8_t sel, uint8_t sub, uint8_t *u)
{
    wr(VDRV_DEVCFG + 0, 1, sel);
    wr(VDRV_DEVCFG + 1, 1, sub);
    unsigned size = (unsigned)rd(VDRV_DEVCFG + 2, 1);
    for (unsigned i = 0; i < 128; i++)
        u[i] = (uint8_t)rd(VDRV_DEVCFG + 8 + i, 1);
    return size;
}

START_TEST(test_identity)
{
    machine();
    ck_assert_uint_eq(drv.slot, PLATFORM_TABLET_DEVFN >> 3);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, PCI_REVISION_ID, 1), 1);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, PCI_REVISION_ID, 4) >> 8, 0x098000);
    ck_assert_uint_eq(vdrv_cfg_rd(&drv, PCI_INTERRUPT_PIN, 1), 1);
    /* no device features besides the transport's */
    uint64_t f = vdrv_features(&drv);
    ck_assert(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
    ck_assert_uint_eq(f & 0xffffff, 0);
    ck_assert_uint_eq(rd(VDRV_COMMON + VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    ck_assert_uint_eq(rd(VDRV_COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
}
END_TEST

START_TEST(test_bad_devfn)
{
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    struct pdm_cfg_kv kv = {"devfn", "3"}; /* the host bridge's slot */
    ck_assert_int_eq(h_add(&h, "virtioinput", &kv, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "host bridge"));
}
END_TEST

START_TEST(test_config)
{
    machine();
    uint8_t u[128];
    ck_assert_uint_eq(cfg_select(0, 0, u), 0); /* UNSET */
    unsigned n = cfg_select(0x01, 0, u);       /* ID_NAME */
    ck_assert_uint_eq(n, strlen("Capsule virtio tablet"));
    ck_assert_mem_eq(u, "Capsule virtio tablet", n);
    ck_assert_uint_eq(u[n], 0);
    n = cfg_select(0x02, 0, u); /* ID_SERIAL */
    ck_assert_mem_eq(u, "CAPSULE-TABLET-", 15);
    ck_assert_uint_eq(cfg_select(0x03, 0, u), 8); /* ID_DEVIDS: BUS_VIRTUAL 1af4:1052 */
    ck_assert_uint_eq(virtio_get_le(u, 2), 0x06);
    ck_assert_uint_eq(virtio_get_le(u + 2, 2), 0x1af4);
    ck_assert_uint_eq(virtio_get_le(u + 4, 2), 0x1052);
    ck_assert_uint_eq(cfg_select(0x10, 0, u), 0); /* PROP_BITS: none */
    /* EV_BITS: BTN_LEFT/RIGHT/MIDDLE, REL_WHEEL, ABS_X/Y; nothing else */
    ck_assert_uint_eq(cfg_select(0x11, EV_KEY, u), BTN_MIDDLE / 8 + 1);
    ck_assert_uint_eq(u[BTN_LEFT / 8], 0x07);
    for (unsigned i = 0; i < BTN_LEFT / 8; i++)
        ck_assert_uint_eq(u[i], 0);
    ck_assert_uint_eq(cfg_select(0x11, EV_REL, u), 2);
    ck_assert_uint_eq(u[0], 0);
    ck_assert_uint_eq(u[1], 1u << (REL_WHEEL % 8));
    ck_assert_uint_eq(cfg_select(0x11, EV_ABS, u), 1);
    ck_assert_uint_eq(u[0], 0x03);
    ck_assert_uint_eq(cfg_select(0x11, EV_SYN, u), 0);
    ck_assert_uint_eq(cfg_select(0x11, 4 /* EV_MSC */, u), 0);
    /* ABS_INFO: 0..0x7fff for X and Y */
    for (uint8_t axis = 0; axis < 2; axis++) {
        ck_assert_uint_eq(cfg_select(0x12, axis, u), 20);
        ck_assert_uint_eq(virtio_get_le(u, 4), 0);
        ck_assert_uint_eq(virtio_get_le(u + 4, 4), 0x7fff);
        ck_assert_uint_eq(virtio_get_le(u + 8, 4), 0);
    }
    ck_assert_uint_eq(cfg_select(0x12, 2, u), 0);
    ck_assert_uint_eq(cfg_select(0x7f, 0x7f, u), 0); /* unknown */
    ck_assert_uint_eq(cfg_select(0x01, 1, u), 0);    /* a name has no subsel 1 */
    /* select and subsel in one 16-bit write; size and the union ignore writes */
    wr(VDRV_DEVCFG, 2, 0x0312); /* ABS_INFO, ABS_Y... subsel 3: none */
    ck_assert_uint_eq(rd(VDRV_DEVCFG + 2, 1), 0);
    wr(VDRV_DEVCFG, 2, 0x0112);
    ck_assert_uint_eq(rd(VDRV_DEVCFG, 2), 0x0112);
    wr(VDRV_DEVCFG + 2, 4, 0xffffffff);
    wr(VDRV_DEVCFG + 12, 8, ~0ull);
    ck_assert_uint_eq(rd(VDRV_DEVCFG + 2, 1), 20);
    ck_assert_uint_eq(rd(VDRV_DEVCFG + 12, 4), 0x7fff);
    /* past the configuration: nothing */
    wr(VDRV_DEVCFG + 200, 4, 0x11);
    ck_assert_uint_eq(rd(VDRV_DEVCFG + 200, 4), 0);
    /* the same through the PCI cfg access capability */
    wr(VDRV_DEVCFG + 1, 1, 0);
    unsigned cap = 0x84;
    vdrv_cfg_wr(&drv, cap + 4, 1, 0);
    vdrv_cfg_wr(&drv, cap + 8, 4, VIRTIO_PCI_DEVCFG_OFF);
    vdrv_cfg_wr(&drv, cap + 12, 4, 1);
    vdrv_cfg_wr(&drv, cap + 16, 1, 0x01);
    ck_assert_uint_eq(rd(VDRV_DEVCFG + 2, 1), strlen("Capsule virtio tablet"));
}
END_TEST

START_TEST(test_events)
{
    machine();
    /* no driver yet: events are kept, never an error */
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 10, 20, 0, 0), CAP_OK);
    ck_assert(!pdm_mouse_abs_active(h.pdm));
    driver_init();
    ck_assert(pdm_mouse_abs_active(h.pdm));
    /* buffers: the state the host left comes at once */
    post(16);
    expect("3 0 10;3 0x1 20;0 0 0");
    ck_assert_uint_eq(rd(VDRV_ISR, 1), VIRTIO_ISR_QUEUE);
    /* a move with a click */
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 100, 0x7fff, 0, PDM_MOUSE_LEFT), CAP_OK);
    expect("3 0 100;3 0x1 32767;1 0x110 1;0 0 0");
    ck_assert(vdrv_cfg_rd(&drv, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    ck_assert_uint_eq(rd(VDRV_ISR, 1), VIRTIO_ISR_QUEUE);
    /* release, the other buttons, the wheel (dz towards the user is REL_WHEEL < 0) */
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 100, 0x7fff, 2, PDM_MOUSE_RIGHT | PDM_MOUSE_MIDDLE),
                     CAP_OK);
    expect("1 0x110 0;1 0x111 1;1 0x112 1;2 0x8 -2;0 0 0");
    /* nothing changed: nothing sent */
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 100, 0x7fff, 0, PDM_MOUSE_RIGHT | PDM_MOUSE_MIDDLE),
                     CAP_OK);
    expect("");
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 100, 5, -1, PDM_MOUSE_RIGHT | PDM_MOUSE_MIDDLE),
                     CAP_OK);
    expect("3 0x1 5;2 0x8 1;0 0 0");
    /* the range is PDM's to check */
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 0x8000, 0, 0, 0), CAP_E_INVALIDARG);
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 0, 0, 0, 8), CAP_E_INVALIDARG);
    expect("");
    /* the driver suppressing interrupts */
    rd(VDRV_ISR, 1);
    virtio_put_le(h.ram + EVQ_AVAIL, 2, VIRTQ_AVAIL_F_NO_INTERRUPT);
    post(8);
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 1, 5, 0, PDM_MOUSE_RIGHT | PDM_MOUSE_MIDDLE), CAP_OK);
    expect("3 0 1;0 0 0");
    ck_assert_uint_eq(rd(VDRV_ISR, 1), 0);
}
END_TEST

/* No buffers: the latest state, never a queue; few buffers: the report in
 * pieces, SYN_REPORT last. */
START_TEST(test_coalesce)
{
    machine();
    driver_init();
    post(3);
    expect("3 0 16383;3 0x1 16383;0 0 0"); /* the centre until a frontend says */
    for (unsigned i = 0; i < 100000; i++)
        ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, i % 0x8000, (i * 7) % 0x8000, 1,
                                           i % 2 ? PDM_MOUSE_LEFT : PDM_MOUSE_MIDDLE),
                         CAP_OK);
    expect("");
    /* the last event: x 99999 % 0x8000, y 699993 % 0x8000, left held; the
     * wheel saturated at 0x7fff notches */
    post(2);
    expect("3 0 1695;3 0x1 11865");
    post(1);
    expect("1 0x110 1");
    post(8);
    expect("2 0x8 -32767;0 0 0");
    ck_assert_uint_eq(used_idx(), 8);
}
END_TEST

START_TEST(test_status_queue)
{
    machine();
    driver_init();
    /* an LED event from the driver: taken and returned, length 0 */
    uint8_t ev[8] = {0x11, 0, 0, 0, 1, 0, 0, 0};
    memcpy(h.ram + 0x30000, ev, 8);
    desc(STQ_DESC, 0, 0x30000, 8, 0, 0);
    virtio_put_le(h.ram + STQ_AVAIL + 4, 2, 0);
    virtio_put_le(h.ram + STQ_AVAIL + 2, 2, 1);
    wr(VDRV_NOTIFY + VIRTIO_PCI_NOTIFY_MULT, 2, 1);
    ck_assert_uint_eq(virtio_get_le(h.ram + STQ_USED + 2, 2), 1);
    ck_assert_uint_eq(virtio_get_le(h.ram + STQ_USED + 8, 4), 0);
    ck_assert_uint_eq(status(), 0x0f);
    /* a loop there breaks the device as anywhere */
    desc(STQ_DESC, 1, 0x30000, 8, VIRTQ_DESC_F_NEXT, 1);
    virtio_put_le(h.ram + STQ_AVAIL + 6, 2, 1);
    virtio_put_le(h.ram + STQ_AVAIL + 2, 2, 2);
    wr(VDRV_NOTIFY + VIRTIO_PCI_NOTIFY_MULT, 2, 1);
    ck_assert(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}
END_TEST

/* One lie per round: the device needs a reset, keeps taking host events,
 * and works again after the driver resets it. */
START_TEST(test_hostile)
{
    machine();
    char want[64] = "3 0 16383;3 0x1 16383;0 0 0"; /* the centre first */
    for (unsigned round = 0; round < 5; round++) {
        driver_init();
        post(3); /* the state so far */
        expect(want);
        switch (round) {
        case 0: /* shorter than an event */
            desc(EVQ_DESC, 5, EV_BUF, 4, VIRTQ_DESC_F_WRITE, 0);
            break;
        case 1: /* readable */
            desc(EVQ_DESC, 5, EV_BUF, 8, 0, 0);
            break;
        case 2: /* outside RAM */
            desc(EVQ_DESC, 5, HARNESS_RAM + 0x100000, 8, VIRTQ_DESC_F_WRITE, 0);
            break;
        case 3: /* straddling the end of RAM */
            desc(EVQ_DESC, 5, HARNESS_RAM - 4, 8, VIRTQ_DESC_F_WRITE, 0);
            break;
        case 4: /* a loop */
            desc(EVQ_DESC, 5, EV_BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
            desc(EVQ_DESC, 6, EV_BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
            break;
        }
        offer(5);
        ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 100 + round, 7, 0, 0), CAP_OK);
        ck_assert_msg(status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, "round %u", round);
        ck_assert_uint_eq(rd(VDRV_ISR, 1) & VIRTIO_ISR_CONFIG, VIRTIO_ISR_CONFIG);
        /* broken: nothing is taken any more */
        uint16_t before = used_idx();
        post(4);
        ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 100 + round, 7, 0, PDM_MOUSE_LEFT), CAP_OK);
        ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 100 + round, 7, 0, 0), CAP_OK);
        ck_assert_uint_eq(used_idx(), before);
        snprintf(want, sizeof(want), "3 0 %u;3 0x1 7;0 0 0", 100 + round);
    }
    ck_assert(h_logged(&h, "shorter than an event"));
    ck_assert(h_logged(&h, "outside RAM"));
    ck_assert(h_logged(&h, "loop"));
}
END_TEST

START_TEST(test_save_load)
{
    machine();
    driver_init();
    post(3);
    expect("3 0 16383;3 0x1 16383;0 0 0");
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 50, 60, 0, PDM_MOUSE_LEFT), CAP_OK);
    wr(VDRV_DEVCFG, 2, 0x0011);
    void *st;
    size_t len;
    uint8_t ram[0x20000];
    memcpy(ram, h.ram + EVQ_DESC, sizeof(ram));
    ck_assert_int_eq(pdm_save(h.pdm, &st, &len), CAP_OK);
    uint16_t avail = ev_avail, seen = ev_seen;
    /* the machine moves on, then the state comes back */
    post(8);
    expect("3 0 50;3 0x1 60;1 0x110 1;0 0 0");
    wr(VDRV_COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0);
    memcpy(h.ram + EVQ_DESC, ram, sizeof(ram));
    ck_assert_int_eq(pdm_load(h.pdm, st, len), CAP_OK);
    ev_avail = avail;
    ev_seen = seen;
    ck_assert_uint_eq(status(), 0x0f);
    ck_assert_uint_eq(rd(VDRV_DEVCFG, 2), 0x0011);
    post(8);
    expect("3 0 50;3 0x1 60;1 0x110 1;0 0 0");
    ck_assert_int_ne(pdm_load(h.pdm, st, len - 3), CAP_OK); /* truncated */
    free(st);
}
END_TEST

/* The same through the SSM stream's named fields (save_state/load_state). */
START_TEST(test_ssm_save_load)
{
    machine();
    driver_init();
    post(3);
    expect("3 0 16383;3 0x1 16383;0 0 0");
    ck_assert_int_eq(pdm_mouse_put_abs(h.pdm, 50, 60, 0, PDM_MOUSE_LEFT), CAP_OK);
    wr(VDRV_DEVCFG, 2, 0x0011);
    static uint8_t ram[0x20000];
    memcpy(ram, h.ram + EVQ_DESC, sizeof(ram));
    h_ssm_save(&h);
    uint16_t avail = ev_avail, seen = ev_seen;
    post(8);
    expect("3 0 50;3 0x1 60;1 0x110 1;0 0 0");
    wr(VDRV_COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0);
    memcpy(h.ram + EVQ_DESC, ram, sizeof(ram));
    ck_assert_int_eq(h_ssm_load(&h), CAP_OK);
    ev_avail = avail;
    ev_seen = seen;
    ck_assert_uint_eq(status(), 0x0f);
    ck_assert_uint_eq(rd(VDRV_DEVCFG, 2), 0x0011);
    post(8);
    expect("3 0 50;3 0x1 60;1 0x110 1;0 0 0");
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("virtioinput");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_identity);
    tcase_add_test(tc, test_bad_devfn);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_events);
    tcase_add_test(tc, test_coalesce);
    tcase_add_test(tc, test_status_queue);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_ssm_save_load);
    return h_run_case("virtioinput", tc);
}
