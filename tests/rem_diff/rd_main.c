/*
 * rd_main.c - rem_diff's driver: options, the run loop, the comparison of
 * the two outcomes, the report of a mismatch (disassembly, starting state,
 * both final states) and its minimisation to a one-line reproducer.
 *
 *   rem_diff [--count N] [--seed S] [--max-len L] [--max-reports K] [--verbose]
 *   rem_diff --state-seed X --code HEX      (replays one sequence)
 *   rem_diff --replay FILE                  (replays a list: "STATE-SEED HEX  # why"
 *                                            per line, e.g. regressions.txt)
 *
 * Exit status: 0 when every sequence agreed, 1 on a mismatch, 2 on a usage
 * or setup error. Needs /dev/kvm; prints SKIPPED and exits 0 without it
 * only when CAPSULE_SKIP_KVM=1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpum/cpum.h"
#include "rd.h"

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

struct opts {
    unsigned long long count, seed;
    unsigned max_len, max_reports;
    bool verbose, have_code;
    const char *replay_file;
    unsigned long long state_seed;
    uint8_t code[RD_CODE_MAX];
    unsigned code_len;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t z = a * 0x9e3779b97f4a7c15ull + b + 0x632be59bd9b4e019ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (z ^ (z >> 31)) | 1;
}

/* Flags that may be undefined where the run stopped. */
static uint32_t undef_at(const struct rd_asm *a, unsigned n, const struct rd_result *r)
{
    if (r->vector == -1)
        return a->undef_in[n];
    for (unsigned i = 0; i < n; i++)
        if (a->addr[i] == r->rip)
            return a->undef_in[i];
    uint32_t u = 0;
    for (unsigned i = 0; i <= n; i++)
        u |= a->undef_in[i];
    return u;
}

static bool canonical(uint64_t x)
{
    return (uint64_t)((int64_t)(x << 16) >> 16) == x;
}

/* Differences between the two results, as text (empty: they agree).
 * *inconclusive: the two cannot be judged (then false is returned). */
static bool compare(const struct rd_asm *a, unsigned n, const struct rd_result *h,
                    const struct rd_result *r, char *out, size_t len, bool *inconclusive)
{
    size_t o = 0;
    out[0] = '\0';
    *inconclusive = false;
#define ADD(...) (o += (size_t)snprintf(out + o, o < len ? len - o : 0, __VA_ARGS__))
    if (h->other || r->other) {
        ADD(" stop: hm '%s' rem '%s';", h->other ? h->why : "ok", r->other ? r->why : "ok");
        if (h->other)
            return true;
    }
    /* Once RSP is non-canonical and a store has exited to the host, the hm
     * side here (KVM's PVM backend) runs the guest through KVM's instruction
     * emulator, which departs from the CPU in corner cases: #UD on the F3 0F
     * 1E reserved NOPs, #GP instead of #SS for [RSP] with a DS override
     * (--state-seed 0x91960863a5927371 --code
     * 4955485cf04581156e131000260000003e4c3a4ca4ea). A different exception
     * there says nothing about rem. */
    if (h->vector != r->vector && h->vector >= 0 && !canonical(h->gpr[CPUM_RSP])) {
        *inconclusive = true;
        return false;
    }
    if (h->vector != r->vector)
        ADD(" vector: hm %d rem %d;", h->vector, r->vector);
    for (unsigned i = 0; i < 16; i++)
        if (h->gpr[i] != r->gpr[i])
            ADD(" %s: hm %#llx rem %#llx;", gpr_names[i], (unsigned long long)h->gpr[i],
                (unsigned long long)r->gpr[i]);
    if (h->rip != r->rip)
        ADD(" rip: hm %#llx rem %#llx;", (unsigned long long)h->rip, (unsigned long long)r->rip);
    /* IOPL: KVM's PVM backend reports and pushes it as 0 whatever the guest set */
    uint64_t mask = ~(uint64_t)(undef_at(a, n, h) | undef_at(a, n, r) | 0x3000);
    if ((h->rflags & mask) != (r->rflags & mask))
        ADD(" rflags: hm %#llx rem %#llx (undefined %#llx);", (unsigned long long)h->rflags,
            (unsigned long long)r->rflags, (unsigned long long)~mask);
    if (h->err != r->err)
        ADD(" error code: hm %#llx rem %#llx;", (unsigned long long)h->err,
            (unsigned long long)r->err);
    if (h->cr2 != r->cr2)
        ADD(" cr2: hm %#llx rem %#llx;", (unsigned long long)h->cr2, (unsigned long long)r->cr2);
    for (unsigned i = 0; i < RD_SCRATCH_SIZE; i++)
        if (h->scratch[i] != r->scratch[i]) {
            unsigned j = i;
            while (j + 1 < RD_SCRATCH_SIZE && h->scratch[j + 1] != r->scratch[j + 1])
                j++;
            ADD(" mem %#llx..%#llx differs (hm %02x rem %02x);",
                (unsigned long long)(RD_SCRATCH + i), (unsigned long long)(RD_SCRATCH + j),
                h->scratch[i], r->scratch[i]);
            break;
        }
#undef ADD
    return out[0] != '\0';
}

