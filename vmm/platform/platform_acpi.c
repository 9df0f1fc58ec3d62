/*
 * vmm/platform/platform_acpi.c - the ACPI tables as relocatable fw_cfg
 * files plus the BIOS linker/loader script that places them
 * (platform_tables.h has the machine they describe).
 *
 * "etc/acpi/tables" holds FACS, DSDT, FADT, MADT, HPET, RSDT and XSDT in
 * that order (the FACS first: the file is allocated 64-byte aligned and
 * the FACS must be). Every pointer between tables holds the target's
 * offset in the file; the script's ADD_POINTER adds the file's address.
 * Every checksum byte is left 0 and fixed by an ADD_CHECKSUM after the
 * pointers (a firmware subtracts the range's sum, so the result is right
 * whatever the byte held). "etc/acpi/rsdp" is the RSDP alone, allocated
 * in the F segment where an OS scans for it. The script:
 *
 *   ALLOCATE etc/acpi/rsdp   align 16  FSEG
 *   ALLOCATE etc/acpi/tables align 64  HIGH
 *   ADD_POINTER ...          FADT -> FACS, DSDT (32 and 64 bit), RSDT and
 *                            XSDT -> tables, RSDP -> RSDT, XSDT
 *   ADD_CHECKSUM ...         each table, then the RSDP's two checksums
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform_internal.h"

#define HDR_LEN  36u
#define RSDP_LEN 36u
#define FADT_LEN 276u /* ACPI 6.0 */
#define FACS_LEN 64u
#define HPET_LEN (HDR_LEN + 20)

#define FADT_F_WBINVD            (1u << 0)
#define FADT_F_PROC_C1           (1u << 2)
#define FADT_F_SLP_BUTTON        (1u << 5) /* no fixed sleep button */
#define FADT_F_RESET_REG_SUP     (1u << 10)
#define BOOT_ARCH_LEGACY_DEVICES 0x0001u
#define BOOT_ARCH_8042           0x0002u
#define PCI_RESET_PORT           0xcf9u
#define PCI_RESET_VALUE          0x06u /* system reset, CPU reset */

#define FILE_RSDP   0
#define FILE_TABLES 1
#define FILE_LOADER 2
static const char *const file_names[PLATFORM_ACPI_FILES] = {
    PLATFORM_ACPI_RSDP_FILE, PLATFORM_ACPI_TABLES_FILE, PLATFORM_TABLE_LOADER};

/* ---- helpers shared by the module ------------------------------------------ */

size_t plat_buf_append(struct plat_buf *b, size_t n, size_t align)
{
    if (b->failed)
        return SIZE_MAX;
    size_t at = (b->len + align - 1) & ~(align - 1);
    if (at + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < at + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return SIZE_MAX;
        }
        b->data = d;
        b->cap = cap;
    }
    memset(b->data + b->len, 0, at + n - b->len);
    b->len = at + n;
    return at;
}

