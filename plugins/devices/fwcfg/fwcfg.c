/*
 * plugins/devices/fwcfg/fwcfg.c - QEMU's firmware configuration interface
 * (fw_cfg), the traditional I/O-port form: a 16-bit selector at port 0x510
 * picks an item and rewinds it; each 8-bit read of port 0x511 returns the
 * next byte of the item, 0 past its end (and for unknown items). Firmware
 * that knows QEMU (SeaBIOS, OVMF, the linuxboot option ROM, small test
 * payloads) finds the RAM size, CPU count, kernel, initrd and command line
 * here.
 *
 * Items (little-endian integers, as QEMU):
 *   0x0000 signature "QEMU"          0x0001 ID: 1 (traditional interface;
 *   0x0003 RAM size (u64)                   no DMA bit: DMA is not done)
 *   0x0005 NB_CPUS (u16)             0x000f MAX_CPUS (u16)
 *   0x0008 KERNEL_SIZE (u32)         0x0011 KERNEL_DATA
 *   0x000b INITRD_SIZE (u32)         0x0012 INITRD_DATA
 *   0x0014 CMDLINE_SIZE (u32, incl.  0x0015 CMDLINE_DATA (NUL-terminated)
 *          the NUL)
 *   0x0017 SETUP_SIZE (u32)          0x0018 SETUP_DATA
 *   0x0019 FILE_DIR: u32 count, then per file {u32 size, u16 select,
 *          u16 reserved, char name[56]}, all big-endian, sorted by name;
 *          files are items 0x0020 upwards.
 * A Linux bzImage ("HdrS" at 0x202) is split as QEMU does: its setup part,
 * (setup_sects + 1) * 512 bytes (setup_sects 0 means 4), is SETUP_DATA and
 * the rest KERNEL_DATA; any other kernel file is KERNEL_DATA whole, with
 * an empty setup. The setup header is passed unpatched (QEMU fills in
 * cmd_line_ptr and the initrd fields for its linuxboot ROM; a loader that
 * needs that reads the header from here and patches its own copy). The
 * selector's write bit (0x4000) is ignored and writes to the data port
 * are dropped; arch-local items (0x8000 up: e820, ACPI, SMBIOS) do not
 * exist yet; "etc/e820" is the memory map as a file (below).
 *
 * Config (files are read whole at construct; errors name key and path):
 *   ram_size  bytes (default 0)         cpus, max_cpus (default 1, cpus)
 *   kernel    path (max 256 MiB)        initrd  path (max 1 GiB)
 *   cmdline   string (max 64 KiB)
 *   e820      bytes (default: none): the file "etc/e820", QEMU's memory
 *             map for SeaBIOS - per entry {u64 address, u64 length, u32
 *             type}, little-endian, packed (a multiple of 20 bytes). The
 *             machine's description computes it (vmm/platform's device
 *             table: the RAM below and above 4 GiB as EM maps it); the
 *             firmware reserves its own areas (EBDA, BIOS) in the map it
 *             gives the OS
 *   file0 .. file31   "name=NAME,path=PATH" (max 64 MiB),
 *                     "name=NAME,string=TEXT", "name=NAME,hex=HEX" (the
 *                     bytes as pairs of hex digits, max 64 MiB: binary
 *                     files the VM process builds, e.g. the ACPI and
 *                     SMBIOS tables of vmm/platform), or an integer file (what
 *                     SeaBIOS reads with romfile_loadint) "name=NAME,u8=V",
 *                     u16=, u32=, u64= (little-endian, V decimal or 0x..,
 *                     must fit); NAME: 1-55 characters, unique (e.g.
 *                     "opt/org.capsule/test", "etc/sercon-port")
 *   file0.name + file0.data .. (up to file31): the same file as a string
 *                     and bytes (max 64 MiB), typed: what the VM process
 *                     builds (vmm/platform's ACPI and SMBIOS tables)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pdmdev.h"

#define FW_SIGNATURE    0x00
#define FW_ID           0x01
#define FW_RAM_SIZE     0x03
#define FW_NB_CPUS      0x05
#define FW_KERNEL_SIZE  0x08
#define FW_INITRD_SIZE  0x0b
#define FW_MAX_CPUS     0x0f
#define FW_KERNEL_DATA  0x11
#define FW_INITRD_DATA  0x12
#define FW_CMDLINE_SIZE 0x14
#define FW_CMDLINE_DATA 0x15
#define FW_SETUP_SIZE   0x17
#define FW_SETUP_DATA   0x18
#define FW_FILE_DIR     0x19
#define FW_FILE_FIRST   0x20
#define FW_MAX_FILES    32
#define FW_NAME_MAX     56

#define MAX_KERNEL  (256u << 20)
#define MAX_INITRD  (1u << 30)
#define MAX_FILE    (64u << 20)
#define MAX_CMDLINE (64u << 10)

struct fw_item {
    uint8_t *data; /* malloc'ed; NULL for an empty item */
    uint32_t size;
};

