/*
 * rd_main.c - rem_diff's driver: options, the run loop, the comparison of
 * the outcomes, the verdict, the report of a mismatch (disassembly, starting
 * state, the final states) and its minimisation to a one-line reproducer.
 *
 *   rem_diff [--count N] [--seed S] [--max-len L] [--max-reports K] [--verbose]
 *            [--reference hm|native] [--no-arbiter] [--cpu-profile NAME]
 *   rem_diff --state-seed X --code HEX      (replays one sequence)
 *   rem_diff --replay FILE [--record]       (replays a list, e.g. regressions.txt)
 *
 * rem runs under a CPU profile (--cpu-profile, default "host"). The CPU
 * (native) and KVM (hm) can only judge a profile of the host's vendor; a
 * profile of the other vendor is judged by the outcomes recorded in a
 * reproducer list (--reference recorded). A list line is
 *   STATE-SEED HEX [intel=DIGEST] [amd=DIGEST]   # why
 * where a vendor token says the reproducer holds for that vendor and
 * DIGEST is the outcome's digest (outcome_digest(): exception, error code,
 * CR2, registers, defined flags, scratch memory). A line is replayed only
 * under a profile of a vendor it names. With a hardware reference the
 * verdict is the hardware's and a recorded digest that differs from an
 * agreeing outcome is reported as stale (not a failure: another model of
 * the vendor may differ where the manuals leave it open); --record prints
 * the list again with this run's digests for the profile's vendor (from the
 * reference, or from rem under --reference recorded).
 *
 * The reference is hm (KVM) by default. KVM is not always the silicon: when
 * a guest access needs the host, KVM's instruction emulator may run the
 * instruction. So where hm and rem disagree (or cannot be judged), the
 * sequence also runs natively on the host CPU (rd_native.c), the arbiter:
 *   native == rem            "KVM emulator divergence (native agrees with rem)":
 *                            counted and listed apart, not a mismatch;
 *   native == hm != rem      a rem mismatch;
 *   all three differ         a mismatch, all three shown;
 *   native cannot run it     the hm verdict stands (mismatch, or inconclusive).
 * A rem/native mismatch of a known open rem issue (rd_open.c) is counted
 * and listed as such and does not fail the run.
 * --reference native compares rem with the host CPU alone (no /dev/kvm
 * needed); cases the native layout cannot reproduce are skipped and counted.
 * --no-arbiter compares hm and rem only, as before the arbiter.
 *
 * Flags the manuals leave undefined where a sequence stopped are not
 * compared; the summary counts the outcomes that differed only there.
 *
 * Exit status: 0 when every sequence agreed, 1 on a mismatch, 2 on a usage
 * or setup error (a hardware reference for another vendor's profile
 * included). With the hm reference it needs /dev/kvm; without it, it prints
 * "SKIP: rem_diff: ..." and exits 77 (run.sh turns that into a counted
 * skip) unless CAPSULE_REQUIRE_KVM=1 makes it a failure.
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

enum reference { REF_HM, REF_NATIVE, REF_RECORDED };

struct opts {
    unsigned long long count, seed;
    unsigned max_len, max_reports;
    bool verbose, have_code, ref_native, no_arbiter, record;
    enum reference ref;
    const char *profile;
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

/* Outcomes that differed only in flags left undefined where they stopped. */
static unsigned long long masked_undefined;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* The digest of an outcome as the comparison sees it: exception, error
 * code, CR2, registers, RIP, the flags defined there (IOPL excluded, as in
 * compare()), the scratch memory. An engine stop has no digest (0). */
static uint64_t outcome_digest(const struct rd_asm *a, unsigned n, const struct rd_result *r)
{
    if (r->other)
        return 0;
    uint64_t h = 0xcbf29ce484222325ull;
    int64_t vec = r->vector;
    uint64_t fl = r->rflags & ~(uint64_t)(undef_at(a, n, r) | 0x3000);
    h = fnv(h, &vec, sizeof(vec));
    h = fnv(h, &r->err, sizeof(r->err));
    h = fnv(h, &r->cr2, sizeof(r->cr2));
    h = fnv(h, r->gpr, sizeof(r->gpr));
    h = fnv(h, &r->rip, sizeof(r->rip));
    h = fnv(h, &fl, sizeof(fl));
    h = fnv(h, r->scratch, sizeof(r->scratch));
    return h | 1;
}

