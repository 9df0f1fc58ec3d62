/*
 * tests/unit/devices/test_virtioblk.c - the virtio pieces (plugins/devices/
 * virtio): the split-virtqueue walker on its own (virtio_queue.c linked in
 * directly, over a fake guest memory: chains, indirect tables, and every
 * way a guest can lie - loops, indexes out of range, memory outside RAM,
 * an available index running ahead - plus a random fuzz that bounds the
 * walker's work), and virtio-blk as the guest sees it on the PCI bus with
 * a raw image on PDM's block layer: identity and capabilities, feature
 * negotiation, the device configuration, IN/OUT/FLUSH/GET_ID, error
 * statuses, DEVICE_NEEDS_RESET, queue reset, the PCI cfg access
 * capability, read-only media.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "virtio_driver.h"

/* ---- the walker over a fake memory ------------------------------------------ */

#define MEM_SIZE (64u << 10)
static uint8_t mem[MEM_SIZE];
static unsigned mem_reads;

static cap_result fake_read(struct pdm_dev *dev, uint64_t gpa, void *buf, size_t len)
{
    mem_reads++;
    if (gpa > MEM_SIZE || len > MEM_SIZE - gpa)
        return CAP_E_INVALIDARG;
    memcpy(buf, mem + gpa, len);
    return CAP_OK;
}

static cap_result fake_write(struct pdm_dev *dev, uint64_t gpa, const void *buf, size_t len)
{
    if (gpa > MEM_SIZE || len > MEM_SIZE - gpa)
        return CAP_E_INVALIDARG;
    memcpy(mem + gpa, buf, len);
    return CAP_OK;
}

static const struct pdm_hlp fake_hlp = {.phys_read = fake_read, .phys_write = fake_write};
static struct pdm_dev fake_dev = {.hlp = &fake_hlp};

#define DESC  0x1000u
#define AVAIL 0x2000u
#define USED  0x3000u
#define IND   0x4000u
#define QSIZE 16u

static struct virtq q;
static struct virtq_chain chain;

static void wq_setup(void)
{
    memset(mem, 0, sizeof(mem));
    q = (struct virtq){
        .max = QSIZE, .size = QSIZE, .enabled = true, .desc = DESC, .avail = AVAIL, .used = USED};
}

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                    uint16_t next)
{
    uint8_t *d = mem + table + 16 * i;
    virtio_put_le(d, 8, addr);
    virtio_put_le(d + 8, 4, len);
    virtio_put_le(d + 12, 2, flags);
    virtio_put_le(d + 14, 2, next);
}

/* Makes head available as the next entry and bumps avail->idx. */
static void offer(uint16_t head)
{
    uint16_t idx = (uint16_t)virtio_get_le(mem + AVAIL + 2, 2);
    virtio_put_le(mem + AVAIL + 4 + 2 * (idx % QSIZE), 2, head);
    virtio_put_le(mem + AVAIL + 2, 2, (uint16_t)(idx + 1));
}

static enum virtq_pop_result pop(bool indirect, const char **why)
{
    return virtq_pop(&fake_dev, &q, indirect, &chain, why);
}

