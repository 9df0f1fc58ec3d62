/* tests/unit/platform/platform_test.h - what the suite's files share. */
#ifndef PLATFORM_TEST_H
#define PLATFORM_TEST_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "platform/platform_aml.h"
#include "platform/platform_tables.h"

TCase *tcase_aml(void);
TCase *tcase_acpi(void);
TCase *tcase_loader(void);
TCase *tcase_smbios(void);
TCase *tcase_layout(void);

static inline uint32_t rd(const uint8_t *p, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static inline uint64_t rd64(const uint8_t *p)
{
    return rd(p, 4) | (uint64_t)rd(p + 4, 4) << 32;
}
static inline uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

#endif /* PLATFORM_TEST_H */
