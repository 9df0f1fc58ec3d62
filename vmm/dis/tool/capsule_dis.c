/*
 * capsule-dis - disassembles a flat binary file with the DIS decoder and
 * prints it in objdump's layout (address, colon, up to 7 bytes in hex, the
 * instruction; longer instructions continue their bytes on the next line).
 * Invalid bytes print as `(bad)` and advance by one byte.
 *
 *   capsule-dis [--bits 16|32|64] [--org ADDR] [--start OFF] [--length N] FILE
 *
 * Exit status: 0 success, 1 the file cannot be read, 2 bad usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dis/dis.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: capsule-dis [--bits 16|32|64] [--org ADDR] [--start OFF] [--length N] FILE\n"
               "  --bits   decoding mode (default 64)\n"
               "  --org    address of the first decoded byte (default 0)\n"
               "  --start  file offset to start at (default 0)\n"
               "  --length number of bytes to decode (default: to the end)\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return buf ? buf : malloc(1);
}

static void print_insn(uint64_t addr, const unsigned char *p, unsigned len, const char *text)
{
    unsigned i = 0;
    printf("%8llx:\t", (unsigned long long)addr);
    for (; i < len && i < 7; i++)
        printf("%02x ", p[i]);
    printf("%*s\t%s\n", (int)(3 * (7 - i)), "", text);
    while (i < len) {
        printf("%8llx:\t", (unsigned long long)(addr + i));
        for (unsigned j = 0; j < 7 && i < len; j++, i++)
            printf("%02x ", p[i]);
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    uint64_t bits = 64, org = 0, start = 0, length = UINT64_MAX;
    const char *file = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t *dst = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--bits")) {
            dst = &bits;
        } else if (!strcmp(a, "--org")) {
            dst = &org;
        } else if (!strcmp(a, "--start")) {
            dst = &start;
        } else if (!strcmp(a, "--length")) {
            dst = &length;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "capsule-dis: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!file) {
            file = a;
            continue;
        } else {
            fprintf(stderr, "capsule-dis: more than one file ('%s')\n", a);
            return 2;
        }
        if (i + 1 >= argc || parse_u64(argv[i + 1], dst)) {
            fprintf(stderr, "capsule-dis: %s needs a number%s%s\n", a,
                    i + 1 < argc ? ", got " : "", i + 1 < argc ? argv[i + 1] : "");
            return 2;
        }
        i++;
    }
    if (!file) {
        fprintf(stderr, "capsule-dis: no input file\n");
        usage(stderr);
        return 2;
    }
    if (bits != 16 && bits != 32 && bits != 64) {
        fprintf(stderr, "capsule-dis: --bits must be 16, 32 or 64, not %llu\n",
                (unsigned long long)bits);
        return 2;
    }
    size_t n;
    unsigned char *buf = read_file(file, &n);
    if (!buf) {
        fprintf(stderr, "capsule-dis: cannot read '%s': %s\n", file, strerror(errno));
        return 1;
    }
    if (start > n) {
        fprintf(stderr, "capsule-dis: --start %llu is beyond the end of '%s' (%zu bytes)\n",
                (unsigned long long)start, file, n);
        free(buf);
        return 1;
    }
    size_t end = length > n - start ? n : (size_t)(start + length);
    for (size_t off = start; off < end;) {
        struct dis_insn in;
        char text[256];
        uint64_t addr = org + (off - start);
        int rc = dis_decode(buf + off, end - off, (enum dis_mode)bits, &in);
        unsigned len = rc > 0 ? (unsigned)rc : 1;
        if (rc > 0)
            dis_format(&in, addr, text, sizeof(text));
        else
            snprintf(text, sizeof(text), "(bad)");
        print_insn(addr, buf + off, len, text);
        off += len;
    }
    free(buf);
    return ferror(stdout) ? 1 : 0;
}