static bool canonical(uint64_t x)
{
    return (uint64_t)((int64_t)(x << 16) >> 16) == x;
}

/* Differences between a reference result h (named hn) and another r (rn),
 * as text (empty: they agree). inconclusive, when given (h is hm): set when
 * the two cannot be judged (then false is returned). */
static bool compare(const struct rd_asm *a, unsigned n, const struct rd_result *h, const char *hn,
                    const struct rd_result *r, const char *rn, char *out, size_t len,
                    bool *inconclusive)
{
    size_t o = 0;
    out[0] = '\0';
    if (inconclusive)
        *inconclusive = false;
#define ADD(...) (o += (size_t)snprintf(out + o, o < len ? len - o : 0, __VA_ARGS__))
    if (h->other || r->other) {
        ADD(" stop: %s '%s' %s '%s';", hn, h->other ? h->why : "ok", rn, r->other ? r->why : "ok");
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
    if (inconclusive && h->vector != r->vector && h->vector >= 0 && !canonical(h->gpr[CPUM_RSP])) {
        *inconclusive = true;
        return false;
    }
    if (h->vector != r->vector)
        ADD(" vector: %s %d %s %d;", hn, h->vector, rn, r->vector);
    for (unsigned i = 0; i < 16; i++)
        if (h->gpr[i] != r->gpr[i])
            ADD(" %s: %s %#llx %s %#llx;", gpr_names[i], hn, (unsigned long long)h->gpr[i], rn,
                (unsigned long long)r->gpr[i]);
    if (h->rip != r->rip)
        ADD(" rip: %s %#llx %s %#llx;", hn, (unsigned long long)h->rip, rn,
            (unsigned long long)r->rip);
    /* IOPL: KVM's PVM backend reports and pushes it as 0 whatever the guest set */
    uint64_t mask = ~(uint64_t)(undef_at(a, n, h) | undef_at(a, n, r) | 0x3000);
    bool undef_differs = (h->rflags ^ r->rflags) & ~mask & ~0x3000ull;
    if ((h->rflags & mask) != (r->rflags & mask))
        ADD(" rflags: %s %#llx %s %#llx (undefined %#llx);", hn, (unsigned long long)h->rflags, rn,
            (unsigned long long)r->rflags, (unsigned long long)~mask);
    if (h->err != r->err)
        ADD(" error code: %s %#llx %s %#llx;", hn, (unsigned long long)h->err, rn,
            (unsigned long long)r->err);
    if (h->cr2 != r->cr2)
        ADD(" cr2: %s %#llx %s %#llx;", hn, (unsigned long long)h->cr2, rn,
            (unsigned long long)r->cr2);
    for (unsigned i = 0; i < RD_SCRATCH_SIZE; i++)
        if (h->scratch[i] != r->scratch[i]) {
            unsigned j = i;
            while (j + 1 < RD_SCRATCH_SIZE && h->scratch[j + 1] != r->scratch[j + 1])
                j++;
            ADD(" mem %#llx..%#llx differs (%s %02x %s %02x);",
                (unsigned long long)(RD_SCRATCH + i), (unsigned long long)(RD_SCRATCH + j), hn,
                h->scratch[i], rn, r->scratch[i]);
            break;
        }
#undef ADD
    if (!out[0] && undef_differs)
        masked_undefined++;
    return out[0] != '\0';
}

static void print_seq(FILE *f, const struct rd_seq *s, const struct rd_asm *a, const char *indent)
{
    for (unsigned i = 0; i < s->n; i++) {
        char txt[128], hex[64];
        size_t o = 0;
        dis_format(&a->insn[i], a->addr[i], txt, sizeof(txt));
        for (unsigned k = 0; k < s->it[i].len; k++)
            o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%02x",
                                  a->code[a->addr[i] - RD_CODE + k]);
        fprintf(f, "%s%llx: %-30s %s\n", indent, (unsigned long long)a->addr[i], hex, txt);
    }
}

