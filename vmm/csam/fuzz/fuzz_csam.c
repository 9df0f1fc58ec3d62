/*
 * fuzz_csam.c - libFuzzer target for CSAM's scanner: random bytes as guest
 * code must never crash it, make it read outside the pages it was given, or
 * loop. The input's first bytes choose the linear->physical map of four
 * linear pages over three physical ones (or unmapped), the mode, small
 * table limits, the budget and the entries; the rest is the code. Between
 * scans some pages are "written" (records dropped). Invariants: every call
 * returns a defined status, decodes no more than its budget, and a scan
 * ends after at most (bytes of code + 1) resumes; every recorded
 * instruction is an instruction start of its page, sorted, 1..15 bytes,
 * and no more page records are held than allowed.
 */
#include <stdlib.h>
#include <string.h>

#include "csam/csam.h"

#define NP 3
#define NV 4

struct fmem {
    uint8_t page[NP][CSAM_PAGE_SIZE];
    int map[NV];
};

static int f_translate(void *user, uint64_t va, uint64_t *gpa)
{
    struct fmem *m = user;
    uint64_t vp = va / CSAM_PAGE_SIZE;
    if (vp >= NV || m->map[vp] < 0)
        return -1;
    *gpa = (uint64_t)m->map[vp] * CSAM_PAGE_SIZE;
    return 0;
}

static int f_read(void *user, uint64_t gpa, uint8_t *buf)
{
    struct fmem *m = user;
    if (gpa % CSAM_PAGE_SIZE || gpa / CSAM_PAGE_SIZE >= NP)
        abort(); /* CSAM asked for a page no translation gave */
    memcpy(buf, m->page[gpa / CSAM_PAGE_SIZE], CSAM_PAGE_SIZE);
    return 0;
}

static void check_records(const struct csam *c, unsigned max_pages)
{
    struct csam_stats st;
    csam_get_stats(c, &st);
    if (st.pages > max_pages)
        abort();
    for (unsigned p = 0; p < NP; p++) {
        const struct csam_insn *in;
        size_t n = csam_page_insns(c, (uint64_t)p * CSAM_PAGE_SIZE, &in);
        for (size_t i = 0; i < n; i++) {
            if (in[i].len < 1 || in[i].len > DIS_MAX_LEN || (i && in[i - 1].off >= in[i].off) ||
                in[i].sens >= DIS_SENS_COUNT ||
                !csam_is_insn_start(c, (uint64_t)p * CSAM_PAGE_SIZE + in[i].off))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum dis_mode modes[4] = {DIS_MODE_64, DIS_MODE_64, DIS_MODE_32, DIS_MODE_16};
    if (size < 12)
        return 0;
    struct fmem *m = calloc(1, sizeof(*m));
    if (!m)
        return 0;
    for (int v = 0; v < NV; v++)
        m->map[v] = data[v] % (NP + 1) == NP ? -1 : data[v] % (NP + 1);
    enum dis_mode mode = modes[data[4] & 3];
    struct csam_config cfg = {.max_pages = 1 + data[5] % 4, .max_pending = 1 + data[6] % 16};
    unsigned budget = 1 + data[7] % 64;
    const uint8_t *code = data + 12;
    size_t ncode = size - 12;
    for (size_t i = 0; i < (size_t)NP * CSAM_PAGE_SIZE; i++)
        m->page[i / CSAM_PAGE_SIZE][i % CSAM_PAGE_SIZE] = ncode ? code[i % ncode] : 0xcc;
    struct csam *c;
    if (csam_create(&cfg, &c) != CAP_OK) {
        free(m);
        return 0;
    }
    struct csam_mem mem = {f_translate, f_read, m};
    for (int e = 0; e < 4; e++) {
        uint64_t va = ((uint64_t)data[8 + e] << 6 | data[8 + (e + 1) % 4]) % (NV * CSAM_PAGE_SIZE);
        struct csam_stats before, after;
        csam_get_stats(c, &before);
        int rc = csam_scan(c, &mem, va, mode, budget);
        unsigned calls = 1;
        while (rc == CSAM_MORE) {
            if (++calls > NP * CSAM_PAGE_SIZE + 2)
                abort(); /* more resumes than there are instruction starts */
            rc = csam_resume(c, &mem, budget);
        }
        if (rc != CSAM_DONE && rc != CSAM_UNMAPPED)
            abort();
        csam_get_stats(c, &after);
        if (after.insns - before.insns > (uint64_t)calls * budget)
            abort();
        check_records(c, cfg.max_pages);
        if (data[8 + e] & 1)
            csam_page_written(c, (uint64_t)(data[8 + e] % NP) * CSAM_PAGE_SIZE + data[9]);
    }
    csam_destroy(c);
    free(m);
    return 0;
}