START_TEST(test_walk_chain)
{
    const char *why;
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_EMPTY);
    desc_at(DESC, 3, 0x8000, 16, VIRTQ_DESC_F_NEXT, 7);
    desc_at(DESC, 7, 0x9000, 0, VIRTQ_DESC_F_NEXT, 1); /* zero length: skipped */
    desc_at(DESC, 1, 0xa000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    desc_at(DESC, 2, 0xb000, 1, VIRTQ_DESC_F_WRITE, 0);
    offer(3);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_CHAIN);
    ck_assert_uint_eq(chain.head, 3);
    ck_assert_uint_eq(chain.n, 3);
    ck_assert_uint_eq(chain.n_out, 1);
    ck_assert_uint_eq(chain.out_bytes, 16);
    ck_assert_uint_eq(chain.in_bytes, 513);
    ck_assert_uint_eq(chain.seg[1].addr, 0xa000);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_EMPTY);
    /* copying across segments */
    memcpy(mem + 0x8000, "0123456789abcdef", 16);
    char b[8] = {0};
    ck_assert(virtq_chain_read(&fake_dev, &chain, 4, b, 6));
    ck_assert_str_eq(b, "456789");
    ck_assert(!virtq_chain_read(&fake_dev, &chain, 12, b, 6)); /* past the readable part */
    ck_assert(virtq_chain_write(&fake_dev, &chain, 510, "XYZ", 3));
    ck_assert_mem_eq(mem + 0xa000 + 510, "XY", 2);
    ck_assert_uint_eq(mem[0xb000], 'Z');
    /* the used ring */
    ck_assert_int_eq(virtq_push(&fake_dev, &q, 3, 513), CAP_OK);
    ck_assert_uint_eq(virtio_get_le(mem + USED + 2, 2), 1);
    ck_assert_uint_eq(virtio_get_le(mem + USED + 4, 4), 3);
    ck_assert_uint_eq(virtio_get_le(mem + USED + 8, 4), 513);
    ck_assert(virtq_wants_interrupt(&fake_dev, &q));
    virtio_put_le(mem + AVAIL, 2, VIRTQ_AVAIL_F_NO_INTERRUPT);
    ck_assert(!virtq_wants_interrupt(&fake_dev, &q));
}
END_TEST