static void print_seq(FILE *f, const struct rd_seq *s, const struct rd_asm *a, const char *indent)
{
    for (unsigned i = 0; i < s->n; i++) {
        char txt[128], hex[64];
        size_t o = 0;
        dis_format(&a->insn[i], a->addr[i], txt, sizeof(txt));
        for (unsigned k = 0; k < s->it[i].len; k++)
            o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%02x", a->code[a->addr[i] - RD_CODE + k]);
        fprintf(f, "%s%llx: %-30s %s\n", indent, (unsigned long long)a->addr[i], hex, txt);
    }
}

static void print_regs(FILE *f, const char *tag, const uint64_t *gpr, uint64_t rip, uint64_t fl)
{
    fprintf(f, "  %s:", tag);
    for (unsigned i = 0; i < 16; i++)
        fprintf(f, "%s %s=%llx", i % 6 == 0 ? "\n   " : "", gpr_names[i], (unsigned long long)gpr[i]);
    fprintf(f, "\n    rip=%llx rflags=%llx\n", (unsigned long long)rip, (unsigned long long)fl);
}

static void print_result(FILE *f, const char *tag, const struct rd_result *r)
{
    char t[192];
    if (r->vector >= 0)
        snprintf(t, sizeof(t), "%s (exception %d err %#llx cr2 %#llx)", tag, r->vector,
                 (unsigned long long)r->err, (unsigned long long)r->cr2);
    else
        snprintf(t, sizeof(t), "%s%s%s", tag, r->other ? " stopped: " : "", r->other ? r->why : "");
    print_regs(f, t, r->gpr, r->rip, r->rflags);
}

static void one_liner(char *buf, size_t len, uint64_t sseed, const struct rd_seq *s,
                      const struct rd_asm *a)
{
    size_t o = (size_t)snprintf(buf, len, "rem_diff --state-seed %#llx --code ",
                                (unsigned long long)sseed);
    for (unsigned i = 0; i < a->len - 2 && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%02x", a->code[i]);
    o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "   #");
    for (unsigned i = 0; i < s->n && o < len; i++) {
        char txt[128];
        dis_format(&a->insn[i], a->addr[i], txt, sizeof(txt));
        o += (size_t)snprintf(buf + o, len - o, " %s;", txt);
    }
}

struct ctx {
    struct rd_guest *g;
    struct rd_asm a;
    struct rd_result h, r;
    char diff[2048];
    bool inconclusive; /* of the last run_both */
};

/* Runs seq on both engines; true on a mismatch (c->diff says what). */
static bool run_both(struct ctx *c, const struct rd_state *st, const struct rd_seq *seq)
{
    rd_assemble(seq, &c->a);
    rd_run_hm(c->g, st, &c->a, &c->h);
    rd_run_rem(c->g, st, &c->a, &c->r);
    return compare(&c->a, seq->n, &c->h, &c->r, c->diff, sizeof(c->diff), &c->inconclusive);
}

/* Drops instructions while the sequence still mismatches. */
static void minimise(struct ctx *c, const struct rd_state *st, struct rd_seq *seq)
{
    static struct rd_asm a;
    bool progress = true;
    while (progress && seq->n > 1) {
        progress = false;
        for (unsigned i = 0; i < seq->n && seq->n > 1; i++) {
            struct rd_seq t = *seq;
            memmove(&t.it[i], &t.it[i + 1], (t.n - i - 1) * sizeof(t.it[0]));
            t.n--;
            for (unsigned j = 0; j < t.n; j++)
                if (t.it[j].rel_pos >= 0 && t.it[j].target > (int)i)
                    t.it[j].target--;
            rd_assemble(&t, &a);
            if (!a.valid)
                continue;
            if (run_both(c, st, &t)) {
                *seq = t;
                progress = true;
                i--;
            }
        }
    }
    run_both(c, st, seq);
}