static void print_regs(FILE *f, const char *tag, const uint64_t *gpr, uint64_t rip, uint64_t fl)
{
    fprintf(f, "  %s:", tag);
    for (unsigned i = 0; i < 16; i++)
        fprintf(f, "%s %s=%llx", i % 6 == 0 ? "\n   " : "", gpr_names[i],
                (unsigned long long)gpr[i]);
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

enum verdict {
    V_AGREE,
    V_MISMATCH,     /* rem differs from the reference (hm confirmed by native, or native) */
    V_KVM,          /* hm differs from rem, native agrees with rem */
    V_INCONCLUSIVE, /* hm emulated, native could not settle it */
    V_OPEN,         /* a mismatch with native of a known open rem issue (rd_open.c) */
    V_SKIPPED,      /* --reference native: the native layout cannot reproduce the case */
};

static const char *const verdict_text[] = {
    [V_AGREE] = "agree",
    [V_MISMATCH] = "MISMATCH:",
    [V_KVM] = "KVM emulator divergence (native agrees with rem):",
    [V_INCONCLUSIVE] = "inconclusive (hm emulated, no native verdict):",
    [V_OPEN] = "known open rem issue (rem differs from native):",
    [V_SKIPPED] = "skipped (not reproducible natively):",
};

static const char *const vendor_token[] = {[CPUM_VENDOR_INTEL] = "intel", [CPUM_VENDOR_AMD] = "amd"};

struct ctx {
    struct rd_guest *g;
    struct rd_native *nat; /* the arbiter / native reference; NULL: none */
    bool ref_native, ref_recorded;
    enum cpum_vendor vendor; /* the profile's */
    struct rd_asm a;
    struct rd_result h, r, nv;
    bool ran_hm, ran_native; /* of the last run_seq */
    unsigned long long native_runs, native_failed;
    char diff[2048];
};

/* Runs seq natively into c->nv; false (reason appended to c->diff) when it
 * could not be judged there. */
static bool run_native(struct ctx *c, const struct rd_state *st, const struct rd_seq *seq)
{
    c->ran_native = true;
    c->native_runs++;
    enum rd_native_status s = rd_run_native(c->nat, st, &c->a, seq->n, &c->nv);
    if (s == RD_NATIVE_RAN)
        return true;
    if (s == RD_NATIVE_FAILED && ++c->native_failed <= 5)
        printf("rem_diff: native executor failure (restarted): %s\n", c->nv.why);
    size_t o = strlen(c->diff);
    snprintf(c->diff + o, sizeof(c->diff) - o, " (%s)", c->nv.why);
    return false;
}

/* A mismatch judged against native, unless it is a known open issue. */
static enum verdict native_mismatch(struct ctx *c, const struct rd_seq *seq)
{
    const char *open = rd_open_issue(seq, &c->a, &c->nv, &c->r);
    if (!open)
        return V_MISMATCH;
    size_t o = strlen(c->diff);
    snprintf(c->diff + o, sizeof(c->diff) - o, " [%s]", open);
    return V_OPEN;
}

/* hm and rem disagree (or hm was emulated): the host CPU decides. */
static enum verdict arbitrate(struct ctx *c, const struct rd_state *st, const struct rd_seq *seq,
                              bool bad)
{
    static char nr[1000], nh[1000];
    if (!c->nat || !run_native(c, st, seq))
        return bad ? V_MISMATCH : V_INCONCLUSIVE;
    if (!compare(&c->a, seq->n, &c->nv, "native", &c->r, "rem", nr, sizeof(nr), NULL)) {
        if (!bad)
            snprintf(c->diff, sizeof(c->diff), " vector: hm %d rem %d (hm emulated);", c->h.vector,
                     c->r.vector);
        return V_KVM;
    }
    bool hm_too = compare(&c->a, seq->n, &c->nv, "native", &c->h, "hm", nh, sizeof(nh), NULL);
    if (hm_too)
        snprintf(c->diff, sizeof(c->diff), "%s | all three differ:%s", nr, nh);
    else
        snprintf(c->diff, sizeof(c->diff), "%s (hm agrees with native)", nr);
    return native_mismatch(c, seq);
}

/* Runs seq on the engines the reference needs; c->diff says what differs. */
static enum verdict run_seq(struct ctx *c, const struct rd_state *st, const struct rd_seq *seq)
{
    rd_assemble(seq, &c->a);
    c->ran_hm = c->ran_native = false;
    c->diff[0] = '\0';
    rd_run_rem(c->g, st, &c->a, &c->r);
    if (c->ref_recorded)
        return V_AGREE; /* judged by the caller against the record */
    if (c->ref_native) {
        if (!run_native(c, st, seq))
            return V_SKIPPED;
        return compare(&c->a, seq->n, &c->nv, "native", &c->r, "rem", c->diff, sizeof(c->diff),
                       NULL)
                   ? native_mismatch(c, seq)
                   : V_AGREE;
    }
    c->ran_hm = true;
    rd_run_hm(c->g, st, &c->a, &c->h);
    bool inconclusive;
    bool bad =
        compare(&c->a, seq->n, &c->h, "hm", &c->r, "rem", c->diff, sizeof(c->diff), &inconclusive);
    if (!bad && !inconclusive)
        return V_AGREE;
    return arbitrate(c, st, seq, bad);
}

/* Drops instructions while the sequence keeps verdict v. */
static void minimise(struct ctx *c, const struct rd_state *st, struct rd_seq *seq, enum verdict v)
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
            if (run_seq(c, st, &t) == v) {
                *seq = t;
                progress = true;
                i--;
            }
        }
    }
    run_seq(c, st, seq);
}