START_TEST(test_walk_indirect)
{
    const char *why;
    desc_at(IND, 0, 0x8000, 16, VIRTQ_DESC_F_NEXT, 2);
    desc_at(IND, 2, 0x9000, 4096, VIRTQ_DESC_F_NEXT, 1);
    desc_at(IND, 1, 0xa000, 1, VIRTQ_DESC_F_WRITE, 0);
    desc_at(DESC, 5, IND, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    offer(5);
    ck_assert_int_eq(pop(true, &why), VIRTQ_POP_CHAIN);
    ck_assert_uint_eq(chain.n, 3);
    ck_assert_uint_eq(chain.n_out, 2);
    ck_assert_uint_eq(chain.out_bytes, 16 + 4096);
    ck_assert_uint_eq(chain.in_bytes, 1);
    /* the same chain without the feature is a protocol error */
    offer(5);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    ck_assert_ptr_nonnull(strstr(why, "not negotiated"));
}
END_TEST

/* One broken setup per row: what to write, what the walker must say. */
START_TEST(test_walk_hostile)
{
    const char *why;
    /* a loop: 0 -> 1 -> 0 */
    desc_at(DESC, 0, 0x8000, 16, VIRTQ_DESC_F_NEXT, 1);
    desc_at(DESC, 1, 0x8000, 16, VIRTQ_DESC_F_NEXT, 0);
    offer(0);
    mem_reads = 0;
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    ck_assert_ptr_nonnull(strstr(why, "loop"));
    ck_assert_uint_le(mem_reads, QSIZE + 2);
    /* next out of range */
    desc_at(DESC, 1, 0x8000, 16, VIRTQ_DESC_F_NEXT, QSIZE);
    offer(1);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    ck_assert_ptr_nonnull(strstr(why, "out of range"));
    /* head out of range */
    offer(QSIZE + 3);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    /* readable after writable */
    desc_at(DESC, 2, 0x8000, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    desc_at(DESC, 3, 0x8000, 16, 0, 0);
    offer(2);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    /* an address that wraps */
    desc_at(DESC, 4, UINT64_MAX - 8, 16, 0, 0);
    offer(4);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    /* indirect: with NEXT, bad length, nested, too long, looping, outside RAM */
    desc_at(DESC, 5, IND, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 6);
    desc_at(DESC, 6, IND, 17, VIRTQ_DESC_F_INDIRECT, 0);
    desc_at(DESC, 7, IND, 0, VIRTQ_DESC_F_INDIRECT, 0);
    desc_at(DESC, 8, IND, 16 * (QSIZE + 1), VIRTQ_DESC_F_INDIRECT, 0);
    desc_at(DESC, 9, IND, 32, VIRTQ_DESC_F_INDIRECT, 0);
    desc_at(DESC, 10, MEM_SIZE + 0x100000, 32, VIRTQ_DESC_F_INDIRECT, 0);
    desc_at(IND, 0, 0x8000, 16, VIRTQ_DESC_F_NEXT, 1);
    desc_at(IND, 1, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
    desc_at(DESC, 11, IND + 64, 32, VIRTQ_DESC_F_INDIRECT, 0);
    desc_at(IND + 64, 0, 0x8000, 16, VIRTQ_DESC_F_NEXT, 1);
    desc_at(IND + 64, 1, 0x8000, 16, VIRTQ_DESC_F_NEXT, 0);
    for (uint16_t head = 5; head <= 11; head++) {
        offer(head);
        ck_assert_msg(pop(true, &why) == VIRTQ_POP_BROKEN, "head %u", head);
        ck_assert_ptr_nonnull(why);
    }
    /* the descriptor table outside RAM */
    q.desc = MEM_SIZE + 0x1000;
    offer(0);
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    ck_assert_ptr_nonnull(strstr(why, "outside RAM"));
    q.desc = DESC;
    /* the available index jumps ahead by more than the size */
    virtio_put_le(mem + AVAIL + 2, 2, (uint16_t)(q.last_avail + QSIZE + 1));
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    ck_assert_ptr_nonnull(strstr(why, "ran ahead"));
    /* a queue not set up */
    q.enabled = false;
    ck_assert_int_eq(pop(false, &why), VIRTQ_POP_BROKEN);
    q.enabled = true;
    q.size = 12; /* not a power of two */
    ck_assert(!virtq_valid(&q));
    /* the used ring outside RAM */
    q.size = QSIZE;
    q.used = MEM_SIZE;
    ck_assert_int_ne(virtq_push(&fake_dev, &q, 0, 0), CAP_OK);
}
END_TEST

/* Random tables and rings: the walker answers within its bound every time,
 * and whatever it returns is consistent. */
START_TEST(test_walk_fuzz)
{
    unsigned seed = 12345;
    for (unsigned iter = 0; iter < 20000; iter++) {
        wq_setup();
        for (unsigned i = 0; i < 16 * QSIZE; i++)
            mem[DESC + i] = (uint8_t)rand_r(&seed);
        for (unsigned i = 0; i < 16 * QSIZE; i++)
            mem[IND + i] = (uint8_t)rand_r(&seed);
        for (unsigned i = 0; i < 4 + 2 * QSIZE; i++)
            mem[AVAIL + i] = (uint8_t)rand_r(&seed);
        /* bias towards plausible values so that walks go deep */
        for (unsigned i = 0; i < QSIZE; i++) {
            uint8_t *d = mem + DESC + 16 * i;
            if (rand_r(&seed) % 2) {
                virtio_put_le(d + 14, 2, rand_r(&seed) % (QSIZE + 2));
                d[13] = 0;
            }
            if (rand_r(&seed) % 3 == 0)
                virtio_put_le(d, 8, rand_r(&seed) % 2 ? IND : 0x8000);
            if (rand_r(&seed) % 3 == 0)
                virtio_put_le(d + 8, 4, 16 * (rand_r(&seed) % (QSIZE + 2)));
        }
        virtio_put_le(mem + AVAIL + 2, 2, rand_r(&seed) % 4);
        for (unsigned i = 0; i < QSIZE; i++)
            virtio_put_le(mem + AVAIL + 4 + 2 * i, 2, rand_r(&seed) % (QSIZE + 1));
        bool indirect = iter & 1;
        for (unsigned n = 0; n < 4; n++) {
            const char *why;
            mem_reads = 0;
            enum virtq_pop_result r = pop(indirect, &why);
            /* avail idx + entry, at most size descriptors and size entries */
            ck_assert_uint_le(mem_reads, 2 + 2 * QSIZE);
            if (r == VIRTQ_POP_EMPTY)
                break;
            if (r == VIRTQ_POP_BROKEN) {
                ck_assert_ptr_nonnull(why);
                continue;
            }
            ck_assert_uint_le(chain.n, QSIZE);
            ck_assert_uint_le(chain.n_out, chain.n);
            uint64_t out = 0, in = 0;
            for (unsigned i = 0; i < chain.n; i++) {
                ck_assert_uint_ne(chain.seg[i].len, 0);
                *(i < chain.n_out ? &out : &in) += chain.seg[i].len;
            }
            ck_assert_uint_eq(out, chain.out_bytes);
            ck_assert_uint_eq(in, chain.in_bytes);
        }
    }
}
END_TEST

/* ---- virtio-blk on the PCI bus ------------------------------------------------- */

#define COMMON   VDRV_COMMON
#define ISR      VDRV_ISR
#define DEVCFG   VDRV_DEVCFG
#define NOTIFY   VDRV_NOTIFY
#define SECTORS  2048u
#define RQ       256u /* the device's queue size */
#define R_DESC   0x10000u
#define R_AVAIL  0x20000u
#define R_USED   0x21000u
#define R_HDR    0x30000u
#define R_DATA   0x40000u
#define R_STATUS 0x3f000u

static struct harness h;
static struct vdrv drv;
static char disk_path[64];
static uint16_t next_avail;

static uint32_t cfg_rd(unsigned reg, unsigned size)
{
    return vdrv_cfg_rd(&drv, reg, size);
}

static void cfg_wr(unsigned reg, unsigned size, uint32_t v)
{
    vdrv_cfg_wr(&drv, reg, size, v);
}

static uint8_t pattern(uint64_t byte)
{
    return (uint8_t)((byte / 512) * 7 + byte % 512);
}

static void make_image(void)
{
    snprintf(disk_path, sizeof(disk_path), "/tmp/vblk-disk-XXXXXX");
    int fd = mkstemp(disk_path);
    ck_assert_int_ge(fd, 0);
    uint8_t *b = malloc(SECTORS * 512);
    for (size_t i = 0; i < SECTORS * 512; i++)
        b[i] = pattern(i);
    ck_assert_int_eq(write(fd, b, SECTORS * 512), (ssize_t)(SECTORS * 512));
    close(fd);
    free(b);
}

/* The machine: the PCI bus, virtioblk with the image on `port`. */
static void machine(unsigned port, bool readonly)
{
    struct pdm_drive_config dc = {.device = "virtioblk",
                                  .lun = port,
                                  .kind = PDM_BLK_DISK,
                                  .path = disk_path,
                                  .readonly = readonly};
    ck_assert_int_eq(pdm_add_drive(h.pdm, &dc), CAP_OK);
    ck_assert_int_eq(h_add(&h, "pci", NULL, 0), CAP_OK);
    ck_assert_int_eq(h_add(&h, "virtioblk", NULL, 0), CAP_OK);
    ck_assert_int_eq(pdm_check_drives(h.pdm), CAP_OK);
    vdrv_find(&drv, &h, 0x10421af4);
    next_avail = 0;
}

static void vsetup(void)
{
    h_setup(&h);
    make_image();
}

static void vteardown(void)
{
    h_teardown(&h);
    unlink(disk_path);
}

static uint64_t rd(uint64_t a, unsigned size)
{
    return h_mmio_in(&h, a, size);
}

static void wr(uint64_t a, unsigned size, uint64_t v)
{
    h_mmio_out(&h, a, size, v);
}

static uint64_t features(void)
{
    return vdrv_features(&drv);
}

/* The driver's initialisation (3.1.1) with features `want`; the status. */
static uint8_t driver_init(uint64_t want)
{
    static const struct vdrv_queue q = {R_DESC, R_AVAIL, R_USED};
    next_avail = 0;
    return vdrv_init(&drv, want, 1, &q);
}

static void rdesc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = h.ram + R_DESC + 16 * i;
    virtio_put_le(d, 8, addr);
    virtio_put_le(d + 8, 4, len);
    virtio_put_le(d + 12, 2, flags);
    virtio_put_le(d + 14, 2, next);
}

static uint16_t used_idx(void)
{
    return (uint16_t)virtio_get_le(h.ram + R_USED + 2, 2);
}

/* Submits a 3-descriptor request (header, data, status) and waits: returns
 * the status byte (0xee: the device did not complete it). */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len, bool data_in,
                       uint64_t data_addr)
{
    virtio_put_le(h.ram + R_HDR, 4, type);
    virtio_put_le(h.ram + R_HDR + 4, 4, 0);
    virtio_put_le(h.ram + R_HDR + 8, 8, sector);
    h.ram[R_STATUS] = 0xee;
    unsigned n = 0;
    rdesc(n, R_HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1));
    n++;
    if (len) {
        rdesc(n, data_addr, len, VIRTQ_DESC_F_NEXT | (data_in ? VIRTQ_DESC_F_WRITE : 0),
              (uint16_t)(n + 1));
        n++;
    }
    rdesc(n, R_STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    virtio_put_le(h.ram + R_AVAIL + 4 + 2 * (next_avail % RQ), 2, 0);
    next_avail++;
    virtio_put_le(h.ram + R_AVAIL + 2, 2, next_avail);
    uint16_t before = used_idx();
    wr(NOTIFY, 2, 0);
    pdm_blk_drain(h.pdm);
    if (used_idx() == before)
        return 0xee;
    return h.ram[R_STATUS];
}

START_TEST(test_identity)
{
    machine(0, false);
    ck_assert_uint_eq(cfg_rd(PCI_REVISION_ID, 1), 1);
    ck_assert_uint_eq(cfg_rd(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    ck_assert_uint_eq(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
    ck_assert(cfg_rd(PCI_STATUS, 2) & 0x10);
    /* the capability list: common, ISR, device, notify, pci cfg */
    static const uint8_t want[] = {1, 3, 4, 2, 5};
    unsigned at = cfg_rd(0x34, 1), n = 0;
    while (at && n < 8) {
        ck_assert_uint_eq(cfg_rd(at, 1), 0x09);
        ck_assert_uint_eq(cfg_rd(at + 3, 1), want[n]);
        if (want[n] == VIRTIO_PCI_CAP_NOTIFY_CFG)
            ck_assert_uint_eq(cfg_rd(at + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
        at = cfg_rd(at + 1, 1);
        n++;
    }
    ck_assert_uint_eq(n, 5);
    /* BAR 0 sizes as 16 KiB of 32-bit memory */
    cfg_wr(PCI_BASE_ADDRESS_0, 4, 0xffffffff);
    ck_assert_uint_eq(cfg_rd(PCI_BASE_ADDRESS_0, 4), 0xffffc000);
    cfg_wr(PCI_BASE_ADDRESS_0, 4, VDRV_BAR);
    /* features: VERSION_1, indirect, ring reset; blk's SIZE_MAX, SEG_MAX,
     * BLK_SIZE, FLUSH, not RO */
    uint64_t f = features();
    ck_assert(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
    ck_assert(f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
    ck_assert(f & VIRTIO_BIT(VIRTIO_F_RING_RESET));
    ck_assert_uint_eq(f & 0xffff, (1u << 1) | (1u << 2) | (1u << 6) | (1u << 9));
    /* the device configuration */
    ck_assert_uint_eq(rd(DEVCFG + 0, 8), SECTORS);
    ck_assert_uint_eq(rd(DEVCFG + 0x0c, 4), 126);
    ck_assert_uint_eq(rd(DEVCFG + 0x14, 4), 512);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2), RQ);
    /* the same bytes through the PCI cfg access capability */
    unsigned cap = 0x84;
    ck_assert_uint_eq(cfg_rd(cap + 3, 1), VIRTIO_PCI_CAP_PCI_CFG);
    cfg_wr(cap + 4, 1, 0);
    cfg_wr(cap + 8, 4, VIRTIO_PCI_DEVCFG_OFF + 0x14);
    cfg_wr(cap + 12, 4, 4);
    ck_assert_uint_eq(cfg_rd(cap + 16, 4), 512);
    cfg_wr(cap + 8, 4, VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS);
    cfg_wr(cap + 12, 4, 1);
    cfg_wr(cap + 16, 1, VIRTIO_STATUS_ACKNOWLEDGE);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1), VIRTIO_STATUS_ACKNOWLEDGE);
}
END_TEST

START_TEST(test_negotiation)
{
    machine(0, false);
    /* without VERSION_1 (a legacy driver) FEATURES_OK does not stick */
    ck_assert(!(driver_init(VIRTIO_BIT(9)) & VIRTIO_STATUS_FEATURES_OK));
    /* a bit the device did not offer */
    ck_assert(
        !(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(4)) & VIRTIO_STATUS_FEATURES_OK));
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1)), 0x0f);
    /* features are frozen after FEATURES_OK */
    wr(COMMON + VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    wr(COMMON + VIRTIO_PCI_COMMON_GF, 4, 0xffffffff);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_GF, 4), 0);
    /* a queue that does not exist reads size 0 and takes nothing */
    wr(COMMON + VIRTIO_PCI_COMMON_Q_SELECT, 2, 3);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    /* and notifying it, or past the region, does nothing */
    wr(NOTIFY + 4 * 3, 2, 3);
    wr(NOTIFY + 0xffc, 2, 0);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
    /* reset */
    wr(COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1), 0);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
}
END_TEST