void plat_buf_free(struct plat_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

cap_result plat_fail(char *msg, size_t msglen, cap_result rc, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

uint8_t platform_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

/* ---- the loader script --------------------------------------------------- */

static uint8_t *script_entry(struct plat_buf *s, uint32_t command)
{
    size_t at = plat_buf_append(s, PLATFORM_LOADER_ENTRY, 1);
    if (at == SIZE_MAX)
        return NULL;
    plat_put(s->data + at, command, 4);
    return s->data + at;
}

static void script_allocate(struct plat_buf *s, int file, uint32_t align, uint8_t zone)
{
    uint8_t *e = script_entry(s, PLATFORM_LOADER_ALLOCATE);
    if (!e)
        return;
    memcpy(e + 4, file_names[file], strlen(file_names[file]));
    plat_put(e + 60, align, 4);
    e[64] = zone;
}

static void script_pointer(struct plat_buf *s, int dest, uint32_t offset, int src, uint8_t size)
{
    uint8_t *e = script_entry(s, PLATFORM_LOADER_ADD_POINTER);
    if (!e)
        return;
    memcpy(e + 4, file_names[dest], strlen(file_names[dest]));
    memcpy(e + 60, file_names[src], strlen(file_names[src]));
    plat_put(e + 116, offset, 4);
    e[120] = size;
}

static void script_checksum(struct plat_buf *s, int file, uint32_t offset, uint32_t start,
                            uint32_t len)
{
    uint8_t *e = script_entry(s, PLATFORM_LOADER_ADD_CHECKSUM);
    if (!e)
        return;
    memcpy(e + 4, file_names[file], strlen(file_names[file]));
    plat_put(e + 60, offset, 4);
    plat_put(e + 64, start, 4);
    plat_put(e + 68, len, 4);
}

/* ---- tables --------------------------------------------------------------- */

struct builder {
    struct plat_buf t; /* etc/acpi/tables */
    struct plat_buf s; /* etc/table-loader */
};

/* A table of `len` bytes with the common header; its checksum goes into the
 * script (after the pointers, which the caller adds first). */
static size_t table(struct builder *b, const char *sig, uint32_t len, uint8_t rev, size_t align)
{
    size_t at = plat_buf_append(&b->t, len, align);
    if (at == SIZE_MAX)
        return at;
    uint8_t *t = b->t.data + at;
    memcpy(t, sig, 4);
    plat_put(t + 4, len, 4);
    t[8] = rev;
    memcpy(t + 10, "CAPSUL", 6);
    memcpy(t + 16, "CAPSULEV", 8);
    plat_put(t + 24, 1, 4); /* OEM revision */
    memcpy(t + 28, "CAPS", 4);
    plat_put(t + 32, 1, 4); /* creator revision */
    return at;
}

/* A pointer field in the tables file to another offset in it. */
static void tables_pointer(struct builder *b, size_t at, size_t field, size_t target, uint8_t size)
{
    if (b->t.failed)
        return;
    plat_put(b->t.data + at + field, target, size);
    script_pointer(&b->s, FILE_TABLES, (uint32_t)(at + field), FILE_TABLES, size);
}

static void tables_checksum(struct builder *b, size_t at)
{
    if (b->t.failed)
        return;
    script_checksum(&b->s, FILE_TABLES, (uint32_t)(at + 9), (uint32_t)at,
                    (uint32_t)plat_get(b->t.data + at + 4, 4));
}

/* A Generic Address Structure for a system I/O register block. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t len)
{
    g[0] = 1; /* SystemIO */
    g[1] = (uint8_t)(len * 8);
    g[2] = 0;
    g[3] = len == 4 ? 3 : len == 2 ? 2 : 1; /* access size: dword / word / byte */
    plat_put(g + 4, port, 8);
}

static size_t build_fadt(struct builder *b, size_t facs, size_t dsdt)
{
    const uint16_t pm = PLATFORM_ACPI_PM_BASE;
    size_t at = table(b, "FACP", FADT_LEN, 6, 8);
    if (at == SIZE_MAX)
        return at;
    uint8_t *t = b->t.data + at;
    plat_put(t + 46, PLATFORM_ACPI_SCI_IRQ, 2);
    /* SMI_CMD (48) 0: ACPI mode only, nothing to enable */
    plat_put(t + 56, pm, 4);     /* PM1a_EVT_BLK */
    plat_put(t + 64, pm + 4, 4); /* PM1a_CNT_BLK */
    plat_put(t + 76, pm + 8, 4); /* PM_TMR_BLK */
    t[88] = 4;                   /* PM1_EVT_LEN */
    t[89] = 2;                   /* PM1_CNT_LEN */
    t[91] = 4;                   /* PM_TMR_LEN */
    plat_put(t + 96, 101, 2);    /* P_LVL2_LAT > 100: C2 not supported */
    plat_put(t + 98, 1001, 2);   /* P_LVL3_LAT > 1000: C3 not supported */
    plat_put(t + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042, 2);
    /* The power button is the fixed-feature one (acpipm's PWRBTN_STS); no
     * sleep button: the DSDT offers no sleep state. Reset: the PCI reset
     * control register. */
    plat_put(t + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP, 4);
    gas_io(t + 116, PCI_RESET_PORT, 1); /* RESET_REG */
    t[128] = PCI_RESET_VALUE;
    t[131] = 0;                     /* FADT minor version: 6.0 */
    gas_io(t + 148, pm, 4);         /* X_PM1a_EVT_BLK */
    gas_io(t + 172, pm + 4, 2);     /* X_PM1a_CNT_BLK */
    gas_io(t + 208, pm + 8, 4);     /* X_PM_TMR_BLK */
    memcpy(t + 268, "CAPSULE ", 8); /* hypervisor vendor identity */
    /* FIRMWARE_CTRL (X_FIRMWARE_CTRL stays 0: the FACS is below 4 GiB),
     * DSDT and X_DSDT */
    tables_pointer(b, at, 36, facs, 4);
    tables_pointer(b, at, 40, dsdt, 4);
    tables_pointer(b, at, 140, dsdt, 8);
    tables_checksum(b, at);
    return at;
}

static size_t build_madt(struct builder *b, unsigned cpus)
{
    uint32_t len = HDR_LEN + 8 + 8 * cpus + 12 + 10 + 10;
    size_t at = table(b, "APIC", len, 4, 8);
    if (at == SIZE_MAX)
        return at;
    uint8_t *t = b->t.data + at, *p = t + HDR_LEN + 8;
    plat_put(t + 36, PLATFORM_LAPIC_ADDR, 4);
    plat_put(t + 40, 1, 4); /* PCAT_COMPAT: 8259s present */
    for (unsigned i = 0; i < cpus; i++, p += 8) {
        p[0] = 0; /* processor local APIC */
        p[1] = 8;
        p[2] = (uint8_t)i;     /* ACPI processor UID */
        p[3] = (uint8_t)i;     /* APIC ID */
        plat_put(p + 4, 1, 4); /* enabled */
    }
    p[0] = 1; /* I/O APIC, ID 0, GSI base 0 */
    p[1] = 12;
    plat_put(p + 4, PLATFORM_IOAPIC_ADDR, 4);
    p += 12;
    p[0] = 2; /* interrupt source override: ISA IRQ 0 -> GSI 2, bus defaults */
    p[1] = 10;
    plat_put(p + 4, 2, 4);
    p += 10;
    p[0] = 2; /* ISA IRQ 9 (SCI) -> GSI 9, level, active high */
    p[1] = 10;
    p[3] = PLATFORM_ACPI_SCI_IRQ;
    plat_put(p + 4, PLATFORM_ACPI_SCI_IRQ, 4);
    plat_put(p + 8, 0x000d, 2);
    tables_checksum(b, at);
    return at;
}

static size_t build_hpet(struct builder *b)
{
    size_t at = table(b, "HPET", HPET_LEN, 1, 8);
    if (at == SIZE_MAX)
        return at;
    uint8_t *t = b->t.data + at;
    plat_put(t + 36, PLATFORM_HPET_ID, 4);
    t[40] = 0;  /* base address: SystemMemory */
    t[41] = 64; /* register width */
    plat_put(t + 44, PLATFORM_HPET_ADDR, 8);
    t[52] = 0;                 /* HPET number */
    plat_put(t + 53, 2000, 2); /* minimum periodic tick: TM_MIN_PERIOD_NS, 200 us */
    t[55] = 0;                 /* no page protection claimed */
    tables_checksum(b, at);
    return at;
}

/* RSDT (4-byte entries) or XSDT (8-byte). */
static size_t build_sdt(struct builder *b, const char *sig, uint8_t size, const size_t *tabs,
                        unsigned n)
{
    size_t at = table(b, sig, HDR_LEN + size * n, 1, 8);
    for (unsigned i = 0; at != SIZE_MAX && i < n; i++)
        tables_pointer(b, at, HDR_LEN + size * i, tabs[i], size);
    if (at != SIZE_MAX)
        tables_checksum(b, at);
    return at;
}

static void build_rsdp(struct builder *b, uint8_t *rsdp, size_t rsdt, size_t xsdt)
{
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "CAPSUL", 6);
    rsdp[15] = 2; /* ACPI 2.0+: XSDT */
    plat_put(rsdp + 16, rsdt, 4);
    plat_put(rsdp + 20, RSDP_LEN, 4);
    plat_put(rsdp + 24, xsdt, 8);
    script_pointer(&b->s, FILE_RSDP, 16, FILE_TABLES, 4);
    script_pointer(&b->s, FILE_RSDP, 24, FILE_TABLES, 8);
    script_checksum(&b->s, FILE_RSDP, 8, 0, 20);
    script_checksum(&b->s, FILE_RSDP, 32, 0, RSDP_LEN);
}

