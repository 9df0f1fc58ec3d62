/*
 * vmm/loader/fuzz/fuzz_common.h - shared driver of the loader fuzz targets:
 * the input is the kernel image; the first byte picks the entry mode and
 * whether a small initrd and a command line are passed. The plan is built
 * and checked against a 64 MiB guest, all from memory (no files, no PGM).
 */
#ifndef LOADER_FUZZ_COMMON_H
#define LOADER_FUZZ_COMMON_H

#include <string.h>

#include "loader_internal.h"

typedef cap_result (*fuzz_planner)(const uint8_t *, size_t, const struct ldr_inputs *,
                                   const struct ldr_mem *, struct ldr_plan *, struct ldr_err *);

static int fuzz_one(fuzz_planner planner, const uint8_t *data, size_t size)
{
    static const uint64_t ram[2][2] = { { 0, 0x100000 }, { 0x100000, 64ull << 20 } };
    static const uint64_t rsv[1][2] = { { 0xfec00000, 0xfec01000 } };
    static struct ldr_plan plan;
    struct ldr_mem mem;
    struct ldr_err err;
    if (ldr_mem_build(&mem, ram, 2, rsv, 1, &err))
        __builtin_trap();
    unsigned sel = size ? data[0] : 0;
    struct ldr_inputs in = {
        .initrd = data,
        .initrd_len = (sel & 4) ? (size < 4096 ? size : 4096) : 0,
        .initrd_name = "initrd",
        .kernel_name = "/boot/kernel", /* never NULL (loader_internal.h) */
        .cmdline = (sel & 8) ? "console=ttyS0 root=/dev/vda" : "",
        .entry = (enum loader_entry)(sel & 3),
        .flat_addr = 0,
    };
    (void)loader_probe(data, size);
    ldr_plan_init(&plan);
    if (planner(data, size, &in, &mem, &plan, &err) == CAP_OK)
        (void)ldr_plan_check(&plan, &mem, &err);
    err.msg[sizeof(err.msg) - 1] = '\0';
    if (strlen(err.msg) >= sizeof(err.msg))
        __builtin_trap();
    ldr_plan_free(&plan);
    return 0;
}

#endif