START_TEST(test_io)
{
    machine(0, false);
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(9)), 0x0f);
    /* read 2 sectors at 100 */
    ck_assert_uint_eq(request(0, 100, 1024, true, R_DATA), 0);
    for (unsigned i = 0; i < 1024; i++)
        ck_assert_uint_eq(h.ram[R_DATA + i], pattern(100 * 512 + i));
    ck_assert_uint_eq(virtio_get_le(h.ram + R_USED + 8, 4), 1025); /* data + status */
    /* the interrupt: ISR bit 0 and the function's INTx; reading ISR acks */
    ck_assert(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    ck_assert_uint_eq(rd(ISR, 1), VIRTIO_ISR_QUEUE);
    ck_assert_uint_eq(rd(ISR, 1), 0);
    ck_assert(!(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
    /* write sector 7, flush, read it back */
    memset(h.ram + R_DATA, 0x5a, 512);
    ck_assert_uint_eq(request(1, 7, 512, false, R_DATA), 0);
    ck_assert_uint_eq(request(4, 0, 0, false, 0), 0);
    memset(h.ram + R_DATA, 0, 512);
    ck_assert_uint_eq(request(0, 7, 512, true, R_DATA), 0);
    ck_assert_uint_eq(h.ram[R_DATA + 300], 0x5a);
    FILE *f = fopen(disk_path, "rb");
    uint8_t b[512];
    ck_assert(fseek(f, 7 * 512, SEEK_SET) == 0 && fread(b, 1, 512, f) == 512);
    fclose(f);
    ck_assert_uint_eq(b[0], 0x5a);
    /* GET_ID */
    memset(h.ram + R_DATA, 0, 20);
    ck_assert_uint_eq(request(8, 0, 20, true, R_DATA), 0);
    ck_assert_str_eq((char *)h.ram + R_DATA, "CAPSULE-VBLK-0-00");
    /* unsupported type */
    ck_assert_uint_eq(request(11, 0, 0, false, 0), 2);
    /* errors: past the end, not whole sectors, data outside RAM, huge */
    ck_assert_uint_eq(request(0, SECTORS - 1, 1024, true, R_DATA), 1);
    ck_assert_uint_eq(request(0, UINT64_MAX / 512, 512, true, R_DATA), 1);
    ck_assert_uint_eq(request(0, 0, 100, true, R_DATA), 1);
    ck_assert_uint_eq(request(0, 0, 512, true, HARNESS_RAM - 256), 1);
    ck_assert_uint_eq(request(1, 0, 512, false, HARNESS_RAM + 0x100000), 1);
    ck_assert_uint_eq(request(0, 0, 0xfffffe00u, true, R_DATA), 1);
    /* the device works on */
    ck_assert_uint_eq(request(0, 1, 512, true, R_DATA), 0);
    ck_assert_uint_eq(h.ram[R_DATA + 5], pattern(512 + 5));
    /* the driver suppresses interrupts */
    rd(ISR, 1);
    virtio_put_le(h.ram + R_AVAIL, 2, VIRTQ_AVAIL_F_NO_INTERRUPT);
    ck_assert_uint_eq(request(0, 1, 512, true, R_DATA), 0);
    ck_assert_uint_eq(rd(ISR, 1), 0);
}
END_TEST

START_TEST(test_indirect_request)
{
    machine(0, false);
    ck_assert_uint_eq(
        driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)), 0x0f);
    /* header | 4 data segments of 128 bytes | status, in a table at 0x50000 */
    uint64_t t = 0x50000;
    virtio_put_le(h.ram + R_HDR, 4, 0);
    virtio_put_le(h.ram + R_HDR + 8, 8, 3);
    uint8_t *d = h.ram + t;
    for (unsigned i = 0; i < 6; i++, d += 16) {
        uint64_t a = i == 0 ? R_HDR : i == 5 ? R_STATUS : R_DATA + 0x1000 * i;
        virtio_put_le(d, 8, a);
        virtio_put_le(d + 8, 4, i == 0 ? 16 : i == 5 ? 1 : 128);
        virtio_put_le(d + 12, 2, (i < 5 ? VIRTQ_DESC_F_NEXT : 0) | (i ? VIRTQ_DESC_F_WRITE : 0));
        virtio_put_le(d + 14, 2, i + 1);
    }
    rdesc(0, t, 6 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    virtio_put_le(h.ram + R_AVAIL + 4, 2, 0);
    virtio_put_le(h.ram + R_AVAIL + 2, 2, 1);
    h.ram[R_STATUS] = 0xee;
    wr(NOTIFY, 2, 0);
    pdm_blk_drain(h.pdm);
    ck_assert_uint_eq(h.ram[R_STATUS], 0);
    for (unsigned i = 1; i <= 4; i++)
        ck_assert_uint_eq(h.ram[R_DATA + 0x1000 * i + 7], pattern(3 * 512 + 128 * (i - 1) + 7));
}
END_TEST

START_TEST(test_hostile)
{
    machine(0, false);
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1)), 0x0f);
    /* a looping chain: DEVICE_NEEDS_RESET and a configuration interrupt */
    rdesc(0, R_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    rdesc(1, R_DATA, 512, VIRTQ_DESC_F_NEXT, 0);
    virtio_put_le(h.ram + R_AVAIL + 4, 2, 0);
    virtio_put_le(h.ram + R_AVAIL + 2, 2, 1);
    wr(NOTIFY, 2, 0);
    ck_assert(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    ck_assert_uint_eq(rd(ISR, 1), VIRTIO_ISR_CONFIG);
    ck_assert(h_logged(&h, "loop"));
    /* a broken device serves nothing until reset */
    ck_assert_uint_eq(request(0, 0, 512, true, R_DATA), 0xee);
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1)), 0x0f);
    ck_assert_uint_eq(request(0, 0, 512, true, R_DATA), 0);
    /* the available index jumping far ahead */
    virtio_put_le(h.ram + R_AVAIL + 2, 2, (uint16_t)(next_avail + RQ + 1));
    wr(NOTIFY, 2, 0);
    ck_assert(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* a chain with no status byte */
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1)), 0x0f);
    rdesc(0, R_HDR, 16, 0, 0);
    virtio_put_le(h.ram + R_AVAIL + 2, 2, 1);
    wr(NOTIFY, 2, 0);
    ck_assert(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* a queue enabled with rings outside RAM: the first notify breaks it */
    wr(COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0);
    wr(COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 3);
    wr(COMMON + VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    wr(COMMON + VIRTIO_PCI_COMMON_GF, 4, 1);
    wr(COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_AVAILLO, 4, 0);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0x10);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    wr(COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    wr(NOTIFY, 2, 0);
    ck_assert(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* a queue size that is not a power of two */
    wr(COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2, 100);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    ck_assert(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* without bus mastering the device touches no memory */
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1)), 0x0f);
    cfg_wr(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    ck_assert_uint_eq(request(0, 0, 512, true, R_DATA), 0xee);
}
END_TEST

START_TEST(test_queue_reset)
{
    machine(0, false);
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_RESET)),
                      0x0f);
    ck_assert_uint_eq(request(0, 0, 512, true, R_DATA), 0);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_RESET, 2, 1);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_RESET, 2), 1);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
    /* set up again: the indexes start over */
    memset(h.ram + R_AVAIL, 0, 0x2000);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_DESCLO, 4, R_DESC);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_AVAILLO, 4, R_AVAIL);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_USEDLO, 4, R_USED);
    wr(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_RESET, 2), 0);
    next_avail = 0;
    ck_assert_uint_eq(request(0, 2, 512, true, R_DATA), 0);
    ck_assert_uint_eq(used_idx(), 1);
    ck_assert_uint_eq(h.ram[R_DATA + 1], pattern(2 * 512 + 1));
}
END_TEST

