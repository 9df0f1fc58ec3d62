/*
 * vmm/platform/platform_acpi_dsdt.c - the DSDT's AML, written with the
 * encoder (platform_aml.h). In ASL:
 *
 *   Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
 *   Scope (\_SB) {
 *     Device (LNKA) {                        // and LNKB, LNKC, LNKD
 *       Name (_HID, EisaId ("PNP0C0F"))
 *       Name (_UID, One)
 *       Name (_PRS, ResourceTemplate () {
 *         Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {5, 10, 11} })
 *       Method (_STA) { If (And (\_SB.PCI0.ISA.PRQA, 0x80)) { Return (0x09) }
 *                       Return (0x0B) }
 *       Method (_DIS) { Or (\_SB.PCI0.ISA.PRQA, 0x80, \_SB.PCI0.ISA.PRQA) }
 *       Method (_CRS, 0, Serialized) {
 *         Store (ResourceTemplate () { Interrupt (..same..) {0} }, Local0)
 *         CreateDWordField (Local0, 0x05, IRQ0)
 *         If (LLess (\_SB.PCI0.ISA.PRQA, 0x80)) { And (\_SB.PCI0.ISA.PRQA, 0x0F, IRQ0) }
 *         Return (Local0) }
 *       Method (_SRS, 1, Serialized) {
 *         CreateDWordField (Arg0, 0x05, IRQ0)
 *         Store (IRQ0, \_SB.PCI0.ISA.PRQA) }
 *     }
 *     Device (PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))
 *       Name (_UID, Zero)
 *       Name (_CRS, ResourceTemplate () {
 *         WordBusNumber (..., 0x00, 0xFF, ...)
 *         IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
 *         WordIO (..., 0x0000, 0x0CF7, ...)   WordIO (..., 0x0D00, 0xFFFF, ...)
 *         DWordMemory (..., 0x000A0000, 0x000BFFFF, ...)   (VGA)
 *         DWordMemory (..., <top of RAM below 4 GiB>, 0xFEBFFFFF, ...) })
 *       Name (_PRT, Package () { Package () { 0x0001FFFF, Zero, LNKB, Zero }, ... })
 *       Device (ISA) {
 *         Name (_ADR, 0x00010000)
 *         OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
 *         Field (PIRQ, ByteAcc, NoLock, Preserve) { PRQA, 8, PRQB, 8, PRQC, 8, PRQD, 8 }
 *         Device (KBD) { Name (_HID, EisaId ("PNP0303"))
 *                        Name (_CRS, ResourceTemplate () { IO (0x60) IO (0x64) IRQNoFlags () {1} })
 *         Device (MOU) { Name (_HID, EisaId ("PNP0F13"))
 *                        Name (_CRS, ResourceTemplate () { IRQNoFlags () {12} }) }
 * }
 *       }
 *     }
 *   }
 *
 * The links are the PIIX3's PIRQ route registers (bit 7 disables the
 * route, bits 3:0 are the ISA IRQ), which the BIOS programs and the OS may
 * reprogram through _SRS; level-triggered, shared, active high (the
 * virtual line is asserted high on the PIC/ELCR and the I/O APIC pin the
 * OS then programs from _CRS). The links come before PCI0 so that _PRT's
 * references resolve when the table loads. The keyboard is there because
 * a BIOS that parses the DSDT (SeaBIOS) skips PS/2 when a DSDT lacks
 * PNP0303; the mouse (PNP0F13, IRQ 12: plugins/devices/i8042's aux
 * device) because Linux enables the i8042's AUX port only when the ACPI
 * namespace lists one.
 */
#include <stdio.h>

#include "platform/platform_aml.h"
#include "platform/platform_internal.h"

#define PCI_SLOTS 32

static const uint32_t link_irqs[] = {5, 10, 11};
#define LINK_FLAGS (AML_IRQ_CONSUMER | AML_IRQ_SHARED) /* level, active high */

static void link_device(struct aml *a, unsigned i)
{
    char name[8], reg[24];
    snprintf(name, sizeof(name), "LNK%c", 'A' + i);
    snprintf(reg, sizeof(reg), "\\_SB.PCI0.ISA.PRQ%c", 'A' + i);
    struct aml_rt prs, crs;
    aml_rt_init(&prs);
    aml_rt_ext_irq(&prs, LINK_FLAGS, link_irqs, 3);
    aml_rt_init(&crs);
    aml_rt_ext_irq(&crs, LINK_FLAGS, (const uint32_t[]){0}, 1);

    aml_device(a, name);
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0C0F");
    aml_name(a, "_UID");
    aml_integer(a, i + 1);
    aml_name(a, "_PRS");
    aml_resource_template(a, &prs);

    aml_method(a, "_STA", 0, false);
    aml_if(a);
    aml_byte(a, AML_AND_OP);
    aml_name_string(a, reg);
    aml_integer(a, 0x80);
    aml_name_string(a, ""); /* no target */
    aml_byte(a, AML_RETURN_OP);
    aml_integer(a, 0x09); /* present, decoding, not enabled */
    aml_end(a);
    aml_byte(a, AML_RETURN_OP);
    aml_integer(a, 0x0b); /* present, enabled, decoding */
    aml_end(a);

    aml_method(a, "_DIS", 0, false);
    aml_byte(a, AML_OR_OP);
    aml_name_string(a, reg);
    aml_integer(a, 0x80);
    aml_name_string(a, reg);
    aml_end(a);

    aml_method(a, "_CRS", 0, true);
    aml_byte(a, AML_STORE_OP);
    aml_resource_template(a, &crs);
    aml_byte(a, AML_LOCAL0);
    aml_byte(a, AML_CREATE_DWORD_OP);
    aml_byte(a, AML_LOCAL0);
    aml_integer(a, 5); /* the first interrupt number in the descriptor */
    aml_name_string(a, "IRQ0");
    aml_if(a);
    aml_byte(a, AML_LLESS_OP);
    aml_name_string(a, reg);
    aml_integer(a, 0x80);
    aml_byte(a, AML_AND_OP);
    aml_name_string(a, reg);
    aml_integer(a, 0x0f);
    aml_name_string(a, "IRQ0");
    aml_end(a);
    aml_byte(a, AML_RETURN_OP);
    aml_byte(a, AML_LOCAL0);
    aml_end(a);

    aml_method(a, "_SRS", 1, true);
    aml_byte(a, AML_CREATE_DWORD_OP);
    aml_byte(a, AML_ARG0);
    aml_integer(a, 5);
    aml_name_string(a, "IRQ0");
    aml_byte(a, AML_STORE_OP);
    aml_name_string(a, "IRQ0");
    aml_name_string(a, reg);
    aml_end(a);

    aml_end(a); /* Device */
}

