/*
 * tests/unit/ssm/mkseeds.c - writes the seeds of ssm_fuzz with the
 * library's own writer: mkseeds DIR. One stream of every field type, one
 * of several units, one with RAM of zero, text and random pages, one
 * empty stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <capsule/errorinfo.h>

#include "ssm/ssm.h"

static int fail(const char *what)
{
    fprintf(stderr, "mkseeds: %s: %s\n", what, cap_error_peek_message());
    return 1;
}

static void put_types(struct ssm_writer *w)
{
    ssm_begin_unit(w, "dev", 0, 1);
    ssm_put_u8(w, "u8", 0xfe);
    ssm_put_u16(w, "u16", 0xbeef);
    ssm_put_u32(w, "u32", 0xdeadbeef);
    ssm_put_u64(w, "u64", 1ull << 40);
    ssm_put_i64(w, "i64", -42);
    ssm_put_bool(w, "on", true);
    ssm_put_bytes(w, "blob", "\1\2\3\4\5\6\7\10", 8);
    ssm_put_string(w, "str", "COM1");
    ssm_end_unit(w);
}

static cap_result seed(const char *dir, const char *name, int kind)
{
    char path[512];
    struct ssm_writer *w;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cap_result rc = ssm_writer_create(path, "mkseeds", &w);
    if (CAP_FAILED(rc))
        return rc;
    if (kind == 1)
        put_types(w);
    if (kind == 2)
        for (uint32_t i = 0; i < 3; i++) {
            ssm_begin_unit(w, i == 2 ? "pit" : "serial", i, 2);
            ssm_put_u16(w, "count", (uint16_t)(i * 1000));
            ssm_put_u8(w, "a", (uint8_t)i);
            ssm_end_unit(w);
        }
    if (kind == 3) {
        static uint8_t ram[300 * 4096];
        for (size_t p = 0; p < 300; p += 3)
            for (size_t i = 0; i < 4096; i++)
                ram[p * 4096 + i] = p % 2 ? (uint8_t)(i * 2654435761u >> 13) : "text "[i % 5];
        put_types(w);
        ssm_put_ram(w, "ram", 0, 1, ram, sizeof ram);
    }
    return ssm_writer_commit(w, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkseeds DIR\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    static const char *const names[] = {"empty.sav", "types.sav", "units.sav", "ram.sav"};
    for (int k = 0; k < 4; k++)
        if (CAP_FAILED(seed(argv[1], names[k], k)))
            return fail(names[k]);
    return 0;
}
