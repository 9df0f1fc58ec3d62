/*
 * tests/unit/loader/loader_test.h - shared pieces of the loader suite: a
 * small VM (PGM with RAM at 0, one vCPU), image builders, field readers.
 */
#ifndef LOADER_TEST_H
#define LOADER_TEST_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "loader/loader.h"

#define MiB (1024ull * 1024)

struct tvm {
    struct pgm *pgm;
    struct cpum_policy policy;
    struct cpum_cpu cpu;
    struct loader_info info;
};

/* RAM [0, ram) in one range (plus an MMIO page at 0xfec00000 when mmio). */
void tvm_init(struct tvm *vm, uint64_t ram, int mmio);
void tvm_fini(struct tvm *vm);
/* Host pointer to guest RAM (asserts it is mapped). */
uint8_t *gp(struct tvm *vm, uint64_t gpa, size_t len);
/* Nothing was written: the loader's areas are still zero and the vCPU is at reset. */
void assert_untouched(struct tvm *vm);

const char *take_message(void);
/* Loads a buffer with format/entry; returns the result, message in last_msg. */
cap_result load_buf(struct tvm *vm, const void *img, size_t len, enum loader_format fmt,
                    enum loader_entry entry, const char *cmdline, const void *initrd,
                    size_t initrd_len);
extern char last_msg[1024];
/* Loads a buffer the way capsule-vm does: probed, flat as the fallback. */
cap_result load_probed(struct tvm *vm, const void *img, size_t len);

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static inline uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static inline void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

#define ck_assert_msg_has(substr) \
    ck_assert_msg(strstr(last_msg, (substr)) != NULL, "message '%s' lacks '%s'", last_msg, (substr))

TCase *tcase_linux(void);
TCase *tcase_linux_bad(void);
TCase *tcase_acpi(void);
TCase *tcase_multiboot(void);
TCase *tcase_multiboot_bad(void);
TCase *tcase_flat(void);
TCase *tcase_files(void);
TCase *tcase_vmlinux(void);
TCase *tcase_firmware(void);

#endif
