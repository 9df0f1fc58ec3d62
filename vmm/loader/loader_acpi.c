/*
 * vmm/loader/loader_acpi.c - the ACPI tables a Linux boot gets, since there
 * is no firmware to provide them: just enough for the kernel to find the
 * APICs and to power the machine off.
 *
 *   RSDP (revision 2) -> XSDT -> FADT -> DSDT
 *                                     -> FACS
 *                             -> MADT
 *                             -> HPET (unless the VM has none)
 *
 * The FADT describes the fixed hardware of plugins/devices/acpipm (PM1a
 * event block, PM1a control block, PM timer at LOADER_ACPI_PM_BASE, SCI on
 * IRQ 9, the fixed-feature power button; not hardware-reduced, no SMI_CMD:
 * always in ACPI mode) and the PC legacy devices (8042, 8259s). The DSDT's
 * AML is hand-assembled and holds Name (_S5, Package () {5, 5, 0, 0}), the
 * sleep type acpipm powers off on, and the PCI root bridge \_SB.PCI0
 * (plugins/devices/pci). The MADT lists one local APIC per vCPU (IDs
 * 0..n-1), the I/O APIC (ID 0 at 0xfec00000, GSI base 0) and the overrides
 * a PC has: ISA IRQ 0 -> GSI 2, and IRQ 9 (the SCI) level-triggered active
 * high. The FACS (64 bytes, 64-byte aligned, at FADT's FIRMWARE_CTRL;
 * X_FIRMWARE_CTRL must then be 0) is there because ACPI requires one when not
 * hardware-reduced: a hardware signature, no waking vector (no S3), no
 * global lock. The HPET table describes plugins/devices/hpet: its
 * event timer block ID (the capabilities register's low half) at
 * LOADER_HPET_ADDR, HPET number 0, and the shortest periodic tick worth
 * programming (TM_MIN_PERIOD_NS: 200 us, 2000 ticks of 10 MHz).
 *
 * Everything lives in [LOADER_ACPI_ADDR, LOADER_ACPI_END), which the e820
 * map the kernel gets marks ACPI (type 3); boot_params.acpi_rsdp_addr
 * points at the RSDP (boot protocol 2.14+), so the kernel does not scan
 * the BIOS area for it. Pure code, like the planners.
 */
#include <string.h>

#include "loader_internal.h"

#define HDR_LEN   36u
#define RSDP_LEN  36u
#define XSDT_MAX   (HDR_LEN + 3 * 8)
#define FADT_LEN  276u /* ACPI 6.0 */
#define DSDT_LEN   (HDR_LEN + sizeof(ldr_acpi_s5_aml) + sizeof(ldr_acpi_pci0_aml))
#define MADT_FIXED (HDR_LEN + 8)
#define FACS_LEN   64u
#define HPET_LEN   (HDR_LEN + 20)

#define OFF_RSDP 0x000u
#define OFF_XSDT 0x040u
#define OFF_FADT 0x080u
#define OFF_FACS 0x1c0u /* after the FADT, 64-byte aligned */
#define OFF_DSDT 0x200u
#define OFF_MADT 0x300u
#define OFF_HPET 0xb80u /* after the largest MADT (0xb44) */

#define FADT_F_WBINVD     (1u << 0)
#define FADT_F_PROC_C1           (1u << 2)
#define FADT_F_SLP_BUTTON (1u << 5) /* no fixed sleep button */
#define BOOT_ARCH_LEGACY_DEVICES 0x0001u
#define BOOT_ARCH_8042           0x0002u

/* Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) */
const uint8_t ldr_acpi_s5_aml[14] = {
    0x08, '_', 'S', '5', '_',  /* NameOp, NameSeg */
    0x12, 0x08, 0x04,          /* PackageOp, PkgLength 8, NumElements 4 */
    0x0a, LOADER_ACPI_S5_TYPE, /* BytePrefix 5: SLP_TYPa */
    0x0a, LOADER_ACPI_S5_TYPE, /* BytePrefix 5: SLP_TYPb */
    0x00, 0x00,                /* Zero, Zero (reserved) */
};

/*
 * The PCI root bridge (plugins/devices/pci: configuration mechanism #1 at
 * 0xCF8, the i440FX host bridge at 00:00.0). An ACPI kernel scans only the
 * root buses the DSDT declares, so without this Linux finds mechanism #1
 * and still no bus.
 *
 *   Scope (\_SB) {
 *     Device (PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))
 *       Name (_UID, Zero)
 *       Name (_CRS, ResourceTemplate () {
 *         WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                        0, 0x00, 0xFF, 0, 0x100)
 *         IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
 *         WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                 0, 0x0000, 0x0CF7, 0, 0x0CF8)
 *         WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *                 0, 0x0D00, 0xFFFF, 0, 0xF300)
 *       })
 *     }
 *   }
 *
 * No memory window yet: no function has a BAR (they come with the
 * platform's memory layout, issue 12).
 */
