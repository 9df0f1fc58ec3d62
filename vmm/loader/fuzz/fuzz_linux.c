/* vmm/loader/fuzz/fuzz_linux.c - libFuzzer target: the bzImage parser. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_one(ldr_linux_plan, data, size);
}
