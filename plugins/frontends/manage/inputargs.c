/*
 * plugins/frontends/manage/inputargs.c - the arguments of controlvm's
 * keyboard and display actions (see inputargs.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "args.h"
#include "inputargs.h"
#include "opts.h"

#define COMPONENT "capsule"

/* The largest width or height a hint may ask for. */
#define HINT_MAX_PIXELS 32768

static int hex_digit(char c)
{
    return isdigit((unsigned char)c)    ? c - '0'
           : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10
                                        : -1;
}

/* One byte in hex ("1e", "0x9E", "e"), or -1. */
static int parse_byte(const char *s)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    size_t len = strlen(s);
    if (len < 1 || len > 2)
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

cap_result cli_parse_scancodes(int argc, char *const *argv, int32_t *out)
{
    if (argc < 1)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "keyboardputscancode: the scancodes (HEX...) are missing");
    for (int i = 0; i < argc; i++) {
        int v = parse_byte(argv[i]);
        if (v < 0)
            return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                                 "keyboardputscancode: argument %d ('%s') is not a scancode: give "
                                 "bytes in hexadecimal, 00 to ff (e.g. 1e 9e for a)",
                                 i + 1, argv[i]);
        out[i] = v;
    }
    return CAP_OK;
}

char *cli_join_words(int argc, char *const *argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = cap_alloc(len);
    if (!s)
        return NULL;
    size_t at = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (i)
            s[at++] = ' ';
        memcpy(s + at, argv[i], n);
        at += n;
    }
    s[at] = '\0';
    return s;
}

size_t cli_text_piece(const char *text, size_t max)
{
    size_t len = strnlen(text, max + 1);
    if (len <= max)
        return len;
    /* back to the first byte of a character (not a UTF-8 continuation) */
    size_t n = max;
    while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
        n--;
    return n ? n : max;
}

cap_result cli_parse_video_hint(int argc, char *const *argv, struct cli_video_hint *out)
{
    static const struct cli_arg enabled_arg = {.name = "setvideomodehint ENABLED"};
    memset(out, 0, sizeof(*out));
    out->enabled = 1;
    if (argc < 3)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "setvideomodehint: the %s is missing (W H BPP)",
                             argc == 0   ? "width"
                             : argc == 1 ? "height"
                                         : "depth");
    if (argc == 6)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "setvideomodehint: the origin needs X and Y, '%s' is alone", argv[5]);
    if (argc > 7)
        return cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                             "setvideomodehint: unexpected argument '%s' (W H BPP [DISPLAY "
                             "[ENABLED [X Y]]])",
                             argv[7]);
    cap_result rc = cli_parse_u32("setvideomodehint W", argv[0], 1, HINT_MAX_PIXELS, &out->width);
    if (CAP_SUCCEEDED(rc))
        rc = cli_parse_u32("setvideomodehint H", argv[1], 1, HINT_MAX_PIXELS, &out->height);
    if (CAP_SUCCEEDED(rc))
        rc = cli_parse_u32("setvideomodehint BPP", argv[2], 8, 32, &out->bpp);
    if (CAP_SUCCEEDED(rc) && out->bpp != 8 && out->bpp != 15 && out->bpp != 16 && out->bpp != 24 &&
        out->bpp != 32)
        rc = cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                           "setvideomodehint BPP: '%s' is not a depth (8, 15, 16, 24 or 32)",
                           argv[2]);
    if (CAP_SUCCEEDED(rc) && argc > 3)
        rc = cli_parse_u32("setvideomodehint DISPLAY", argv[3], 0, INT32_MAX, &out->display);
    if (CAP_SUCCEEDED(rc) && argc > 4) {
        struct cli_bool b = {0, 0};
        rc = cli_arg_onoff(&enabled_arg, NULL, argv[4], &b);
        out->enabled = b.value;
    }
    for (int i = 5; CAP_SUCCEEDED(rc) && i < argc; i++) {
        char *end = NULL;
        long v = strtol(argv[i], &end, 10);
        if (!*argv[i] || *end || v < INT32_MIN || v > INT32_MAX)
            rc = cap_error_set(CAP_E_INVALIDARG, COMPONENT, NULL,
                               "setvideomodehint %s: '%s' is not a position in pixels",
                               i == 5 ? "X" : "Y", argv[i]);
        else
            *(i == 5 ? &out->x : &out->y) = (int32_t)v;
        out->change_origin = 1;
    }
    return rc;
}
