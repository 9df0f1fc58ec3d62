/*
 * em_stats.c - engine choice (from em_probe.c's measurements) and the
 * statistics EM keeps (exits by reason, time in each engine and in HLT,
 * instructions rem ran and those it stepped for hm, I/O per port, injected
 * interrupts), for --stats and the console's debugger.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <capsule/errorinfo.h>

#include "em_internal.h"

/* ---- engine choice ------------------------------------------------------- */

static const char *const engine_names[] = {"auto", "hm", "rem", "raw"};

const char *vm_engine_name(enum vm_engine e)
{
    return (unsigned)e < 4 ? engine_names[e] : "?";
}

cap_result vm_engine_parse(const char *s, enum vm_engine *out)
{
    for (unsigned i = 0; i < 4; i++)
        if (s && !strcasecmp(s, engine_names[i])) {
            *out = (enum vm_engine)i;
            return CAP_OK;
        }
    return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                         "em: unknown engine '%s' (expected auto, hm, rem or raw)", s ? s : "");
}

cap_result em_choose_engine(enum vm_engine req, const struct em_host_probe *p,
                            struct em_engine_choice *out)
{
    memset(out, 0, sizeof(*out));
    switch (req) {
    case VM_ENGINE_HM:
        out->engine = VM_ENGINE_HM;
        snprintf(out->why, sizeof(out->why), "%s",
                 p->native_cpl0 ? "requested; guest kernel code runs natively"
                                : "requested; no VT-x/AMD-V: guest kernel code will be emulated by "
                                  "the host kernel (instructions it cannot emulate go to rem)");
        return CAP_OK;
    case VM_ENGINE_REM:
        out->engine = VM_ENGINE_REM;
        snprintf(out->why, sizeof(out->why), "requested");
        return CAP_OK;
    case VM_ENGINE_RAW:
        return cap_error_set(VMM_E_ENGINE_UNAVAILABLE, VMM_COMPONENT, NULL,
                             "em: engine 'raw' is not available yet (use --engine hm, rem or auto)");
    case VM_ENGINE_AUTO:
        if (!p->hm_usable) {
            out->engine = VM_ENGINE_REM;
            snprintf(out->why, sizeof(out->why), "hm is not usable here (%.150s)",
                     p->hm_error[0] ? p->hm_error : "no hypervisor");
        } else if (p->hm_ns_per_insn > 0 && p->rem_ns_per_insn > 0) {
            bool rem = p->hm_ns_per_insn > p->rem_ns_per_insn;
            out->engine = rem ? VM_ENGINE_REM : VM_ENGINE_HM;
            snprintf(out->why, sizeof(out->why),
                     "measured guest kernel code at %.1f ns/insn under hm and %.1f ns/insn "
                     "under rem: %s", p->hm_ns_per_insn, p->rem_ns_per_insn,
                     rem ? "the host emulates it, rem is faster" : "hm is faster");
        } else if (p->native_cpl0) {
            out->engine = VM_ENGINE_HM;
            snprintf(out->why, sizeof(out->why),
                     "VT-x/AMD-V present: guest code runs natively (not measured: %.120s)",
                     p->hm_error[0] ? p->hm_error : "probe failed");
        } else {
            out->engine = VM_ENGINE_REM;
            snprintf(out->why, sizeof(out->why),
                     "no VT-x/AMD-V: guest kernel code would be emulated by the host kernel "
                     "(not measured: %.120s)", p->hm_error[0] ? p->hm_error : "probe failed");
        }
        return CAP_OK;
    }
    return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL, "em: bad engine value %d", req);
}

/* ---- statistics ---------------------------------------------------------- */

void vm_get_stats(struct vm *vm, struct em_stats *out)
{
    *out = vm->stats;
    if (!vm->threads_done && vm->start_ns)
        out->uptime_ns = em_now_ns() - vm->start_ns;
}

static int by_count(const void *a, const void *b)
{
    const struct em_port_stat *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : (int)x->port - (int)y->port;
}

