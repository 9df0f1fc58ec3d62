/*
 * bench_call.c - what a dynamic call costs: the same method called
 *
 *   direct   through the vtable (the generated inline helper),
 *   libffi   ffi_call() with a prepared cif and argument array: the floor of
 *            any libffi-based dynamic call, for reference,
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

#include <ffi.h>

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

enum way { DIRECT, LIBFFI, XPTCALL, PROXY, CLOSURE, N_WAYS };
enum meth { ADD, LENGTH, ECHO, N_METHS };

static const char *const way_names[N_WAYS] = {"direct", "libffi", "xptcall", "proxy", "closure"};
static ffi_cif cif_add, cif_str; /* (self, long, long, long *), (self, char *, void *) */
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
    IBench *o = way == DIRECT || way == LIBFFI || way == XPTCALL ? target : proxies[way];
    const struct cap_tl_iface *tl = &cap_tl_IBench;
    uint32_t slot = meth == ADD ? slot_add : meth == LENGTH ? slot_length : slot_echo;
    long bad = 0;
    double t0 = now_ns();

    for (long i = 0; i < n; i++) {
        int32_t sum = 0;
        uint32_t len = 0;
        char *copy = NULL;
        if (way == LIBFFI) {
            void *self = o, *out = meth == ADD      ? (void *)&sum
                                   : meth == LENGTH ? (void *)&len
                                                    : &copy;
            int32_t a = (int32_t)i, b = 1;
            void *av[4] = {&self, &a, &b, &out};
            ffi_arg ret;
            if (meth != ADD) {
                av[1] = (void *)&text;
                av[2] = &out;
            }
            ffi_call(meth == ADD ? &cif_add : &cif_str,
                     (void (*)(void))((void *const *)o->vtbl)[slot], &ret, av);
            bad += (cap_result)ret != CAP_OK;
        } else if (way == XPTCALL) {
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
        if (copy)
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

    static ffi_type *add_types[4] = {&ffi_type_pointer, &ffi_type_sint32, &ffi_type_sint32,
                                     &ffi_type_pointer};
    static ffi_type *str_types[3] = {&ffi_type_pointer, &ffi_type_pointer, &ffi_type_pointer};
    ffi_prep_cif(&cif_add, FFI_DEFAULT_ABI, 4, &ffi_type_sint32, add_types);
    ffi_prep_cif(&cif_str, FFI_DEFAULT_ABI, 3, &ffi_type_sint32, str_types);

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
    printf("%-16s", "method");
    for (int w = 0; w < N_WAYS; w++)
        printf(" %8s", way_names[w]);
    printf("   %8s %9s %9s\n", "xpt/dir", "proxy/dir", "proxy/xpt");
    for (int m = 0; m < N_METHS; m++) {
        printf("%-16s", meth_names[m]);
        for (int w = 0; w < N_WAYS; w++)
            printf(" %8.1f", ns[m][w]);
        printf("   %7.1fx %8.1fx %8.1fx\n", ns[m][XPTCALL] / ns[m][DIRECT],
               ns[m][PROXY] / ns[m][DIRECT], ns[m][PROXY] / ns[m][XPTCALL]);
    }

    CAP_RELEASE(proxies[PROXY]);
    CAP_RELEASE(proxies[CLOSURE]);
    cap_error_clear();
    cap_xpt_shutdown();
    return 0;
}