static void print_results(struct ctx *c)
{
    if (c->ran_hm)
        print_result(stdout, "hm", &c->h);
    print_result(stdout, "rem", &c->r);
    if (c->ran_native && !c->nv.why[0])
        print_result(stdout, "native", &c->nv);
}

static void report(struct ctx *c, uint64_t sseed, const struct rd_state *st, struct rd_seq *seq,
                   enum verdict v, bool full)
{
    if (full) {
        printf("%s (state seed %#llx)%s\n", verdict_text[v], (unsigned long long)sseed, c->diff);
        printf("  sequence:\n");
        print_seq(stdout, seq, &c->a, "    ");
        print_regs(stdout, "initial", st->gpr, RD_CODE, st->rflags);
        print_results(c);
    }
    minimise(c, st, seq, v);
    char line[4096];
    one_liner(line, sizeof(line), sseed, seq, &c->a);
    if (full) {
        printf("  minimised:%s\n", c->diff);
        print_seq(stdout, seq, &c->a, "    ");
        print_results(c);
    } else if (v != V_MISMATCH) {
        printf("%s%s\n", verdict_text[v], c->diff);
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
                    "[--verbose]\n                [--reference hm|native] [--no-arbiter] "
                    "[--cpu-profile NAME]\n"
                    "       rem_diff [--reference hm|native|recorded] [--cpu-profile NAME] "
                    "--state-seed X --code HEX\n"
                    "       rem_diff [--reference hm|native|recorded] [--cpu-profile NAME] "
                    "--replay FILE [--record]\n");
    return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose") || !strcmp(a, "--no-arbiter") || !strcmp(a, "--record")) {
            *(a[2] == 'v' ? &o->verbose : a[4] == 'a' ? &o->no_arbiter : &o->record) = true;
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
        else if (!strcmp(a, "--reference") && !strcmp(v, "hm"))
            o->ref = REF_HM;
        else if (!strcmp(a, "--reference") && !strcmp(v, "native"))
            o->ref = REF_NATIVE;
        else if (!strcmp(a, "--reference") && !strcmp(v, "recorded"))
            o->ref = REF_RECORDED;
        else if (!strcmp(a, "--cpu-profile"))
            o->profile = v;
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
    o->ref_native = o->ref == REF_NATIVE;
    if (o->ref == REF_RECORDED && !o->have_code && !o->replay_file)
        return -1; /* random sequences have no record */
    if (o->record && !o->replay_file)
        return -1;
    return 0;
}