static void report(struct ctx *c, uint64_t sseed, const struct rd_state *st, struct rd_seq *seq,
                   bool full)
{
    if (full) {
        printf("MISMATCH (state seed %#llx):%s\n", (unsigned long long)sseed, c->diff);
        printf("  sequence:\n");
        print_seq(stdout, seq, &c->a, "    ");
        print_regs(stdout, "initial", st->gpr, RD_CODE, st->rflags);
        print_result(stdout, "hm", &c->h);
        print_result(stdout, "rem", &c->r);
    }
    minimise(c, st, seq);
    char line[4096];
    one_liner(line, sizeof(line), sseed, seq, &c->a);
    if (full) {
        printf("  minimised:%s\n", c->diff);
        print_seq(stdout, seq, &c->a, "    ");
        print_result(stdout, "hm", &c->h);
        print_result(stdout, "rem", &c->r);
    }
    printf("  reproducer: %s\n", line);
    fflush(stdout);
}

static int parse_hex(const char *s, uint8_t *out, unsigned max)
{
    unsigned n = 0;
    size_t l = strlen(s);
    if (l % 2)
        return -1;
    for (size_t i = 0; i < l; i += 2) {
        unsigned v;
        if (n == max || sscanf(s + i, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
    }
    return (int)n;
}

static int usage(void)
{
    fprintf(stderr, "usage: rem_diff [--count N] [--seed S] [--max-len L] [--max-reports K] "
                    "[--verbose]\n       rem_diff --state-seed X --code HEX\n"
                    "       rem_diff --replay FILE\n");
    return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) {
            o->verbose = true;
            continue;
        }
        if (!v)
            return -1;
        char *end;
        unsigned long long x = strtoull(v, &end, 0);
        bool num = *v && !*end;
        if (!strcmp(a, "--count") && num)
            o->count = x;
        else if (!strcmp(a, "--seed") && num)
            o->seed = x;
        else if (!strcmp(a, "--max-len") && num && x >= 1 && x <= RD_MAX_INSNS)
            o->max_len = (unsigned)x;
        else if (!strcmp(a, "--max-reports") && num)
            o->max_reports = (unsigned)x;
        else if (!strcmp(a, "--replay"))
            o->replay_file = v;
        else if (!strcmp(a, "--state-seed") && num)
            o->state_seed = x;
        else if (!strcmp(a, "--code")) {
            int n = parse_hex(v, o->code, RD_CODE_MAX - 2);
            if (n <= 0)
                return -1;
            o->code_len = (unsigned)n;
            o->have_code = true;
        } else
            return -1;
        i++;
    }
    return 0;
}

static int replay_one(struct ctx *c, uint64_t sseed, const uint8_t *code, unsigned len,
                      bool quiet)
{
    static struct rd_state st;
    static struct rd_seq seq;
    struct rd_rng r = {sseed ? sseed : 1};
    rd_gen_state(&r, &st);
    if (rd_parse_code(code, len, &seq) != 0) {
        fprintf(stderr, "rem_diff: the code does not decode into whole instructions\n");
        return 2;
    }
    bool bad = run_both(c, &st, &seq);
    if (quiet && !bad)
        return 0;
    printf("%s%s\n", bad ? "MISMATCH:" : c->inconclusive ? "inconclusive (hm emulated)" : "agree",
           bad ? c->diff : "");
    print_seq(stdout, &seq, &c->a, "    ");
    print_regs(stdout, "initial", st.gpr, RD_CODE, st.rflags);
    print_result(stdout, "hm", &c->h);
    print_result(stdout, "rem", &c->r);
    return bad ? 1 : 0;
}

static int replay(struct ctx *c, const struct opts *o)
{
    return replay_one(c, o->state_seed, o->code, o->code_len, false);
}

/* Replays every reproducer of a list (mismatches found and fixed): one per
 * line, "STATE-SEED HEX", '#' starts a comment. Worst status of them all. */
