/* vmm/loader/fuzz/fuzz_vmlinux.c - libFuzzer target: the ELF64 vmlinux
 * parser and the 64-bit boot protocol's boot_params it builds. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_one(ldr_vmlinux_plan, data, size);
}
