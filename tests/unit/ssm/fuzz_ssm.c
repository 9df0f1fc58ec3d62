/*
 * tests/unit/ssm/fuzz_ssm.c - libFuzzer target for the saved-state reader
 * (`scons fuzz-ssm_fuzz`): the input is a whole stream, put in a memfd and
 * opened with ssm_open_fd. The library is compiled with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which skips comparing the
 * CRCs (the fuzzer cannot forge them) so the parsers behind them are
 * reached. A stream that opens has every unit read: fields by the names
 * and types the seeds use, RAM (up to 16 MiB) loaded into fresh memory.
 * A crash or a sanitizer report is a finding; refusal is the expected
 * answer to most inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "ssm/ssm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_fields(struct ssm_unit *u)
{
    static const char *const names[] = {"a",   "b",   "c",  "u8",   "u16", "u32",
                                        "u64", "i64", "on", "blob", "str", "count"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint8_t v8, blob[8];
        uint16_t v16;
        uint32_t v32;
        uint64_t v64;
        int64_t i64;
        bool b;
        char s[16];
        const void *d;
        size_t n;
        ssm_get_u8(u, names[i], 1, &v8);
        ssm_get_u16(u, names[i], 1, &v16);
        ssm_get_u32(u, names[i], 1, &v32);
        ssm_get_u64(u, names[i], 1, &v64);
        ssm_get_i64(u, names[i], -1, &i64);
        ssm_get_bool(u, names[i], true, &b);
        ssm_get_bytes(u, names[i], blob, sizeof blob);
        ssm_get_string(u, names[i], "x", s, sizeof s);
        if (ssm_get_bytes_ref(u, names[i], &d, &n) == CAP_OK && n)
            memcpy(blob, d, n < sizeof blob ? n : sizeof blob);
    }
    ssm_unit_check_version(u, 1, 2);
}

static void read_all(struct ssm_reader *r)
{
    for (size_t i = 0; i < ssm_unit_count(r); i++) {
        const struct ssm_unit_info *info = ssm_unit_info(r, i);
        struct ssm_unit *u;
        if (info->kind == SSM_UNIT_FIELDS) {
            if (ssm_find_unit(r, info->name, info->instance, &u) == CAP_OK)
                read_fields(u);
        } else if (info->ram_size <= (16u << 20)) {
            size_t n = info->ram_size ? (size_t)info->ram_size : 1;
            void *ram = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (ram != MAP_FAILED) {
                if (ssm_load_ram(r, info->name, info->instance, ram, info->ram_size) != CAP_OK)
                    abort(); /* verified at open: loading cannot fail */
                munmap(ram, n);
            }
        }
    }
    ssm_check_all_used(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("ssm-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        struct ssm_reader *r = NULL;
        if (ssm_open_fd(fd, &r) == CAP_OK)
            read_all(r);
        ssm_close(r);
    }
    cap_error_clear();
    close(fd);
    return 0;
}