/* Replays one sequence. where: NULL to print everything, else the quiet
 * mode of a list (a line naming `where` unless they agree, the states only
 * on a mismatch). *vout: the verdict. */
/* The digest of the reference's outcome of the last run_seq (rem's under
 * --reference recorded); 0 when there is none. */
static uint64_t reference_digest(const struct ctx *c, unsigned n)
{
    if (c->ref_recorded)
        return outcome_digest(&c->a, n, &c->r);
    if (c->ran_native && !c->nv.why[0])
        return outcome_digest(&c->a, n, &c->nv);
    return c->ran_hm ? outcome_digest(&c->a, n, &c->h) : 0;
}

static int replay_one(struct ctx *c, uint64_t sseed, const uint8_t *code, unsigned len,
                      const char *where, uint64_t expect, uint64_t *got, enum verdict *vout)
{
    static struct rd_state st;
    static struct rd_seq seq;
    struct rd_rng r = {sseed ? sseed : 1};
    rd_gen_state(&r, &st);
    if (rd_parse_code(code, len, &seq) != 0) {
        fprintf(stderr, "rem_diff: the code does not decode into whole instructions\n");
        return 2;
    }
    enum verdict v = *vout = run_seq(c, &st, &seq);
    *got = v == V_AGREE || v == V_KVM ? reference_digest(c, seq.n) : 0;
    if (c->ref_recorded && expect && *got != expect) {
        v = *vout = V_MISMATCH;
        snprintf(c->diff, sizeof(c->diff), " rem's outcome %#llx is not the recorded %s=%#llx",
                 (unsigned long long)*got, vendor_token[c->vendor], (unsigned long long)expect);
    }
    if (where && v == V_AGREE)
        return 0;
    printf("%s%s%s%s\n", where ? where : "", where ? ": " : "", verdict_text[v], c->diff);
    if (where && v != V_MISMATCH)
        return 0;
    print_seq(stdout, &seq, &c->a, "    ");
    print_regs(stdout, "initial", st.gpr, RD_CODE, st.rflags);
    print_results(c);
    return v == V_MISMATCH ? 1 : 0;
}

static int replay(struct ctx *c, const struct opts *o)
{
    enum verdict v;
    uint64_t got;
    int rc = replay_one(c, o->state_seed, o->code, o->code_len, NULL, 0, &got, &v);
    if (got)
        printf("outcome digest (%s): %s=%016llx\n", c->ref_recorded ? "rem" : "reference",
               vendor_token[c->vendor], (unsigned long long)got);
    return rc;
}

/* One line of a reproducer list, split: seed, hex, the vendor tokens
 * (digest 0 = holds for the vendor, no outcome recorded), the comment. */
struct list_line {
    char seed[64], hex[4096 + 1];
    bool holds[2];
    uint64_t digest[2];
    const char *comment; /* from '#' (NULL: none) */
};