static int replay_list(struct ctx *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "rem_diff: cannot open %s\n", path);
        return 2;
    }
    char line[4096 + 64];
    static uint8_t code[RD_CODE_MAX];
    unsigned lineno = 0, total = 0, bad = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#'), seed[64], hex[4096 + 1];
        if (hash)
            *hash = '\0';
        if (sscanf(line, "%63s %4096s", seed, hex) != 2)
            continue;
        char *end;
        unsigned long long sseed = strtoull(seed, &end, 0);
        int n = *end ? -1 : parse_hex(hex, code, RD_CODE_MAX - 2);
        if (n <= 0) {
            fprintf(stderr, "rem_diff: %s:%u: expected \"STATE-SEED HEX\"\n", path, lineno);
            rc = 2;
            continue;
        }
        total++;
        int r = replay_one(c, sseed, code, (unsigned)n, true);
        if (r) {
            printf("  (%s:%u: --state-seed %s --code %s)\n", path, lineno, seed, hex);
            bad++;
            rc = r > rc ? r : rc;
        }
    }
    fclose(f);
    printf("rem_diff: %u regression reproducers from %s: %u mismatch%s\n", total, path, bad,
           bad == 1 ? "" : "es");
    return rc;
}

int main(int argc, char **argv)
{
    static struct opts o = {.count = 2000, .seed = 1, .max_len = 16, .max_reports = 10};
    static struct ctx c;
    static struct rd_state st;
    static struct rd_seq seq;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (parse(argc, argv, &o) != 0)
        return usage();
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        const char *skip = getenv("CAPSULE_SKIP_KVM");
        if (skip && !strcmp(skip, "1")) {
            printf("rem_diff: SKIPPED (no usable /dev/kvm, CAPSULE_SKIP_KVM=1)\n");
            return 0;
        }
        fprintf(stderr, "rem_diff: FAIL: /dev/kvm is missing or not accessible; the native "
                        "side of the comparison needs it (set CAPSULE_SKIP_KVM=1 to skip)\n");
        return 1;
    }
    if (rd_gen_init(o.verbose) <= 0) {
        fprintf(stderr, "rem_diff: no instruction forms from the decoder tables\n");
        return 2;
    }
    char err[512];
    if (rd_guest_create(&c.g, true, err, sizeof(err)) != 0) {
        fprintf(stderr, "rem_diff: FAIL: %s\n", err);
        return 1;
    }
    if (o.have_code || o.replay_file) {
        int rc = o.have_code ? replay(&c, &o) : replay_list(&c, o.replay_file);
        rd_guest_destroy(c.g);
        return rc;
    }
    unsigned long long mism = 0, ends = 0, xcpt[32] = {0}, insns = 0, inconcl = 0;
    double t0 = now_s();
    for (unsigned long long i = 0; i < o.count; i++) {
        uint64_t sseed = mix(o.seed, i);
        struct rd_rng r = {sseed};
        rd_gen_state(&r, &st);
        /* the code comes from a second stream so --state-seed replays the state alone */
        struct rd_rng rc = {mix(sseed, 0x5eed)};
        rd_gen_seq(&rc, &st, o.max_len, &seq);
        bool bad = run_both(&c, &st, &seq);
        insns += seq.n;
        for (unsigned k = 0; k < seq.n; k++)
            rd_mnem_hits[c.a.insn[k].mnem]++;
        if (c.h.vector == -1)
            ends++;
        else if (c.h.vector >= 0 && c.h.vector < 32)
            xcpt[c.h.vector]++;
        inconcl += c.inconclusive;
        if (bad) {
            mism++;
            if (mism <= o.max_reports)
                report(&c, sseed, &st, &seq, mism <= 3 || o.verbose);
        }
        if (o.verbose && (i + 1) % 10000 == 0)
            printf("rem_diff: %llu sequences, %llu mismatches, %.1f s\n", i + 1, mism,
                   now_s() - t0);
    }
    double dt = now_s() - t0;
    unsigned used = 0;
    for (unsigned m = 0; m < DIS_MNEM_COUNT; m++)
        used += rd_mnem_hits[m] != 0;
    printf("rem_diff: %llu sequences (%llu instructions, %u of %u mnemonics) in %.1f s, "
           "seed %llu: %llu reached the end",
           o.count, insns, used, rd_gen_mnem_count(), dt, o.seed, ends);
    for (unsigned v = 0; v < 32; v++)
        if (xcpt[v])
            printf(", %llu #%u", xcpt[v], v);
    if (inconcl)
        printf("; %llu inconclusive (hm emulated: see compare())", inconcl);
    printf("; %llu mismatch%s\n", mism, mism == 1 ? "" : "es");
    rd_guest_destroy(c.g);
    return mism ? 1 : 0;
}