size_t vm_get_io_port_stats(struct vm *vm, struct em_port_stat *out, size_t max)
{
    size_t n = 0, cap = 16;
    struct em_port_stat *all = malloc(cap * sizeof(*all));
    for (unsigned p = 0; all && p < 65536; p++) {
        uint64_t c = __atomic_load_n(&vm->port_counts[p], __ATOMIC_RELAXED);
        if (!c)
            continue;
        if (n == cap) {
            struct em_port_stat *bigger = realloc(all, 2 * cap * sizeof(*all));
            if (!bigger)
                break;
            all = bigger, cap *= 2;
        }
        all[n++] = (struct em_port_stat){.port = (uint16_t)p, .count = c};
    }
    if (!all)
        return 0;
    qsort(all, n, sizeof(*all), by_count);
    if (n > max)
        n = max;
    memcpy(out, all, n * sizeof(*out));
    free(all);
    return n;
}

void em_stats_print(const struct em_stats *s, const struct em_port_stat *ports, size_t nports,
                    FILE *f)
{
    double up = s->uptime_ns / 1e6;
    fprintf(f, "== EM statistics\n");
    fprintf(f, "uptime            %12.3f ms\n", up);
    fprintf(f, "engine runs       %12" PRIu64 "   time in engine %.3f ms (%.1f%%)\n", s->runs,
            s->engine_ns / 1e6, up > 0 ? 100.0 * s->engine_ns / 1e6 / up : 0.0);
    if (s->runs)
        fprintf(f, "mean run          %12.2f us\n", s->engine_ns / 1e3 / (double)s->runs);
    fprintf(f, "time in hm        %12.3f ms   time in rem %.3f ms\n", s->hm_ns / 1e6,
            s->rem_ns / 1e6);
    if (s->rem_insns)
        fprintf(f, "rem instructions  %12" PRIu64 "   %.1f MIPS while in rem\n", s->rem_insns,
                s->rem_ns ? s->rem_insns * 1e3 / (double)s->rem_ns : 0.0);
    if (s->rem_blocks)
        fprintf(f, "rem blocks        %12" PRIu64 "   built, %" PRIu64 " cache flushes; JIT: %" PRIu64
                   " translated, %" PRIu64 " exits chained\n",
                s->rem_blocks, s->rem_flushes, s->rem_translations, s->rem_links);
    if (s->rem_steps) {
        fprintf(f, "instructions stepped by rem for hm %" PRIu64 ":", s->rem_steps);
        for (unsigned i = 0; i < EM_STEP_OPS && s->rem_step_ops[i].count; i++)
            fprintf(f, " %s %" PRIu64, s->rem_step_ops[i].mnem, s->rem_step_ops[i].count);
        fprintf(f, "\n");
    }
    fprintf(f, "halts             %12" PRIu64 "   time halted %.3f ms\n", s->halts,
            s->halt_ns / 1e6);
    fprintf(f, "irqs injected     %12" PRIu64 "   irq windows requested %" PRIu64 "\n",
            s->irqs_injected, s->irq_windows);
    if (s->nmis_injected)
        fprintf(f, "nmis injected     %12" PRIu64 "\n", s->nmis_injected);
    fprintf(f, "io accesses       %12" PRIu64 "   mmio accesses %" PRIu64 "\n", s->io_ops,
            s->mmio_ops);
    fprintf(f, "resets            %12" PRIu64 "   kicks %" PRIu64 "\n", s->resets, s->kicks);
    fprintf(f, "exits by reason:\n");
    for (unsigned r = 0; r < EM_EXIT_REASONS; r++)
        if (s->exits[r])
            fprintf(f, "  %-18s %12" PRIu64 "\n", vmm_exit_name((enum vmm_exit_reason)r),
                    s->exits[r]);
    if (nports)
        fprintf(f, "I/O by port:\n");
    for (size_t i = 0; i < nports; i++)
        fprintf(f, "  0x%04x             %12" PRIu64 "\n", ports[i].port, ports[i].count);
}

void vm_print_stats(struct vm *vm, FILE *f)
{
    struct em_stats s;
    struct em_port_stat ports[16];
    vm_get_stats(vm, &s);
    size_t n = vm_get_io_port_stats(vm, ports, 16);
    em_stats_print(&s, ports, n, f);
    fprintf(f, "log lines suppressed %9llu   (guest-triggered, rate limit)\n",
            (unsigned long long)vm_log_suppressed(vm));
}
