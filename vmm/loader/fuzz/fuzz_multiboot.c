/* vmm/loader/fuzz/fuzz_multiboot.c - libFuzzer target: the multiboot header,
 * a.out-kludge and ELF32 parsers (and the flat planner, on the same input). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_one(ldr_flat_plan, data, size);
    return fuzz_one(ldr_multiboot_plan, data, size);
}
