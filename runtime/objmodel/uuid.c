/*
 * uuid.c - UUID text forms, comparison and generation (capsule/uuid.h).
 *
 * Parsing is strict on purpose: UUIDs come from the IDL, manifests, settings
 * files and the command line, and a malformed one should be reported where
 * it was written rather than silently read as something else. This file
 * also defines IID_ISupports, the one IID the object model needs before any
 * IDL is compiled.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <capsule/errorinfo.h>
#include <capsule/result.h>
#include <capsule/supports.h>
#include <capsule/uuid.h>

#include "objmodel_internal.h"

/* {00000000-0000-0000-c000-000000000046} */
CAP_EXPORT const cap_uuid IID_ISupports = {{0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46}};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_dash_pos(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

/* Parses exactly 36 characters at s; returns NULL or a description of the
 * first problem (static string), with *pos set to its offset. */
static const char *parse36(const char *s, cap_uuid *out, size_t *pos)
{
    size_t nibble = 0;
    for (size_t i = 0; i < CAP_UUID_STR_LEN; i++) {
        *pos = i;
        if (s[i] == '\0')
            return "too short";
        if (is_dash_pos(i)) {
            if (s[i] != '-')
                return "expected '-'";
            continue;
        }
        int v = hex_value(s[i]);
        if (v < 0)
            return "not a hex digit";
        if (nibble % 2 == 0)
            out->b[nibble / 2] = (uint8_t)(v << 4);
        else
            out->b[nibble / 2] |= (uint8_t)v;
        nibble++;
    }
    return NULL;
}

CAP_EXPORT cap_result cap_uuid_parse(const char *s, cap_uuid *out)
{
    if (!out)
        return cap_error_set(CAP_E_POINTER, OBJMODEL_COMPONENT, NULL, "cap_uuid_parse: NULL out");
    memset(out, 0, sizeof(*out));
    if (!s)
        return cap_error_set(CAP_E_POINTER, OBJMODEL_COMPONENT, NULL,
                             "cap_uuid_parse: NULL string");
    size_t len = strlen(s);
    const char *body = s;
    const char *why = NULL;
    size_t pos = 0;
    if (s[0] == '{') {
        body = s + 1;
        if (len != CAP_UUID_STR_LEN + 2)
            why = len < CAP_UUID_STR_LEN + 2 ? "too short" : "too long";
        else if (s[len - 1] != '}')
            why = "missing closing '}'";
    } else if (len != CAP_UUID_STR_LEN) {
        why = len < CAP_UUID_STR_LEN ? "too short" : "too long";
    }
    if (!why) {
        cap_uuid tmp;
        why = parse36(body, &tmp, &pos);
        pos += (size_t)(body - s);
        if (!why) {
            *out = tmp;
            return CAP_OK;
        }
        return cap_error_set(CAP_E_INVALIDARG, OBJMODEL_COMPONENT, NULL,
                             "malformed UUID '%.80s': %s at offset %zu (expected "
                             "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx or {...})",
                             s, why, pos);
    }
    return cap_error_set(CAP_E_INVALIDARG, OBJMODEL_COMPONENT, NULL,
                         "malformed UUID '%.80s': %s (expected "
                         "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx or {...})",
                         s, why);
}

CAP_EXPORT char *cap_uuid_format(const cap_uuid *u, char buf[CAP_UUID_BUFSIZE])
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = digits[u->b[i] >> 4];
        buf[o++] = digits[u->b[i] & 0xf];
    }
    buf[o] = '\0';
    return buf;
}

CAP_EXPORT int cap_uuid_equal(const cap_uuid *a, const cap_uuid *b)
{
    return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

CAP_EXPORT int cap_uuid_is_null(const cap_uuid *u)
{
    static const cap_uuid zero;
    return !u || cap_uuid_equal(u, &zero);
}

CAP_EXPORT cap_result cap_uuid_generate(cap_uuid *out)
{
    size_t got = 0;
    while (got < sizeof(out->b)) {
        ssize_t n = getrandom(out->b + got, sizeof(out->b) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cap_error_set(CAP_E_IO, OBJMODEL_COMPONENT, NULL, "getrandom failed: %s",
                                 strerror(errno));
        got += (size_t)n;
    }
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40); /* version 4 */
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    return CAP_OK;
}