struct fw_file {
    char name[FW_NAME_MAX];
    struct fw_item item;
};

struct fwcfg {
    uint16_t sel;
    uint32_t off;
    /* from config, built at construct */
    struct fw_item fixed[FW_FILE_FIRST];
    struct fw_file files[FW_MAX_FILES + 1]; /* the config's, then etc/e820 */
    unsigned n_files;
};

/* ---- items ------------------------------------------------------------------ */

static const struct fw_item *item(const struct fwcfg *s, uint16_t sel)
{
    /* the write bit (0x4000) goes; the arch-local bit (0x8000) stays, so
     * 0x8000 up (QEMU's x86 items: ACPI tables, SMBIOS, e820) are unknown
     * items, never aliases of 0x0000 up */
    sel &= (uint16_t)~0x4000u;
    if (sel < FW_FILE_FIRST)
        return &s->fixed[sel];
    if (sel < FW_FILE_FIRST + s->n_files)
        return &s->files[sel - FW_FILE_FIRST].item;
    return NULL;
}

static cap_result set_bytes(struct pdm_dev *dev, struct fw_item *it, const void *p, size_t n)
{
    free(it->data);
    it->data = NULL;
    it->size = 0;
    if (!n)
        return CAP_OK;
    it->data = malloc(n);
    if (!it->data)
        return dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "out of memory for %zu bytes", n);
    memcpy(it->data, p, n);
    it->size = (uint32_t)n;
    return CAP_OK;
}

static cap_result set_le(struct pdm_dev *dev, unsigned key, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return set_bytes(dev, &((struct fwcfg *)dev->data)->fixed[key], b, bytes);
}