cap_result platform_acpi_build(const struct platform_acpi_config *cfg, struct platform_acpi *out,
                               char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    unsigned cpus = cfg->cpus ? cfg->cpus : 1;
    if (cpus > PLATFORM_MAX_CPUS_ARCH)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "%u vCPUs: the ACPI tables describe at most %u", cpus,
                         PLATFORM_MAX_CPUS_ARCH);
    uint64_t mem = platform_pci_mem_start(cfg->ram_below_4g);
    if (mem >= PLATFORM_PCI_MEM_END)
        return plat_fail(msg, msglen, CAP_E_INVALIDARG,
                         "RAM below 4 GiB up to %#llx leaves no PCI memory window below the "
                         "I/O APIC",
                         (unsigned long long)mem);

    struct builder b;
    memset(&b, 0, sizeof(b));
    uint8_t *rsdp = calloc(1, RSDP_LEN), *aml = NULL;
    size_t aml_len = 0;
    if (!rsdp || !plat_dsdt_aml((uint32_t)mem, &aml, &aml_len))
        goto oom;
    script_allocate(&b.s, FILE_RSDP, 16, PLATFORM_ZONE_FSEG);
    script_allocate(&b.s, FILE_TABLES, 64, PLATFORM_ZONE_HIGH);

    size_t facs = plat_buf_append(&b.t, FACS_LEN, 64);
    if (facs != SIZE_MAX) {
        memcpy(b.t.data + facs, "FACS", 4);
        plat_put(b.t.data + facs + 4, FACS_LEN, 4);
        plat_put(b.t.data + facs + 8, 0x43415053u, 4); /* hardware signature: fixed */
        b.t.data[facs + 32] = 2;                       /* version (ACPI 6.0) */
    }
    size_t dsdt = table(&b, "DSDT", (uint32_t)(HDR_LEN + aml_len), 2, 8);
    if (dsdt != SIZE_MAX) {
        memcpy(b.t.data + dsdt + HDR_LEN, aml, aml_len);
        tables_checksum(&b, dsdt);
    }
    size_t tabs[3];
    unsigned n = 0;
    tabs[n++] = build_fadt(&b, facs, dsdt);
    tabs[n++] = build_madt(&b, cpus);
    if (cfg->hpet)
        tabs[n++] = build_hpet(&b);
    size_t rsdt = build_sdt(&b, "RSDT", 4, tabs, n);
    size_t xsdt = build_sdt(&b, "XSDT", 8, tabs, n);
    build_rsdp(&b, rsdp, rsdt, xsdt);
    if (b.t.failed || b.s.failed)
        goto oom;
    free(aml);

    struct platform_file *f = out->files;
    f[FILE_RSDP] = (struct platform_file){.data = rsdp, .len = RSDP_LEN};
    f[FILE_TABLES] = (struct platform_file){.data = b.t.data, .len = b.t.len};
    f[FILE_LOADER] = (struct platform_file){.data = b.s.data, .len = b.s.len};
    for (int i = 0; i < PLATFORM_ACPI_FILES; i++)
        snprintf(f[i].name, sizeof(f[i].name), "%s", file_names[i]);
    return CAP_OK;

oom:
    free(rsdp);
    free(aml);
    plat_buf_free(&b.t);
    plat_buf_free(&b.s);
    return plat_fail(msg, msglen, CAP_E_OUTOFMEMORY, "out of memory for the ACPI tables");
}

void platform_acpi_free(struct platform_acpi *acpi)
{
    for (int i = 0; i < PLATFORM_ACPI_FILES; i++)
        free(acpi->files[i].data);
    memset(acpi, 0, sizeof(*acpi));
}