/* 1: a reproducer line, 0: blank or comment only, -1: malformed. */
static int parse_line(char *line, struct list_line *l)
{
    memset(l, 0, sizeof(*l));
    char *hash = strchr(line, '#');
    if (hash) {
        l->comment = hash;
        hash[strcspn(hash, "\n")] = '\0';
        *hash = '\0';
    }
    char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
    if (!tok)
        return 0;
    snprintf(l->seed, sizeof(l->seed), "%s", tok);
    if (!(tok = strtok_r(NULL, " \t\n", &save)) || strlen(tok) >= sizeof(l->hex))
        return -1;
    snprintf(l->hex, sizeof(l->hex), "%s", tok);
    while ((tok = strtok_r(NULL, " \t\n", &save))) {
        unsigned v = !strncmp(tok, "intel", 5) ? CPUM_VENDOR_INTEL
                     : !strncmp(tok, "amd", 3) ? CPUM_VENDOR_AMD
                                               : 2;
        if (v == 2)
            return -1;
        const char *rest = tok + strlen(vendor_token[v]);
        char *end = NULL;
        if (*rest == '=')
            l->digest[v] = strtoull(rest + 1, &end, 16);
        if (*rest && (*rest != '=' || !end || *end))
            return -1;
        l->holds[v] = true;
    }
    if (hash)
        *hash = '#';
    return 1;
}

static void print_line(FILE *f, const struct list_line *l)
{
    char toks[128] = "";
    size_t o = 0;
    for (unsigned v = 0; v < 2; v++)
        if (l->holds[v] && l->digest[v])
            o += (size_t)snprintf(toks + o, sizeof(toks) - o, " %s=%016llx", vendor_token[v],
                                  (unsigned long long)l->digest[v]);
        else if (l->holds[v])
            o += (size_t)snprintf(toks + o, sizeof(toks) - o, " %s", vendor_token[v]);
    char head[4096 + 256];
    snprintf(head, sizeof(head), "%s %s%s", l->seed, l->hex, toks);
    if (l->comment)
        fprintf(f, "%-40s %s\n", head, l->comment);
    else
        fprintf(f, "%s\n", head);
}

/* Replays every reproducer of a list (mismatches found and fixed) that
 * holds for the profile's vendor. Worst status of them all. With record,
 * the whole list goes to stdout with this run's digests for the vendor,
 * and the report to stderr. */
static int replay_list(struct ctx *c, const char *path, bool record)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "rem_diff: cannot open %s\n", path);
        return 2;
    }
    FILE *rep = record ? stderr : stdout;
    char line[4096 + 256];
    static uint8_t code[RD_CODE_MAX];
    unsigned lineno = 0, total = 0, other = 0, bad = 0, stale = 0, count[V_SKIPPED + 1] = {0};
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char copy[sizeof(line)];
        memcpy(copy, line, sizeof(line));
        struct list_line l;
        int k = parse_line(copy, &l);
        char *end;
        unsigned long long sseed = k > 0 ? strtoull(l.seed, &end, 0) : 0;
        int n = k <= 0 || *end ? -1 : parse_hex(l.hex, code, RD_CODE_MAX - 2);
        if (k == 0 || (k > 0 && n > 0 && !l.holds[c->vendor])) {
            if (record)
                fputs(line, stdout);
            other += k > 0;
            continue;
        }
        if (k < 0 || n <= 0) {
            fprintf(stderr, "rem_diff: %s:%u: expected \"STATE-SEED HEX [intel[=DIGEST]] "
                            "[amd[=DIGEST]]\"\n", path, lineno);
            if (record)
                fputs(line, stdout);
            rc = 2;
            continue;
        }
        total++;
        char where[4096 + 64];
        enum verdict v = V_MISMATCH;
        uint64_t got = 0, want = l.digest[c->vendor];
        snprintf(where, sizeof(where), "%s:%u", path, lineno);
        if (c->ref_recorded && !want && !record) {
            fprintf(rep, "%s: no %s outcome recorded: nothing to judge rem by (record it with "
                         "--record on a %s host)\n", where, vendor_token[c->vendor],
                    vendor_token[c->vendor]);
            rc = rc ? rc : 1;
            bad++;
            continue;
        }
        FILE *saved = stdout; /* the list goes to stdout: the report to stderr */
        if (record)
            stdout = stderr;
        int r = replay_one(c, sseed, code, (unsigned)n, where, record && c->ref_recorded ? 0 : want,
                           &got, &v);
        stdout = saved;
        count[v]++;
        if (r) {
            fprintf(rep, "  (%s:%u: --state-seed %s --code %s)\n", path, lineno, l.seed, l.hex);
            bad++;
            rc = r > rc ? r : rc;
        } else if (!c->ref_recorded && want && got && got != want) {
            fprintf(rep, "%s: note: the recorded %s outcome %016llx is not this CPU's %016llx "
                         "(rem agrees with the CPU; --record refreshes it)\n",
                    where, vendor_token[c->vendor], (unsigned long long)want,
                    (unsigned long long)got);
            stale++;
        }
        if (record) {
            if (got && !r)
                l.digest[c->vendor] = got;
            print_line(stdout, &l);
        }
    }
    fclose(f);
    fprintf(rep, "rem_diff: %u regression reproducers for %s from %s (%u for the other vendor "
                 "only): %u mismatch%s, %u KVM emulator divergence%s (native agrees with rem), "
                 "%u known open, %u inconclusive, %u skipped, %u stale record%s\n",
            total, vendor_token[c->vendor], path, other, bad, bad == 1 ? "" : "es", count[V_KVM],
            count[V_KVM] == 1 ? "" : "s", count[V_OPEN], count[V_INCONCLUSIVE],
            count[V_SKIPPED], stale, stale == 1 ? "" : "s");
    return rc;
}