const uint8_t ldr_acpi_pci0_aml[99] = {
    0x10, 0x42, 0x06,               /* ScopeOp, PkgLength 98 */
    0x5c, '_', 'S', 'B', '_',       /* \_SB_ */
    0x5b, 0x82, 0x49, 0x05,         /* DeviceOp, PkgLength 89 */
    'P', 'C', 'I', '0',             /* PCI0 */
    0x08, '_', 'H', 'I', 'D',       /* Name (_HID, */
    0x0c, 0x41, 0xd0, 0x0a, 0x03,   /*   DWordConst EisaId ("PNP0A03")) */
    0x08, '_', 'U', 'I', 'D', 0x00, /* Name (_UID, Zero) */
    0x08, '_', 'C', 'R', 'S',       /* Name (_CRS, */
    0x11, 0x3d, 0x0a, 0x3a,         /*   BufferOp, PkgLength 61, 58 bytes */
    /* WordBusNumber: tag 0x88, length 13, type 2 (bus), MinFixed|MaxFixed */
    0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
    /* IO: the configuration ports 0xCF8-0xCFF (consumed) */
    0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
    /* WordIO 0x0000-0x0CF7: type 1 (I/O), MinFixed|MaxFixed, EntireRange */
    0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8, 0x0c,
    /* WordIO 0x0D00-0xFFFF */
    0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3,
    0x79, 0x00, /* EndTag */
};

uint8_t ldr_acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    ldr_put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "CAPSUL", 6);
    memcpy(t + 16, "CAPSULEV", 8);
    ldr_put32(t + 24, 1); /* OEM revision */
    memcpy(t + 28, "CAPS", 4);
    ldr_put32(t + 32, 1); /* creator revision */
}

static void finish(uint8_t *t)
{
    t[9] = 0;
    t[9] = ldr_acpi_checksum(t, ldr_le32(t + 4));
}

/* A Generic Address Structure for a system I/O register block. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t len)
{
    g[0] = 1; /* SystemIO */
    g[1] = (uint8_t)(len * 8);
    g[2] = 0;
    g[3] = len == 4 ? 3 : 2; /* access size: dword / word */
    ldr_put64(g + 4, port);
}

static void build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
    const uint16_t pm = LOADER_ACPI_PM_BASE;
    table_header(t, "FACP", FADT_LEN, 6);
    ldr_put32(t + 36, facs); /* FIRMWARE_CTRL (X_FIRMWARE_CTRL stays 0: below 4 GiB) */
    ldr_put32(t + 40, dsdt);
    ldr_put16(t + 46, LOADER_ACPI_SCI_IRQ);
    /* SMI_CMD (48) 0: ACPI mode only, nothing to enable */
    ldr_put32(t + 56, pm);     /* PM1a_EVT_BLK */
    ldr_put32(t + 64, pm + 4); /* PM1a_CNT_BLK */
    ldr_put32(t + 76, pm + 8); /* PM_TMR_BLK */
    t[88] = 4;                 /* PM1_EVT_LEN */
    t[89] = 2;                 /* PM1_CNT_LEN */
    t[91] = 4;                 /* PM_TMR_LEN */
    ldr_put16(t + 96, 101);    /* P_LVL2_LAT > 100: C2 not supported */
    ldr_put16(t + 98, 1001);   /* P_LVL3_LAT > 1000: C3 not supported */
    ldr_put16(t + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
    /* The power button is the fixed-feature one (acpipm's PWRBTN_STS); no
     * sleep button: the DSDT offers no sleep state. */
    ldr_put32(t + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON);
    t[131] = 0;                /* FADT minor version: 6.0 */
    ldr_put64(t + 140, dsdt);  /* X_DSDT */
    gas_io(t + 148, pm, 4);     /* X_PM1a_EVT_BLK */
    gas_io(t + 172, pm + 4, 2); /* X_PM1a_CNT_BLK */
    gas_io(t + 208, pm + 8, 4); /* X_PM_TMR_BLK */
    memcpy(t + 268, "CAPSULE ", 8); /* hypervisor vendor identity */
    finish(t);
}

static uint32_t build_madt(uint8_t *t, unsigned cpus)
{
    uint8_t *p = t + MADT_FIXED;
    ldr_put32(t + 36, 0xfee00000u); /* local APIC address */
    ldr_put32(t + 40, 1);           /* PCAT_COMPAT: 8259s present */
    for (unsigned i = 0; i < cpus; i++, p += 8) {
        p[0] = 0; /* processor local APIC */
        p[1] = 8;
        p[2] = (uint8_t)i; /* ACPI processor UID */
        p[3] = (uint8_t)i; /* APIC ID */
        ldr_put32(p + 4, 1); /* enabled */
    }
    p[0] = 1; /* I/O APIC */
    p[1] = 12;
    p[2] = 0;
    ldr_put32(p + 4, 0xfec00000u);
    ldr_put32(p + 8, 0); /* GSI base */
    p += 12;
    p[0] = 2; /* interrupt source override: ISA IRQ 0 -> GSI 2, bus defaults */
    p[1] = 10;
    ldr_put32(p + 4, 2);
    p += 10;
    p[0] = 2; /* ISA IRQ 9 (SCI) -> GSI 9, level, active high */
    p[1] = 10;
    p[3] = LOADER_ACPI_SCI_IRQ;
    ldr_put32(p + 4, LOADER_ACPI_SCI_IRQ);
    ldr_put16(p + 8, 0x000d);
    p += 10;
    uint32_t len = (uint32_t)(p - t);
    table_header(t, "APIC", len, 4);
    finish(t);
    return len;
}

