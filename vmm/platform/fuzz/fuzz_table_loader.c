/*
 * vmm/platform/fuzz/fuzz_table_loader.c - libFuzzer target for the BIOS
 * linker/loader script runner (platform_loader_run): the input is the
 * script, run over the platform's own ACPI files placed as a direct boot
 * places them. Any input must end in CAP_OK or CAP_E_INVALIDARG, never
 * touch memory outside the files.
 */
#include <stdlib.h>
#include <string.h>

#include "platform/platform_tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct platform_acpi acpi;
    static int built;
    char msg[256];
    if (!built) {
        struct platform_acpi_config cfg = {.cpus = 2, .hpet = true};
        if (platform_acpi_build(&cfg, &acpi, msg, sizeof(msg)))
            __builtin_trap();
        built = 1;
    }
    /* fresh copies: the runner patches in place */
    uint8_t *rsdp = malloc(acpi.files[0].len), *tables = malloc(acpi.files[1].len);
    if (!rsdp || !tables)
        __builtin_trap();
    memcpy(rsdp, acpi.files[0].data, acpi.files[0].len);
    memcpy(tables, acpi.files[1].data, acpi.files[1].len);
    struct platform_placed placed[2] = {
        {acpi.files[0].name, 0x9c000, rsdp, acpi.files[0].len},
        {acpi.files[1].name, 0x9c040, tables, acpi.files[1].len},
    };
    cap_result rc = platform_loader_run(data, size, placed, 2, msg, sizeof(msg));
    if (rc != CAP_OK && rc != CAP_E_INVALIDARG)
        __builtin_trap();
    free(rsdp);
    free(tables);
    return 0;
}
