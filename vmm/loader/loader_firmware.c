/*
 * vmm/loader/loader_firmware.c - a PC BIOS image (SeaBIOS's bios.bin or
 * bios-256k.bin) as the boot firmware, the way a PC's flash is wired:
 *
 *   - the whole image is ROM at the top of the 32-bit address space,
 *     [4 GiB - size, 4 GiB), where the CPU's first fetch after power-on
 *     lands (CS base 0xffff0000 + IP 0xfff0 = 4 GiB - 16);
 *   - its last 128 KiB (all of it when smaller) also appear at
 *     [1 MiB - 128 KiB, 1 MiB), the legacy BIOS area (E/F segments) that
 *     real-mode code reaches through segment 0xf000.
 *
 * The legacy area is a copy in RAM, not ROM: the chipset's PAM registers
 * (i440FX) decide on a PC whether reads there see the flash or the shadow
 * RAM, and SeaBIOS, finding that area not RAM-backed, unlocks it through
 * PAM and copies itself there from the high alias before it writes its
 * variables. Starting with shadow RAM that already holds the image gives
 * the same result without PGM remapping ranges under the chipset's
 * control: the copy rewrites the same bytes. (What is missing: PAM's
 * read-only setting - the guest can write its BIOS area after POST.)
 *
 * No boot protocol, no tables: the vCPU is put in its power-on state
 * (real mode, CS:IP f000:fff0) and the firmware builds what the OS needs
 * (e820 from fw_cfg or CMOS, ACPI from fw_cfg's table loader).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "loader_internal.h"

static cap_result fw_fail(cap_result rc, const char *who, const char *fmt, ...) CAP_PRINTF(3, 4);

static cap_result fw_fail(cap_result rc, const char *who, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cap_error_set(rc, VMM_COMPONENT, NULL, "loader: firmware '%s': %s", who, msg);
}

cap_result ldr_firmware_check(const uint8_t *img, size_t len, struct ldr_err *err)
{
    if (len < LOADER_FIRMWARE_MIN || len > LOADER_FIRMWARE_MAX || len % LOADER_FIRMWARE_MIN)
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "%zu bytes: a BIOS image is a multiple of 64 KiB of at most %u MiB", len,
                        (unsigned)(LOADER_FIRMWARE_MAX >> 20));
    /* the 16 bytes at the reset vector: erased flash (all ones) or a file
     * of zeros has no jump there and would run off the end of memory */
    const uint8_t *rv = img + len - 16;
    unsigned same = 0;
    for (unsigned i = 0; i < 16; i++)
        same += rv[i] == rv[0];
    if (same == 16 && (rv[0] == 0x00 || rv[0] == 0xff))
        return ldr_fail(err, VMM_E_LOADER_BAD_IMAGE,
                        "no code at the reset vector (its last 16 bytes are all 0x%02x): not a "
                        "BIOS image",
                        rv[0]);
    return CAP_OK;
}

/* Maps the high ROM; on a reset it is there already (same image). */
static cap_result map_high_rom(struct pgm *pgm, const struct platform_range *rom,
                               const uint8_t *img, size_t len, const char *who)
{
    uint64_t gpa = rom->addr;
    const struct pgm_range *r = pgm_find(pgm, gpa);
    if (r && r->kind == PGM_RANGE_ROM && r->gpa == gpa && r->size == len &&
        !strcmp(r->name, "bios"))
        return CAP_OK;
    cap_result rc = pgm_map_rom(pgm, gpa, len, img, len, "bios");
    if (CAP_FAILED(rc))
        return fw_fail(rc, who, "cannot map it at 0x%llx-0xffffffff: %s", (unsigned long long)gpa,
                       cap_error_peek_message());
    return CAP_OK;
}

cap_result loader_load_firmware(struct pgm *pgm, struct cpum_cpu *cpu,
                                const struct loader_params *p, struct loader_info *out)
{
    if (!pgm || !cpu || !p)
        return cap_error_set(CAP_E_POINTER, VMM_COMPONENT, NULL, "loader: NULL argument");
    if (!p->kernel_path && !p->kernel_buf)
        return cap_error_set(CAP_E_INVALIDARG, VMM_COMPONENT, NULL,
                             "loader: no firmware image given (path or buffer)");
    const char *who = p->kernel_path   ? p->kernel_path
                      : p->kernel_name ? p->kernel_name
                                       : "firmware";
    const uint8_t *img = p->kernel_buf;
    size_t len = p->kernel_len;
    uint8_t *owned = NULL;
    struct ldr_err err = {{0}};
    cap_result rc = CAP_OK;
    if (p->kernel_path) {
        struct ldr_file f = {0};
        rc = ldr_read_file(p->kernel_path, LOADER_FIRMWARE_MAX, &f, &err);
        if (rc)
            return fw_fail(rc, who, "%s", err.msg);
        img = owned = f.owned;
        len = f.len;
    }
    if ((rc = ldr_firmware_check(img, len, &err))) {
        fw_fail(rc, who, "%s", err.msg);
        goto out;
    }
    /* where vmm/platform puts a BIOS image of this size (checked above) */
    struct platform_range rom[2];
    if ((rc = platform_bios_rom(len, rom, err.msg, sizeof(err.msg)))) {
        fw_fail(rc, who, "%s", err.msg);
        goto out;
    }
    size_t low = (size_t)rom[1].size;
    uint64_t low_gpa = rom[1].addr;
    uint8_t *hva = pgm_gpa_to_hva(pgm, low_gpa, low, CAP_TRUE);
    if (!hva) {
        rc = fw_fail(VMM_E_LOADER_NO_ROOM, who,
                     "needs RAM at 0x%llx-0x%llx for its legacy copy (the guest's RAM must "
                     "start at 0 and cover 1 MiB)",
                     (unsigned long long)low_gpa, (unsigned long long)LOADER_FIRMWARE_LOW_END - 1);
        goto out;
    }
    if ((rc = map_high_rom(pgm, &rom[0], img, len, who)))
        goto out;
    memcpy(hva, img + len - low, low);
    cpum_reset(cpu, CPUM_RESET_POWER_ON);
    cpum_mark_dirty(cpu, CPUM_STATE_ALL);
    if (out) {
        memset(out, 0, sizeof(*out));
        out->format = LOADER_FIRMWARE;
        out->entry = LOADER_ENTRY_REAL;
        out->entry_point = 0xfffffff0ull;
        out->kernel_start = rom[0].addr;
        out->kernel_end = rom[0].addr + rom[0].size;
        snprintf(out->description, sizeof(out->description),
                 "BIOS image, %zu KiB at 0x%llx (last %zu KiB at 0x%llx), reset vector "
                 "f000:fff0",
                 len >> 10, (unsigned long long)rom[0].addr, low >> 10,
                 (unsigned long long)low_gpa);
    }
out:
    free(owned);
    return rc;
}
