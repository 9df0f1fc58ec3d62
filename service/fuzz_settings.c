/*
 * service/fuzz_settings.c - libFuzzer target for the settings parser.
 *
 * Feeds each input to both file parsers (machine and global) and, when one
 * accepts it, writes the result back out and parses that again: what the
 * service writes must always be readable by the service. Any crash, leak or
 * failed round trip is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct machine_file mf;
    struct global_file gf;
    if (CAP_SUCCEEDED(settings_parse_machine("fuzz", (const char *)data, size, &mf))) {
        size_t len = 0;
        char *text = settings_format_machine(&mf, &len);
        struct machine_file again;
        if (text && CAP_FAILED(settings_parse_machine("again", text, len, &again)))
            abort();
        if (text)
            machine_file_clear(&again);
        cap_free(text);
        machine_file_clear(&mf);
    }
    if (CAP_SUCCEEDED(settings_parse_global("fuzz", (const char *)data, size, &gf))) {
        size_t len = 0;
        char *text = settings_format_global(&gf, &len);
        struct global_file again;
        if (text && CAP_FAILED(settings_parse_global("again", text, len, &again)))
            abort();
        if (text)
            global_file_clear(&again);
        cap_free(text);
        global_file_clear(&gf);
    }
    cap_error_clear();
    return 0;
}