static void build_facs(uint8_t *t)
{
    memcpy(t, "FACS", 4);
    ldr_put32(t + 4, FACS_LEN);
    ldr_put32(t + 8, 0x43415053u); /* hardware signature: fixed, no hardware changes */
    t[32] = 2;                     /* version (ACPI 6.0) */
}

static void build_hpet(uint8_t *t)
{
    table_header(t, "HPET", HPET_LEN, 1);
    ldr_put32(t + 36, LOADER_HPET_ID);
    t[40] = 0;  /* base address: SystemMemory */
    t[41] = 64; /* register width */
    ldr_put64(t + 44, LOADER_HPET_ADDR);
    t[52] = 0;               /* HPET number */
    ldr_put16(t + 53, 2000); /* minimum periodic tick */
    t[55] = 0;               /* no page protection claimed */
    finish(t);
}

_Static_assert(OFF_XSDT + XSDT_MAX <= OFF_FADT && OFF_FADT + FADT_LEN <= OFF_FACS &&
                   OFF_FACS % 64 == 0 && OFF_FACS + FACS_LEN <= OFF_DSDT &&
                   OFF_DSDT + DSDT_LEN <= OFF_MADT &&
                   OFF_MADT + MADT_FIXED + 8 * PLATFORM_MAX_CPUS_ARCH + 32 <= OFF_HPET &&
                   OFF_HPET + HPET_LEN <= LOADER_ACPI_SIZE,
               "the ACPI tables overlap");

cap_result ldr_add_acpi(struct ldr_plan *plan, unsigned cpus, cap_bool hpet, struct ldr_err *err)
{
    if (cpus == 0)
        cpus = 1;
    if (cpus > PLATFORM_MAX_CPUS_ARCH)
        return ldr_fail(err, CAP_E_INVALIDARG, "%u vCPUs: the ACPI tables describe at most %u",
                        cpus, PLATFORM_MAX_CPUS_ARCH);
    const uint64_t base = LOADER_ACPI_ADDR;
    uint8_t *a = ldr_plan_blob(plan, LOADER_ACPI_SIZE, err);
    if (!a)
        return CAP_E_OUTOFMEMORY;

    /* DSDT */
    uint8_t *dsdt = a + OFF_DSDT;
    table_header(dsdt, "DSDT", (uint32_t)DSDT_LEN, 2);
    memcpy(dsdt + HDR_LEN, ldr_acpi_s5_aml, sizeof(ldr_acpi_s5_aml));
    memcpy(dsdt + HDR_LEN + sizeof(ldr_acpi_s5_aml), ldr_acpi_pci0_aml, sizeof(ldr_acpi_pci0_aml));
    finish(dsdt);

    build_facs(a + OFF_FACS);
    build_fadt(a + OFF_FADT, (uint32_t)(base + OFF_FACS), (uint32_t)(base + OFF_DSDT));
    build_madt(a + OFF_MADT, cpus);
    if (hpet)
        build_hpet(a + OFF_HPET);

    uint8_t *xsdt = a + OFF_XSDT;
    uint32_t entries = hpet ? 3 : 2;
    table_header(xsdt, "XSDT", HDR_LEN + 8 * entries, 1);
    ldr_put64(xsdt + HDR_LEN, base + OFF_FADT);
    ldr_put64(xsdt + HDR_LEN + 8, base + OFF_MADT);
    if (hpet)
        ldr_put64(xsdt + HDR_LEN + 16, base + OFF_HPET);
    finish(xsdt);

    uint8_t *rsdp = a + OFF_RSDP;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "CAPSUL", 6);
    rsdp[15] = 2; /* ACPI 2.0+: XSDT */
    ldr_put32(rsdp + 16, 0); /* no RSDT */
    ldr_put32(rsdp + 20, RSDP_LEN);
    ldr_put64(rsdp + 24, base + OFF_XSDT);
    rsdp[8] = ldr_acpi_checksum(rsdp, 20);
    rsdp[32] = ldr_acpi_checksum(rsdp, RSDP_LEN);

    plan->info.acpi_rsdp = base + OFF_RSDP;
    return ldr_plan_add(plan, base, a, LOADER_ACPI_SIZE, LOADER_ACPI_SIZE, 0, "the ACPI tables",
                        err);
}