/* Reads `path` whole into *it; the error names the key, path and reason. */
static cap_result load_file(struct pdm_dev *dev, const char *key, const char *path, size_t max,
                            struct fw_item *it)
{
    /* O_NONBLOCK: a FIFO must not block the open waiting for a writer; it
     * is refused as not a regular file before anything is read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return dev->hlp->error(dev, CAP_E_INVALIDARG, "config key '%s': cannot open '%s': %s", key,
                               path, strerror(e));
    }
    struct stat st;
    cap_result rc = CAP_OK;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = dev->hlp->error(dev, CAP_E_INVALIDARG, "config key '%s': '%s' is not a regular file%s",
                             key, path, S_ISFIFO(st.st_mode) ? " (a FIFO)" : "");
    } else if ((uint64_t)st.st_size > max) {
        rc = dev->hlp->error(dev, CAP_E_INVALIDARG,
                             "config key '%s': '%s' is %lld bytes, more than the %zu allowed", key,
                             path, (long long)st.st_size, max);
    } else if (st.st_size > 0) {
        it->data = malloc((size_t)st.st_size);
        if (!it->data)
            rc = dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "config key '%s': out of memory for '%s'",
                                 key, path);
        else if (fread(it->data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
            rc = dev->hlp->error(dev, CAP_E_INVALIDARG, "config key '%s': cannot read '%s': %s",
                                 key, path, ferror(f) ? strerror(errno) : "file shrank");
        else
            it->size = (uint32_t)st.st_size;
    }
    fclose(f);
    return rc;
}

/* Splits a bzImage into setup and kernel (see the top). */
static cap_result add_kernel(struct pdm_dev *dev, const char *path)
{
    struct fwcfg *s = dev->data;
    struct fw_item k = {0};
    cap_result rc = load_file(dev, "kernel", path, MAX_KERNEL, &k);
    if (CAP_FAILED(rc)) {
        free(k.data);
        return rc;
    }
    uint32_t setup = 0;
    if (k.size >= 0x206 && memcmp(k.data + 0x202, "HdrS", 4) == 0) {
        setup = ((k.data[0x1f1] ? k.data[0x1f1] : 4) + 1u) * 512u;
        if (setup > k.size) {
            free(k.data);
            return dev->hlp->error(dev, CAP_E_INVALIDARG,
                                   "config key 'kernel': '%s' is truncated: its setup part is %u "
                                   "bytes, the file %u",
                                   path, setup, k.size);
        }
    }
    rc = set_bytes(dev, &s->fixed[FW_SETUP_DATA], k.data, setup);
    if (CAP_SUCCEEDED(rc))
        rc = set_bytes(dev, &s->fixed[FW_KERNEL_DATA], k.data + setup, k.size - setup);
    free(k.data);
    if (CAP_SUCCEEDED(rc))
        rc = set_le(dev, FW_SETUP_SIZE, setup, 4);
    if (CAP_SUCCEEDED(rc))
        rc = set_le(dev, FW_KERNEL_SIZE, s->fixed[FW_KERNEL_DATA].size, 4);
    return rc;
}

/* "u16=V" etc.: an integer file of 1, 2, 4 or 8 bytes. */
static cap_result set_int_file(struct pdm_dev *dev, const char *key, const char *rest,
                               struct fw_item *it)
{
    static const struct {
        const char *prefix;
        unsigned bytes;
    } kinds[] = {{"u8=", 1}, {"u16=", 2}, {"u32=", 4}, {"u64=", 8}};
    for (unsigned k = 0; k < 4; k++) {
        size_t pl = strlen(kinds[k].prefix);
        if (strncmp(rest, kinds[k].prefix, pl) != 0)
            continue;
        const char *num = rest + pl;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(num, &end, 0);
        unsigned bits = kinds[k].bytes * 8;
        if (errno || !*num || *end || *num == '-' || (bits < 64 && v >> bits))
            return dev->hlp->error(dev, CAP_E_INVALIDARG,
                                   "config key '%s': '%s' is not a %u-bit unsigned number", key,
                                   num, bits);
        uint8_t b[8];
        for (unsigned i = 0; i < kinds[k].bytes; i++)
            b[i] = (uint8_t)(v >> (8 * i));
        return set_bytes(dev, it, b, kinds[k].bytes);
    }
    return dev->hlp->error(
        dev, CAP_E_INVALIDARG,
        "config key '%s': expected path=, string=, hex=, u8=, u16=, u32= or u64= "
        "after the name in '%s'",
        key, rest);
}

/* "hex=..": an even number of hex digits, at most MAX_FILE bytes. */
static cap_result set_hex_file(struct pdm_dev *dev, const char *key, const char *hex,
                               struct fw_item *it)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > MAX_FILE)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "config key '%s': hex= needs an even number of digits, at most "
                               "%u bytes (%zu digits given)",
                               key, MAX_FILE, n);
    uint8_t *b = malloc(n / 2 + 1);
    if (!b)
        return dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "config key '%s': out of memory", key);
    for (size_t i = 0; i < n; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0) {
            free(b);
            return dev->hlp->error(dev, CAP_E_INVALIDARG,
                                   "config key '%s': hex= has '%c' at digit %zu", key, c, i);
        }
        b[i / 2] = (uint8_t)(i % 2 ? b[i / 2] | v : v << 4);
    }
    free(it->data);
    it->data = n ? b : NULL;
    it->size = (uint32_t)(n / 2);
    if (!n)
        free(b);
    return CAP_OK;
}

/* Claims the next file for NAME (its first nlen bytes): 1-55 characters,
 * unique. */