/* Opens the engines the options ask for; 0, or the exit status. */
static int setup(struct ctx *c, const struct opts *o)
{
    char err[512];
    const struct cpum_profile *prof = cpum_profile_find(o->profile);
    if (!prof) {
        fprintf(stderr, "rem_diff: unknown CPU profile '%s' (known: %s)\n", o->profile,
                cpum_profile_names(err, sizeof(err)));
        return 2;
    }
    c->vendor = prof->vendor;
    c->ref_recorded = o->ref == REF_RECORDED;
    if (!c->ref_recorded && prof->vendor != cpum_host_vendor()) {
        fprintf(stderr, "rem_diff: the CPU profile '%s' is %s and this host %s: the "
                        "hardware can only judge a profile of its own vendor (use "
                        "--reference recorded --replay FILE)\n",
                prof->name, cpum_vendor_string(prof->vendor),
                cpum_vendor_string(cpum_host_vendor()));
        return 2;
    }
    const char *skip = getenv("CAPSULE_SKIP_KVM"), *req = getenv("CAPSULE_REQUIRE_KVM");
    bool no_kvm = access("/dev/kvm", R_OK | W_OK) != 0 || (skip && !strcmp(skip, "1"));
    if (o->ref == REF_HM && no_kvm) {
        if (req && !strcmp(req, "1")) {
            fprintf(stderr, "rem_diff: FAIL: /dev/kvm is missing or not accessible and "
                            "CAPSULE_REQUIRE_KVM=1; the hm side of the comparison needs it\n");
            return 1;
        }
        printf("SKIP: rem_diff: the hm reference needs a usable /dev/kvm (the native "
               "reference still runs)\n");
        return 77;
    }
    if (rd_gen_init(o->verbose) <= 0) {
        fprintf(stderr, "rem_diff: no instruction forms from the decoder tables\n");
        return 2;
    }
    c->ref_native = o->ref_native;
    if (rd_guest_create(&c->g, o->ref == REF_HM, prof->name, err, sizeof(err)) != 0) {
        fprintf(stderr, "rem_diff: FAIL: %s\n", err);
        return 1;
    }
    if (o->ref != REF_RECORDED && (o->ref_native || !o->no_arbiter) &&
        rd_native_create(&c->nat, err, sizeof(err)) != 0) {
        if (o->ref_native) {
            fprintf(stderr, "rem_diff: FAIL: no native reference on this host: %s\n", err);
            return 1;
        }
        printf("rem_diff: note: no native arbiter on this host (%s); hm/rem differences stay "
               "mismatches\n",
               err);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct opts o = {.count = 2000, .seed = 1, .max_len = 16, .max_reports = 10,
                            .profile = CPUM_PROFILE_DEFAULT};
    static struct ctx c;
    static struct rd_state st;
    static struct rd_seq seq;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (parse(argc, argv, &o) != 0)
        return usage();
    int rc = setup(&c, &o);
    if (rc != 0 || o.have_code || o.replay_file) {
        if (rc == 0)
            rc = o.have_code ? replay(&c, &o) : replay_list(&c, o.replay_file, o.record);
        rd_native_destroy(c.nat);
        rd_guest_destroy(c.g);
        return rc;
    }
    unsigned long long count[V_SKIPPED + 1] = {0}, ends = 0, xcpt[32] = {0}, insns = 0;
    unsigned listed[V_SKIPPED + 1] = {0};
    double t0 = now_s();
    for (unsigned long long i = 0; i < o.count; i++) {
        uint64_t sseed = mix(o.seed, i);
        struct rd_rng r = {sseed};
        rd_gen_state(&r, &st);
        /* the code comes from a second stream so --state-seed replays the state alone */
        struct rd_rng rs = {mix(sseed, 0x5eed)};
        rd_gen_seq(&rs, &st, o.max_len, &seq);
        enum verdict v = run_seq(&c, &st, &seq);
        const struct rd_result *ref = c.ref_native ? &c.nv : &c.h;
        insns += seq.n;
        for (unsigned k = 0; k < seq.n; k++)
            rd_mnem_hits[c.a.insn[k].mnem]++;
        count[v]++;
        if (v != V_SKIPPED && ref->vector == -1)
            ends++;
        else if (v != V_SKIPPED && ref->vector >= 0 && ref->vector < 32)
            xcpt[ref->vector]++;
        /* mismatches in full (the first three), KVM divergences and open
         * issues as one-line reproducers */
        if ((v == V_MISMATCH || v == V_KVM || v == V_OPEN) && listed[v]++ < o.max_reports)
            report(&c, sseed, &st, &seq, v, v == V_MISMATCH && (count[v] <= 3 || o.verbose));
        if (o.verbose && (i + 1) % 10000 == 0)
            printf("rem_diff: %llu sequences, %llu mismatches, %.1f s\n", i + 1, count[V_MISMATCH],
                   now_s() - t0);
    }
    double dt = now_s() - t0;
    unsigned used = 0;
    for (unsigned m = 0; m < DIS_MNEM_COUNT; m++)
        used += rd_mnem_hits[m] != 0;
    printf("rem_diff: %llu sequences (%llu instructions, %u of %u mnemonics) in %.1f s, "
           "seed %llu, reference %s: %llu reached the end",
           o.count, insns, used, rd_gen_mnem_count(), dt, o.seed, c.ref_native ? "native" : "hm",
           ends);
    for (unsigned v = 0; v < 32; v++)
        if (xcpt[v])
            printf(", %llu #%u", xcpt[v], v);
    printf("; %llu native run%s (%llu failed)", c.native_runs, c.native_runs == 1 ? "" : "s",
           c.native_failed);
    if (count[V_KVM])
        printf("; %llu KVM emulator divergence%s (native agrees with rem)", count[V_KVM],
               count[V_KVM] == 1 ? "" : "s");
    if (count[V_OPEN])
        printf("; %llu known open rem issue%s (rd_open.c)", count[V_OPEN],
               count[V_OPEN] == 1 ? "" : "s");
    if (count[V_INCONCLUSIVE])
        printf("; %llu inconclusive (hm emulated, no native verdict)", count[V_INCONCLUSIVE]);
    if (count[V_SKIPPED])
        printf("; %llu skipped (not reproducible natively)", count[V_SKIPPED]);
    printf("; %llu outcome%s differed only in flags left undefined there (not compared)",
           masked_undefined, masked_undefined == 1 ? "" : "s");
    printf("; profile %s (%s); %llu mismatch%s\n", o.profile, vendor_token[c.vendor],
           count[V_MISMATCH], count[V_MISMATCH] == 1 ? "" : "es");
    rd_native_destroy(c.nat);
    rd_guest_destroy(c.g);
    return count[V_MISMATCH] ? 1 : 0;
}
