/*
 * bench_call.c - what a dynamic call costs: the same method called
 *
 *   direct   through the vtable (the generated inline helper),
 *   xptcall  through cap_xpt_invoke() (values -> libffi call),
 *   proxy    through a proxy whose handler calls cap_xpt_invoke() on the
 *            real object (closure -> decode -> handler -> libffi call ->
 *            write back): the in-process half of every IPC call,
 *   closure  through a proxy whose handler computes the result itself
 *            (the closure and decode cost alone),
 *
 * for a trivial integer method and two string methods, printed as ns/call
 * and as ratios to the direct call. `scons bench` runs it; an optional
 * argument sets the number of calls per run (default 2,000,000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <capsule/capbench.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/xptcall.h>

/* ---- the real object ---------------------------------------------------- */

struct bench {
    IBench iface;
};

static cap_result b_qi(IBench *self, const cap_uuid *iid, void **out)
{
    *out = NULL;
    return CAP_E_NOINTERFACE; /* never called here */
}

static uint32_t b_ref(IBench *self)
{
    return 1; /* static object */
}

static cap_result b_add(IBench *self, int32_t a, int32_t b, int32_t *sum)
{
    *sum = a + b;
    return CAP_OK;
}

static cap_result b_length(IBench *self, const char *s, uint32_t *n)
{
    *n = s ? (uint32_t)strlen(s) : 0;
    return CAP_OK;
}

static cap_result b_echo(IBench *self, const char *s, char **copy)
{
    *copy = cap_str_dup(s);
    return s && !*copy ? CAP_E_OUTOFMEMORY : CAP_OK;
}

static const struct IBenchVtbl b_vtbl = {
    .QueryInterface = b_qi,
    .AddRef = b_ref,
    .Release = b_ref,
    .Add = b_add,
    .Length = b_length,
    .Echo = b_echo,
};

static struct bench the_object = {{&b_vtbl}};

/* Read through a volatile pointer so that no call can be devirtualised. */
static IBench *volatile target = &the_object.iface;

/* ---- handlers -------------------------------------------------------------- */

static cap_result forward(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                          const struct cap_tl_method *m, struct cap_xpt_value *v)
{
    return cap_xpt_invoke(ctx, tl, slot, v, m->n_params);
}

static const struct cap_proxy_handler forward_handler = {.call = forward};

static uint32_t slot_add, slot_length, slot_echo;

static cap_result local(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                        const struct cap_tl_method *m, struct cap_xpt_value *v)
{
    if (slot == slot_add)
        v[2].i32 = v[0].i32 + v[1].i32;
    else if (slot == slot_length)
        v[1].u32 = v[0].cstr ? (uint32_t)strlen(v[0].cstr) : 0;
    else
        v[1].str = cap_str_dup(v[0].cstr);
    return CAP_OK;
}

static const struct cap_proxy_handler local_handler = {.call = local};

/* ---- runs ------------------------------------------------------------------- */

enum way { DIRECT, XPTCALL, PROXY, CLOSURE, N_WAYS };
enum meth { ADD, LENGTH, ECHO, N_METHS };

static const char *const way_names[N_WAYS] = {"direct", "xptcall", "proxy", "closure"};
static const char *const meth_names[N_METHS] = {"add(long, long)", "length(string)",
                                                "echo(string)"};
static IBench *proxies[N_WAYS];
static const char *const text = "a string of forty characters, give or t";

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One run of n calls; returns ns per call, or -1 if a call failed. */
static double run(enum way way, enum meth meth, long n)
{
    IBench *o = way == DIRECT || way == XPTCALL ? target : proxies[way];
    const struct cap_tl_iface *tl = &cap_tl_IBench;
    uint32_t slot = meth == ADD ? slot_add : meth == LENGTH ? slot_length : slot_echo;
    long bad = 0;
    double t0 = now_ns();

    for (long i = 0; i < n; i++) {
        int32_t sum = 0;
        uint32_t len = 0;
        char *copy = NULL;
        if (way == XPTCALL) {
            struct cap_xpt_value v[3] = {{.i32 = (int32_t)i}, {.i32 = 1}};
            if (meth != ADD)
                v[0].cstr = text;
            bad += cap_xpt_invoke(o, tl, slot, v, meth == ADD ? 3 : 2) != CAP_OK;
            sum = v[2].i32;
            len = v[1].u32;
            copy = meth == ECHO ? v[1].str : NULL;
        } else if (meth == ADD) {
            bad += IBench_Add(o, (int32_t)i, 1, &sum) != CAP_OK;
        } else if (meth == LENGTH) {
            bad += IBench_Length(o, text, &len) != CAP_OK;
        } else {
            bad += IBench_Echo(o, text, &copy) != CAP_OK;
        }
        if (meth == ADD)
            bad += sum != (int32_t)i + 1;
        else if (meth == LENGTH)
            bad += len != strlen(text);
        else
            bad += !copy;
        cap_str_free(copy);
    }
    double t = now_ns() - t0;
    return bad ? -1 : t / n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [calls-per-run]\n", argv[0]);
        return 2;
    }
    slot_add = cap_tl_IBench.first_own;
    slot_length = slot_add + 1;
    slot_echo = slot_add + 2;
    if (CAP_FAILED(cap_proxy_create(&cap_tl_IBench, &forward_handler, target,
                                    (ISupports **)&proxies[PROXY])) ||
        CAP_FAILED(cap_proxy_create(&cap_tl_IBench, &local_handler, NULL,
                                    (ISupports **)&proxies[CLOSURE]))) {
        fprintf(stderr, "bench_call: cannot create proxies: %s\n", cap_error_peek_message());
        return 1;
    }

    double ns[N_METHS][N_WAYS];
    for (int m = 0; m < N_METHS; m++) {
        for (int w = 0; w < N_WAYS; w++) {
            double best = 1e30;
            for (int r = 0; r < 5; r++) { /* best of 5 */
                double t = run(w, m, n);
                if (t < 0) {
                    fprintf(stderr, "bench_call: %s %s gave a wrong result\n", way_names[w],
                            meth_names[m]);
                    return 1;
                }
                best = t < best ? t : best;
            }
            ns[m][w] = best;
        }
    }

    printf("bench_call: ns per call, best of 5 runs of %ld calls\n", n);
    printf("%-18s %8s %8s %8s %8s   %9s %9s %9s\n", "method", "direct", "xptcall", "proxy",
           "closure", "xpt/dir", "proxy/dir", "proxy/xpt");
    for (int m = 0; m < N_METHS; m++)
        printf("%-18s %8.1f %8.1f %8.1f %8.1f   %8.1fx %8.1fx %8.1fx\n", meth_names[m],
               ns[m][DIRECT], ns[m][XPTCALL], ns[m][PROXY], ns[m][CLOSURE],
               ns[m][XPTCALL] / ns[m][DIRECT], ns[m][PROXY] / ns[m][DIRECT],
               ns[m][PROXY] / ns[m][XPTCALL]);

    CAP_RELEASE(proxies[PROXY]);
    CAP_RELEASE(proxies[CLOSURE]);
    cap_error_clear();
    cap_xpt_shutdown();
    return 0;
}