START_TEST(test_readonly)
{
    machine(4, true);
    ck_assert(features() & VIRTIO_BIT(5));
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5)), 0x0f);
    ck_assert_uint_eq(request(1, 0, 512, false, R_DATA), 1);
    ck_assert_uint_eq(request(0, 0, 512, true, R_DATA), 0);
    ck_assert(h_logged(&h, "port 4: read-only disk"));
}
END_TEST

START_TEST(test_save_load)
{
    machine(0, false);
    ck_assert_uint_eq(driver_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(9)), 0x0f);
    ck_assert_uint_eq(request(0, 1, 512, true, R_DATA), 0);
    void *st;
    size_t len;
    uint8_t ring[0x2000];
    memcpy(ring, h.ram + R_AVAIL, sizeof(ring)); /* the guest's memory at the save */
    ck_assert_int_eq(pdm_save(h.pdm, &st, &len), CAP_OK);
    ck_assert_uint_eq(request(0, 2, 512, true, R_DATA), 0);
    wr(COMMON + VIRTIO_PCI_COMMON_STATUS, 1, 0);
    memcpy(h.ram + R_AVAIL, ring, sizeof(ring)); /* RAM comes back first */
    ck_assert_int_eq(pdm_load(h.pdm, st, len), CAP_OK);
    next_avail = 1;
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
    wr(COMMON + VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_GF, 4), VIRTIO_BIT(9));
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
    ck_assert_uint_eq(rd(COMMON + VIRTIO_PCI_COMMON_Q_DESCLO, 4), R_DESC);
    /* the queue goes on where it was saved */
    ck_assert_uint_eq(request(0, 3, 512, true, R_DATA), 0);
    ck_assert_uint_eq(used_idx(), 2);
    ck_assert_uint_eq(h.ram[R_DATA + 9], pattern(3 * 512 + 9));
    ck_assert_int_ne(pdm_load(h.pdm, st, len - 5), CAP_OK); /* truncated */
    free(st);
}
END_TEST

Suite *virtioblk_suite(void);

Suite *virtioblk_suite(void)
{
    Suite *s = suite_create("virtioblk");
    TCase *tc = tcase_create("virtqueue");
    tcase_add_checked_fixture(tc, wq_setup, NULL);
    tcase_add_test(tc, test_walk_chain);
    tcase_add_test(tc, test_walk_indirect);
    tcase_add_test(tc, test_walk_hostile);
    tcase_add_test(tc, test_walk_fuzz);
    suite_add_tcase(s, tc);
    tc = tcase_create("device");
    tcase_add_checked_fixture(tc, vsetup, vteardown);
    tcase_add_test(tc, test_identity);
    tcase_add_test(tc, test_negotiation);
    tcase_add_test(tc, test_io);
    tcase_add_test(tc, test_indirect_request);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_queue_reset);
    tcase_add_test(tc, test_readonly);
    tcase_add_test(tc, test_save_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(virtioblk_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