static cap_result new_file(struct pdm_dev *dev, const char *key, const char *name, size_t nlen,
                           struct fw_file **out)
{
    struct fwcfg *s = dev->data;
    struct fw_file *f = &s->files[s->n_files];
    if (nlen == 0 || nlen >= FW_NAME_MAX)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "config key '%s': a file name has 1-%d characters", key,
                               FW_NAME_MAX - 1);
    memcpy(f->name, name, nlen);
    f->name[nlen] = '\0';
    for (unsigned i = 0; i < s->n_files; i++)
        if (strcmp(s->files[i].name, f->name) == 0)
            return dev->hlp->error(dev, CAP_E_INVALIDARG, "config key '%s': file '%s' given twice",
                                   key, f->name);
    s->n_files++; /* even if filling it fails: destruct frees what was read */
    *out = f;
    return CAP_OK;
}

/* "name=NAME,path=PATH", "name=NAME,string=TEXT" (TEXT runs to the end),
 * "name=NAME,hex=HEX" or "name=NAME,uN=V". */
static cap_result add_named_file(struct pdm_dev *dev, const char *key, const char *spec)
{
    const char *comma = strchr(spec, ',');
    if (strncmp(spec, "name=", 5) != 0 || !comma)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "config key '%s': '%s' is not name=NAME,path=PATH or "
                               "name=NAME,string=TEXT with a NAME of 1-%d characters",
                               key, spec, FW_NAME_MAX - 1);
    struct fw_file *f;
    cap_result rc = new_file(dev, key, spec + 5, (size_t)(comma - spec) - 5, &f);
    if (CAP_FAILED(rc))
        return rc;
    const char *rest = comma + 1;
    if (strncmp(rest, "path=", 5) == 0)
        return load_file(dev, key, rest + 5, MAX_FILE, &f->item);
    if (strncmp(rest, "string=", 7) == 0)
        return set_bytes(dev, &f->item, rest + 7, strlen(rest + 7));
    if (strncmp(rest, "hex=", 4) == 0)
        return set_hex_file(dev, key, rest + 4, &f->item);
    return set_int_file(dev, key, rest, &f->item);
}

/* File i from its configuration: "fileI" (a spec, above) or "fileI.name"
 * (a string) with "fileI.data" (bytes: what the VM process builds, e.g.
 * vmm/platform's ACPI and SMBIOS tables). */
static cap_result add_config_file(struct pdm_dev *dev, const struct pdm_cfg *cfg, unsigned i)
{
    const struct pdm_hlp *h = dev->hlp;
    char key[16], nkey[24], dkey[24];
    const char *spec, *name;
    const void *data;
    size_t len;
    snprintf(key, sizeof(key), "file%u", i);
    snprintf(nkey, sizeof(nkey), "file%u.name", i);
    snprintf(dkey, sizeof(dkey), "file%u.data", i);
    cap_result rc = h->cfg_string(dev, cfg, key, NULL, &spec);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, nkey, NULL, &name);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_bytes(dev, cfg, dkey, &data, &len);
    if (CAP_FAILED(rc))
        return rc;
    if (spec && (name || data))
        return h->error(dev, CAP_E_INVALIDARG,
                        "config key '%s': give it or '%s' with '%s', not both", key, nkey, dkey);
    if (spec)
        return add_named_file(dev, key, spec);
    if (!name != !data)
        return h->error(dev, CAP_E_INVALIDARG, "config keys '%s' and '%s' go together", nkey, dkey);
    if (!name)
        return CAP_OK;
    if (len > MAX_FILE)
        return h->error(dev, CAP_E_INVALIDARG, "config key '%s': %zu bytes, more than %u", dkey,
                        len, MAX_FILE);
    struct fw_file *f;
    rc = new_file(dev, nkey, name, strlen(name), &f);
    return CAP_SUCCEEDED(rc) ? set_bytes(dev, &f->item, data, len) : rc;
}