static void pci_root(struct aml *a, uint32_t pci_mem_start)
{
    struct aml_rt crs;
    aml_rt_init(&crs);
    aml_rt_word_bus(&crs, 0x00, 0xff);
    aml_rt_io(&crs, 0x0cf8, 0x0cf8, 1, 8); /* configuration mechanism #1 */
    aml_rt_word_io(&crs, 0x0000, 0x0cf7);
    aml_rt_word_io(&crs, 0x0d00, 0xffff);
    aml_rt_dword_mem(&crs, 0x000a0000, 0x000bffff);
    aml_rt_dword_mem(&crs, pci_mem_start, (uint32_t)PLATFORM_PCI_MEM_END - 1);

    aml_device(a, "PCI0");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0A03");
    aml_name(a, "_UID");
    aml_integer(a, 0);
    aml_name(a, "_CRS");
    aml_resource_template(a, &crs);

    /* _PRT: slot s, pin p (0 = INTA) -> PIRQ[(s + p) & 3]; slot 0 (the
     * host bridge) raises no interrupt */
    aml_name(a, "_PRT");
    aml_package(a, (PCI_SLOTS - 1) * 4);
    for (unsigned s = 1; s < PCI_SLOTS; s++)
        for (unsigned p = 0; p < 4; p++) {
            char link[8];
            snprintf(link, sizeof(link), "LNK%c", 'A' + (s + p) % 4);
            aml_package(a, 4);
            aml_integer(a, (uint64_t)s << 16 | 0xffff);
            aml_integer(a, p);
            aml_name_string(a, link);
            aml_integer(a, 0);
            aml_end(a);
        }
    aml_end(a);

    aml_device(a, "ISA");
    aml_name(a, "_ADR");
    aml_integer(a, (uint64_t)(PLATFORM_PIIX3_DEVFN >> 3) << 16 | (PLATFORM_PIIX3_DEVFN & 7));
    aml_opregion(a, "PIRQ", AML_SPACE_PCI_CONFIG, PLATFORM_PIRQ_REG, 4);
    aml_field(a, "PIRQ", AML_FIELD_BYTE_ACC);
    aml_field_unit(a, "PRQA", 8);
    aml_field_unit(a, "PRQB", 8);
    aml_field_unit(a, "PRQC", 8);
    aml_field_unit(a, "PRQD", 8);
    aml_end(a);

    struct aml_rt kbd;
    aml_rt_init(&kbd);
    aml_rt_io(&kbd, 0x60, 0x60, 1, 1);
    aml_rt_io(&kbd, 0x64, 0x64, 1, 1);
    aml_rt_irq_noflags(&kbd, 1u << 1);
    aml_device(a, "KBD");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0303");
    aml_name(a, "_CRS");
    aml_resource_template(a, &kbd);
    aml_end(a);

    /* the i8042's auxiliary port: without it Linux's i8042 PNP probe leaves
     * the AUX port (and the PS/2 mouse behind it) disabled */
    struct aml_rt mou;
    aml_rt_init(&mou);
    aml_rt_irq_noflags(&mou, 1u << 12);
    aml_device(a, "MOU");
    aml_name(a, "_HID");
    aml_eisaid(a, "PNP0F13");
    aml_name(a, "_CRS");
    aml_resource_template(a, &mou);
    aml_end(a);

    aml_end(a); /* ISA */
    aml_end(a); /* PCI0 */
}

bool plat_dsdt_aml(uint32_t pci_mem_start, uint8_t **out, size_t *len)
{
    struct aml a;
    aml_init(&a);
    aml_name(&a, "_S5");
    aml_package(&a, 4);
    aml_integer(&a, PLATFORM_ACPI_S5_TYPE); /* SLP_TYPa */
    aml_integer(&a, PLATFORM_ACPI_S5_TYPE); /* SLP_TYPb */
    aml_integer(&a, 0);
    aml_integer(&a, 0);
    aml_end(&a);

    aml_scope(&a, "\\_SB");
    for (unsigned i = 0; i < 4; i++)
        link_device(&a, i);
    pci_root(&a, pci_mem_start);
    aml_end(&a);
    return aml_finish(&a, out, len);
}
