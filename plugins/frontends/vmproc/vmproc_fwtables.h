/*
 * vmproc_fwtables.h - the firmware tables of a capsule-vm machine
 * (vmm/platform's ACPI tables, linker/loader script and SMBIOS) as fw_cfg
 * files for the fwcfg device (--firmware bios), and the machine's
 * SMBIOS UUID, which a direct boot's loader also gets.
 */
#ifndef VMPROC_FWTABLES_H
#define VMPROC_FWTABLES_H

#include <stdint.h>

#include "platform/platform_tables.h"
#include "vmproc.h"

#define VMPROC_FWTABLE_FILES 5

struct vmproc_fwtables {
    /* "etc/acpi/tables" etc. for fwcfg's fileN.name and fileN.data (owned) */
    struct platform_file files[VMPROC_FWTABLE_FILES];
    unsigned n;
    uint8_t uuid[16]; /* the machine's (managed mode), else derived from the options */
};

/*
 * Takes the machine's UUID (or derives one) and, for --firmware bios, builds the files: ACPI
 * unless `acpi` is false (--no-device acpipm: the tables describe its
 * ports; the HPET table only with `hpet`) and SMBIOS (RAM, CPUs, the CPU profile's vendor and
 * brand). Errors set error info ("capsule-vm"): bad sizes, out of memory.
 * Free with vmproc_fwtables_free (also after a failure).
 */
cap_result vmproc_fwtables_build(const struct vmproc_opts *o, bool acpi, bool hpet,
                                 struct vmproc_fwtables *t);
void vmproc_fwtables_free(struct vmproc_fwtables *t);

#endif /* VMPROC_FWTABLES_H */