/* "etc/e820" as the configuration gives it (see the top). */
static cap_result add_e820(struct pdm_dev *dev, const void *map, size_t len)
{
    struct fwcfg *s = dev->data;
    if (len % 20)
        return dev->hlp->error(dev, CAP_E_INVALIDARG,
                               "config key 'e820': %zu bytes, not whole 20-byte entries", len);
    for (unsigned i = 0; i < s->n_files; i++)
        if (!strcmp(s->files[i].name, "etc/e820"))
            return dev->hlp->error(dev, CAP_E_INVALIDARG,
                                   "config key 'e820': a file 'etc/e820' is given too");
    struct fw_file *f = &s->files[s->n_files++];
    snprintf(f->name, sizeof(f->name), "etc/e820");
    return set_bytes(dev, &f->item, map, len);
}

static int file_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fw_file *)a)->name, ((const struct fw_file *)b)->name);
}

static void put_be(uint8_t *p, uint32_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static cap_result build_file_dir(struct pdm_dev *dev)
{
    struct fwcfg *s = dev->data;
    qsort(s->files, s->n_files, sizeof(s->files[0]), file_cmp);
    size_t len = 4 + (size_t)s->n_files * (8 + FW_NAME_MAX);
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return dev->hlp->error(dev, CAP_E_OUTOFMEMORY, "out of memory");
    put_be(dir, s->n_files, 4);
    for (unsigned i = 0; i < s->n_files; i++) {
        uint8_t *e = dir + 4 + i * (8 + FW_NAME_MAX);
        put_be(e, s->files[i].item.size, 4);
        put_be(e + 4, FW_FILE_FIRST + i, 2);
        memcpy(e + 8, s->files[i].name, strlen(s->files[i].name));
    }
    cap_result rc = set_bytes(dev, &s->fixed[FW_FILE_DIR], dir, len);
    free(dir);
    return rc;
}

/* ---- ports ------------------------------------------------------------------ */

static cap_result fwcfg_io(struct pdm_dev *dev, void *user, uint16_t port, unsigned size,
                           bool write, uint32_t *val)
{
    struct fwcfg *s = dev->data;
    if (port == 0x510) {
        if (write) {
            s->sel = (uint16_t)*val;
            s->off = 0;
        } else {
            *val = 0;
        }
        return CAP_OK;
    }
    if (write)
        return CAP_OK; /* the data port is read-only */
    /* Wider reads return consecutive bytes, little-endian, like QEMU's. */
    const struct fw_item *it = item(s, s->sel);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = 0;
        if (it && s->off < it->size)
            b = it->data[s->off];
        if (it && s->off < it->size)
            s->off++;
        v |= (uint32_t)b << (8 * i);
    }
    *val = v;
    return CAP_OK;
}

/* ---- lifecycle -------------------------------------------------------------- */

static cap_result read_config(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    struct fwcfg *s = dev->data;
    const struct pdm_hlp *h = dev->hlp;
    int64_t ram, cpus, max_cpus;
    const void *e820;
    size_t e820_len;
    const char *kernel, *initrd, *cmdline;
    cap_result rc = h->cfg_int(dev, cfg, "ram_size", 0, 0, INT64_MAX, &ram);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_bytes(dev, cfg, "e820", &e820, &e820_len);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "cpus", 1, 1, 255, &cpus);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_int(dev, cfg, "max_cpus", cpus, cpus, 255, &max_cpus);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "kernel", NULL, &kernel);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "initrd", NULL, &initrd);
    if (CAP_SUCCEEDED(rc))
        rc = h->cfg_string(dev, cfg, "cmdline", NULL, &cmdline);
    if (CAP_SUCCEEDED(rc))
        rc = set_bytes(dev, &s->fixed[FW_SIGNATURE], "QEMU", 4);
    if (CAP_SUCCEEDED(rc))
        rc = set_le(dev, FW_ID, 1, 4);
    if (CAP_SUCCEEDED(rc))
        rc = set_le(dev, FW_RAM_SIZE, (uint64_t)ram, 8);
    if (CAP_SUCCEEDED(rc))
        rc = set_le(dev, FW_NB_CPUS, (uint64_t)cpus, 2);
    if (CAP_SUCCEEDED(rc))
        rc = set_le(dev, FW_MAX_CPUS, (uint64_t)max_cpus, 2);
    if (CAP_SUCCEEDED(rc) && kernel)
        rc = add_kernel(dev, kernel);
    if (CAP_SUCCEEDED(rc) && initrd)
        rc = load_file(dev, "initrd", initrd, MAX_INITRD, &s->fixed[FW_INITRD_DATA]);
    if (CAP_SUCCEEDED(rc) && initrd)
        rc = set_le(dev, FW_INITRD_SIZE, s->fixed[FW_INITRD_DATA].size, 4);
    if (CAP_SUCCEEDED(rc) && cmdline) {
        size_t n = strlen(cmdline) + 1;
        if (n > MAX_CMDLINE)
            return h->error(dev, CAP_E_INVALIDARG,
                            "config key 'cmdline': %zu bytes, more than the %u allowed", n,
                            MAX_CMDLINE);
        rc = set_bytes(dev, &s->fixed[FW_CMDLINE_DATA], cmdline, n);
        if (CAP_SUCCEEDED(rc))
            rc = set_le(dev, FW_CMDLINE_SIZE, n, 4);
    }
    for (unsigned i = 0; CAP_SUCCEEDED(rc) && i < FW_MAX_FILES; i++)
        rc = add_config_file(dev, cfg, i);
    if (CAP_SUCCEEDED(rc) && e820)
        rc = add_e820(dev, e820, e820_len);
    return rc;
}

