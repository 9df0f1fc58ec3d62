/*
 * vmproc_fwtables.c - vmm/platform's firmware tables handed to the fwcfg
 * device as files, a name and bytes each (plugins/devices/fwcfg's
 * fileN.name and fileN.data), the way QEMU hands them to
 * SeaBIOS: "etc/acpi/rsdp", "etc/acpi/tables", "etc/table-loader",
 * "etc/smbios/smbios-anchor", "etc/smbios/smbios-tables". The same builder
 * gives a direct boot its tables (vmm/loader), so both boots describe one
 * machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "cpum/cpum_profile.h"
#include "em/em.h"
#include "platform/platform_tables.h"
#include "vmproc_fwtables.h"

/* Takes the file over from the builder's struct (which then frees nothing of it). */
static void take_file(struct vmproc_fwtables *t, struct platform_file *f)
{
    t->files[t->n++] = *f;
    f->data = NULL;
}

cap_result vmproc_fwtables_build(const struct vmproc_opts *o, bool want_acpi, bool hpet,
                                 struct vmproc_fwtables *t)
{
    memset(t, 0, sizeof(*t));
    char seed[512];
    int sl = snprintf(seed, sizeof(seed), "capsule-vm|%s|%s|%llu|%u",
                      vmproc_opts_bios(o) ? o->bios_image : "", o->kernel ? o->kernel : "",
                      (unsigned long long)o->memory_mb, o->cpus);
    size_t seed_len = sl < 0 ? 0 : (size_t)sl < sizeof(seed) ? (size_t)sl : sizeof(seed) - 1;
    if (o->has_machine_uuid)
        memcpy(t->uuid, o->machine_uuid.b, sizeof(t->uuid));
    else
        platform_uuid_derive(seed, seed_len, t->uuid);
    if (!vmproc_opts_bios(o))
        return CAP_OK;

    uint64_t ram = o->memory_mb << 20, below = platform_ram_below_4g(ram);
    char msg[256] = "";
    struct platform_acpi acpi;
    struct platform_acpi_config ac = {.cpus = o->cpus, .hpet = hpet, .ram_below_4g = below};
    cap_result rc = CAP_OK;
    if (want_acpi) {
        rc = platform_acpi_build(&ac, &acpi, msg, sizeof(msg));
        if (CAP_FAILED(rc))
            return cap_error_set(rc, "capsule-vm", NULL, "the ACPI tables: %s", msg);
        for (unsigned i = 0; i < PLATFORM_ACPI_FILES; i++)
            take_file(t, &acpi.files[i]);
        platform_acpi_free(&acpi);
    }

    const struct cpum_profile *cpu = cpum_profile_find(o->cpu_profile ? o->cpu_profile : "host");
    struct platform_smbios_config sc = {
        .cpus = o->cpus,
        .ram_below_4g = below,
        .ram_above_4g = ram - below,
        .cpu_manufacturer = cpu ? cpum_vendor_string(cpu->vendor) : NULL,
        .cpu_version = cpu ? cpu->brand : NULL,
        .cpuid_signature = cpu ? cpu->signature : 0,
    };
    memcpy(sc.uuid, t->uuid, sizeof(sc.uuid));
    struct platform_smbios smb;
    rc = platform_smbios_build(&sc, &smb, msg, sizeof(msg));
    if (CAP_FAILED(rc))
        return cap_error_set(rc, "capsule-vm", NULL, "the SMBIOS tables: %s", msg);
    for (unsigned i = 0; i < PLATFORM_SMBIOS_FILES; i++)
        take_file(t, &smb.files[i]);
    platform_smbios_free(&smb);
    return CAP_OK;
}

void vmproc_fwtables_free(struct vmproc_fwtables *t)
{
    for (unsigned i = 0; i < t->n; i++)
        free(t->files[i].data);
    memset(t, 0, sizeof(*t));
}