static void fwcfg_destruct(struct pdm_dev *dev)
{
    struct fwcfg *s = dev->data;
    for (unsigned i = 0; i < FW_FILE_FIRST; i++)
        free(s->fixed[i].data);
    for (unsigned i = 0; i < s->n_files; i++)
        free(s->files[i].item.data);
    memset(s, 0, sizeof(*s));
}

static void fwcfg_reset(struct pdm_dev *dev)
{
    struct fwcfg *s = dev->data;
    s->sel = 0;
    s->off = 0;
}

static cap_result fwcfg_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    cap_result rc = read_config(dev, cfg);
    if (CAP_SUCCEEDED(rc))
        rc = build_file_dir(dev);
    if (CAP_SUCCEEDED(rc))
        rc = dev->hlp->io_register(dev, 0x510, 2, 0, NULL, "fw_cfg");
    return rc;
}

/* Only the cursor is state: the items come from the (same) config. */
static cap_result fwcfg_save(struct pdm_dev *dev, struct pdm_ssm *ssm)
{
    struct fwcfg *s = dev->data;
    cap_result rc = dev->hlp->ssm_put(ssm, &s->sel, sizeof(s->sel));
    return CAP_SUCCEEDED(rc) ? dev->hlp->ssm_put(ssm, &s->off, sizeof(s->off)) : rc;
}

static cap_result fwcfg_load(struct pdm_dev *dev, struct pdm_ssm *ssm, uint32_t version)
{
    struct fwcfg *s = dev->data;
    cap_result rc = dev->hlp->ssm_get(ssm, &s->sel, sizeof(s->sel));
    return CAP_SUCCEEDED(rc) ? dev->hlp->ssm_get(ssm, &s->off, sizeof(s->off)) : rc;
}

static const struct pdm_dev_ops fwcfg_ops = {
    .construct = fwcfg_construct,
    .destruct = fwcfg_destruct,
    .reset = fwcfg_reset,
    .io = fwcfg_io,
    .save = fwcfg_save,
    .load = fwcfg_load,
};

static const struct pdm_devreg fwcfg_reg = {
    .abi = PDM_DEVREG_ABI,
    .name = "fwcfg",
    .description = "QEMU fw_cfg firmware configuration (I/O ports 0x510/0x511)",
    .instance_size = sizeof(struct fwcfg),
    .max_instances = 1,
    .saved_state_version = 1,
    .ops = &fwcfg_ops,
};

static const cap_uuid fwcfg_cid = {{0x3e, 0xa2, 0x7d, 0xc7, 0xdc, 0x73, 0x42, 0x2a, 0x9c, 0x09,
                                    0x12, 0x45, 0x1a, 0x30, 0x77, 0x62}};
PDM_DEVICE_COMPONENT(fwcfg_reg, fwcfg_cid, "fwcfg")
