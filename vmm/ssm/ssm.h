/*
 * vmm/ssm/ssm.h - SSM, the saved-state stream (VirtualBox's SSM in
 * spirit): one file holding a VM's state as units, one per module or
 * device instance ("cpum" 0, "serial" 1, "ram" 0), each a list of named,
 * typed fields, or guest RAM. Save writes it, restore verifies all of it
 * first and only then applies it, so a damaged stream never half-restores.
 *
 * Format (version 1; all integers little-endian, whatever the host):
 *
 *   header   64 bytes: magic "CAPSSM\x1a\n", u32 stream version, u32 flags
 *            (none defined: a set bit is refused), creator[44] (the build
 *            that wrote it, NUL-padded text), u32 CRC32C of bytes 0..59.
 *   records  each u32 tag, u32 length, payload[length]:
 *     'UNIT' begins a unit: u8 kind (1 fields, 2 RAM), u8 name length,
 *            u16 zero, u32 instance, u32 unit version, u64 RAM size (0 for
 *            fields), name (1..SSM_NAME_MAX-1 printable ASCII bytes).
 *     'FLDS' the one record of a fields unit: fields, each u8 type
 *            (enum ssm_type), u8 name length, name, value (u8/bool 1 byte,
 *            u16 2, u32 4, u64/i64 8, bytes/string u32 length + data).
 *     'PAGE' a RAM chunk: u64 offset of its first page in the region, u32
 *            page count (1..SSM_RAM_CHUNK_PAGES), u32 zero, a bitmap of the
 *            pages present (bit set: the page is in the data), then one zstd
 *            frame of the present pages. Pages not in any chunk are zero:
 *            all-zero pages are never written.
 *     'UEND' ends a unit: u32 CRC32C of the unit's records before it.
 *     'TRLR' the last record: u32 unit count, u32 zero, u64 its own file
 *            offset, u32 CRC32C of the file from byte 0 up to this field.
 *
 * Compatibility. Fields are found by name, so a unit can grow: a reader
 * asking for a field the stream lacks gets the default it passes (an older
 * stream in a newer build), and fields nobody asks for are skipped (a newer
 * stream in an older build, when its unit version says the layout is
 * compatible). Integers convert between widths when the value fits
 * (a u8 saved, a u32 asked for); a value that does not fit, or another
 * kind (bytes for an integer), is an error naming unit and field. Each
 * unit has a version its loader checks (ssm_unit_check_version); the
 * stream version changes only with the container format. A unit no one
 * loads is listed by ssm_check_all_used: the caller decides whether that
 * refuses the restore. Nesting is by name ("ch0.count", "ch1.count"); an
 * array is bytes.
 *
 * Guest RAM is streamed: the writer reads SSM_RAM_CHUNK_PAGES pages at a
 * time, skips zero ones, compresses the rest with zstd (level 1) and
 * writes them, so memory use is bounded for any RAM size (three
 * chunk-sized buffers and zstd's level-1 context) and nothing buffers the
 * whole RAM. Reading skips the chunks at open (they are checked and
 * decompressed to verify them) and ssm_load_ram reads them again into the
 * caller's memory, clearing a zero page only if it is not zero already
 * (zero pages of untouched RAM stay unallocated).
 *
 * Integrity. A CRC32C over each unit and over the whole file (trailer).
 * ssm_open reads the whole stream and checks every checksum, every
 * structure, and decompresses every RAM chunk before it returns a reader;
 * only then do the loaders run. A hostile file gets an error naming the
 * unit, field or record and its file offset, never a crash or an
 * allocation larger than the limits below. Writing goes to PATH.tmp,
 * which ssm_writer_commit fsyncs and renames over PATH (then fsyncs the
 * folder): a crash leaves the old file or the new one.
 *
 * Errors are VMM_E_SSM_* (vmm_result.h) or CAP_E_IO / CAP_E_OUTOFMEMORY /
 * CAP_E_INVALIDARG, each with error info (component "vmm"). Threads: a
 * writer or a reader is used by one thread at a time; separate ones are
 * independent (no global state).
 */
#ifndef VMM_SSM_H
#define VMM_SSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capsule/types.h>

#include "../vmm_result.h" /* relative: pdmdev.h includes this header */

#pragma GCC visibility push(default)

#define SSM_STREAM_VERSION  1u
#define SSM_NAME_MAX        64u         /* unit and field names, with the NUL */
#define SSM_PAGE_SIZE       4096u       /* RAM granule */
#define SSM_RAM_CHUNK_PAGES 256u        /* pages per RAM chunk (1 MiB) */
#define SSM_FIELDS_MAX      (16u << 20) /* bytes of one fields unit */
#define SSM_CREATOR_MAX     44u         /* creator text, with the NUL */
#define SSM_UNITS_MAX       4096u       /* units in one stream */
#define SSM_FIELD_COUNT_MAX 65536u      /* fields in one unit */
#define SSM_FIELDS_TOTAL    (64u << 20) /* bytes of all fields units of a stream */

enum ssm_type {
    SSM_U8 = 1,
    SSM_U16 = 2,
    SSM_U32 = 3,
    SSM_U64 = 4,
    SSM_I64 = 5,
    SSM_BOOL = 6,
    SSM_BYTES = 7,
    SSM_STRING = 8,
};

enum ssm_unit_kind { SSM_UNIT_FIELDS = 1, SSM_UNIT_RAM = 2 };

/* ---- writing ---------------------------------------------------------- */

struct ssm_writer;

/*
 * Creates PATH.tmp (replacing a stale one) and writes the header with
 * `creator` (truncated to SSM_CREATOR_MAX - 1 bytes). *out is NULL on
 * failure. Nothing exists at PATH until ssm_writer_commit.
 */
cap_result ssm_writer_create(const char *path, const char *creator, struct ssm_writer **out);

/*
 * A fields unit: ssm_begin_unit, any ssm_put_*, ssm_end_unit. Names are
 * 1..SSM_NAME_MAX-1 printable ASCII bytes; a field name appears once per
 * unit, a (unit name, instance) pair once per stream. Errors are sticky:
 * after the first failure every call returns it and commit fails, so a
 * device's save op may check only the last result. The unit is kept in
 * memory until ssm_end_unit (at most SSM_FIELDS_MAX bytes and
 * SSM_FIELD_COUNT_MAX fields; all fields units of a stream together at
 * most SSM_FIELDS_TOTAL bytes: device state, not bulk data).
 */
cap_result ssm_begin_unit(struct ssm_writer *w, const char *name, uint32_t instance,
                          uint32_t version);
cap_result ssm_put_u8(struct ssm_writer *w, const char *field, uint8_t v);
cap_result ssm_put_u16(struct ssm_writer *w, const char *field, uint16_t v);
cap_result ssm_put_u32(struct ssm_writer *w, const char *field, uint32_t v);
cap_result ssm_put_u64(struct ssm_writer *w, const char *field, uint64_t v);
cap_result ssm_put_i64(struct ssm_writer *w, const char *field, int64_t v);
cap_result ssm_put_bool(struct ssm_writer *w, const char *field, bool v);
cap_result ssm_put_bytes(struct ssm_writer *w, const char *field, const void *data, size_t len);
cap_result ssm_put_string(struct ssm_writer *w, const char *field, const char *s);
cap_result ssm_end_unit(struct ssm_writer *w);

/*
 * A RAM unit of `size` bytes (a multiple of SSM_PAGE_SIZE) read from
 * `base`, written as it is read (no unit may be open). The memory must not
 * change during the call (the VM is paused). Zero pages cost nothing in the
 * stream; reading them from an untouched anonymous mapping allocates
 * nothing.
 */
cap_result ssm_put_ram(struct ssm_writer *w, const char *name, uint32_t instance, uint32_t version,
                       const void *base, uint64_t size);

/*
 * Writes the trailer, fsyncs, renames PATH.tmp to PATH and fsyncs the
 * folder; frees the writer whatever happens (on failure PATH.tmp is
 * removed and PATH is untouched). Returns the first error of the writer.
 * `bytes` (may be NULL) gets the stream's size.
 */
cap_result ssm_writer_commit(struct ssm_writer *w, uint64_t *bytes);

/* Removes PATH.tmp and frees the writer. NULL is fine. */
void ssm_writer_abort(struct ssm_writer *w);

/* ---- reading ---------------------------------------------------------- */

struct ssm_reader;
struct ssm_unit;

/* What the stream holds, in stream order (ssm_unit_info). */
struct ssm_unit_info {
    const char *name;
    uint32_t instance;
    uint32_t version;
    enum ssm_unit_kind kind;
    uint64_t ram_size; /* RAM units: the region's size */
    bool used;         /* found by ssm_find_unit / loaded by ssm_load_ram */
};

/*
 * Opens and verifies the whole stream (header, every record, every CRC,
 * every RAM chunk decompressed) before returning; a fields unit's data
 * stays in memory, RAM chunks are read again by ssm_load_ram. *out is
 * NULL on failure: VMM_E_SSM_CORRUPT (checksum, structure, truncation;
 * the message names unit and file offset) or VMM_E_SSM_VERSION (a stream
 * version or flag this build does not read).
 */
cap_result ssm_open(const char *path, struct ssm_reader **out);

/* The same over an open file descriptor (not closed by ssm_close; it must
 * stay open and unchanged until then). */
cap_result ssm_open_fd(int fd, struct ssm_reader **out);

/* ssm_open then ssm_close: is this a stream this build can restore? */
cap_result ssm_verify(const char *path);

void ssm_close(struct ssm_reader *r);

/* The creator text of the header (valid until ssm_close). */
const char *ssm_creator(const struct ssm_reader *r);

size_t ssm_unit_count(const struct ssm_reader *r);
/* Unit i (0 <= i < ssm_unit_count), valid until ssm_close. */
const struct ssm_unit_info *ssm_unit_info(const struct ssm_reader *r, size_t i);

/*
 * The fields unit (name, instance), marked used. VMM_E_SSM_NOT_FOUND
 * (with error info) when the stream has none: the caller decides whether
 * a missing unit is fatal (a device added since the save) or not.
 */
cap_result ssm_find_unit(struct ssm_reader *r, const char *name, uint32_t instance,
                         struct ssm_unit **out);

uint32_t ssm_unit_version(const struct ssm_unit *u);

/* VMM_E_SSM_VERSION "unit 'NAME' INSTANCE has version V, this build reads
 * MIN..MAX" unless min <= version <= max. */
cap_result ssm_unit_check_version(const struct ssm_unit *u, uint32_t min, uint32_t max);

/* Whether the unit has a field of that name (any type). */
bool ssm_has_field(const struct ssm_unit *u, const char *field);

/*
 * Field getters. A missing field gives `def` and CAP_OK. A field of
 * another kind, or an integer that does not fit the asked type, is
 * VMM_E_SSM_FIELD naming unit, field and both types (*out untouched).
 * Unsigned types and bool convert among themselves when the value fits
 * (bool: 0 or 1); i64 takes an unsigned value up to INT64_MAX.
 */
cap_result ssm_get_u8(struct ssm_unit *u, const char *field, uint8_t def, uint8_t *out);
cap_result ssm_get_u16(struct ssm_unit *u, const char *field, uint16_t def, uint16_t *out);
cap_result ssm_get_u32(struct ssm_unit *u, const char *field, uint32_t def, uint32_t *out);
cap_result ssm_get_u64(struct ssm_unit *u, const char *field, uint64_t def, uint64_t *out);
cap_result ssm_get_i64(struct ssm_unit *u, const char *field, int64_t def, int64_t *out);
cap_result ssm_get_bool(struct ssm_unit *u, const char *field, bool def, bool *out);

/*
 * Bytes of exactly `len` into buf: a missing field leaves buf as it is
 * (the caller's default) and returns CAP_OK; a stored length other than
 * `len` is VMM_E_SSM_FIELD naming both lengths.
 */
cap_result ssm_get_bytes(struct ssm_unit *u, const char *field, void *buf, size_t len);

/* Bytes of any length: *data points into the reader (valid until
 * ssm_close), NULL with *len 0 when the field is missing. */
cap_result ssm_get_bytes_ref(struct ssm_unit *u, const char *field, const void **data, size_t *len);

/* A string copied NUL-terminated into buf[size]; a missing field copies
 * `def` (NULL: ""); a stored string that does not fit is VMM_E_SSM_FIELD. */
cap_result ssm_get_string(struct ssm_unit *u, const char *field, const char *def, char *buf,
                          size_t size);

/*
 * Loads the RAM unit (name, instance) into base[size], marking it used:
 * the stored size must equal `size` (VMM_E_SSM_FIELD otherwise, naming
 * both). Pages absent from the stream become zero, written only when
 * they are not zero already, so restoring into fresh anonymous memory
 * allocates only the non-zero pages. The chunks were verified by
 * ssm_open; a failure here means the file changed underneath
 * (VMM_E_SSM_CORRUPT) or a read failed (CAP_E_IO).
 */
cap_result ssm_load_ram(struct ssm_reader *r, const char *name, uint32_t instance, void *base,
                        uint64_t size);

/*
 * VMM_E_SSM_UNKNOWN_UNIT naming the units (up to a few, then a count) that
 * no ssm_find_unit / ssm_load_ram marked used: units of modules or
 * devices this build or this VM's configuration does not have. The
 * caller refuses the restore or ignores them.
 */
cap_result ssm_check_all_used(const struct ssm_reader *r);

/*
 * The field functions as one table, for code that reaches the VMM only
 * through function tables (device plugins: pdmdev.h's hlp->ssm). Each
 * entry is the function of the same name above, with its contract.
 */
struct ssm_field_ops {
    cap_result (*put_u8)(struct ssm_writer *w, const char *field, uint8_t v);
    cap_result (*put_u16)(struct ssm_writer *w, const char *field, uint16_t v);
    cap_result (*put_u32)(struct ssm_writer *w, const char *field, uint32_t v);
    cap_result (*put_u64)(struct ssm_writer *w, const char *field, uint64_t v);
    cap_result (*put_i64)(struct ssm_writer *w, const char *field, int64_t v);
    cap_result (*put_bool)(struct ssm_writer *w, const char *field, bool v);
    cap_result (*put_bytes)(struct ssm_writer *w, const char *field, const void *data, size_t len);
    cap_result (*put_string)(struct ssm_writer *w, const char *field, const char *s);
    uint32_t (*unit_version)(const struct ssm_unit *u);
    cap_result (*check_version)(const struct ssm_unit *u, uint32_t min, uint32_t max);
    bool (*has_field)(const struct ssm_unit *u, const char *field);
    cap_result (*get_u8)(struct ssm_unit *u, const char *field, uint8_t def, uint8_t *out);
    cap_result (*get_u16)(struct ssm_unit *u, const char *field, uint16_t def, uint16_t *out);
    cap_result (*get_u32)(struct ssm_unit *u, const char *field, uint32_t def, uint32_t *out);
    cap_result (*get_u64)(struct ssm_unit *u, const char *field, uint64_t def, uint64_t *out);
    cap_result (*get_i64)(struct ssm_unit *u, const char *field, int64_t def, int64_t *out);
    cap_result (*get_bool)(struct ssm_unit *u, const char *field, bool def, bool *out);
    cap_result (*get_bytes)(struct ssm_unit *u, const char *field, void *buf, size_t len);
    cap_result (*get_bytes_ref)(struct ssm_unit *u, const char *field, const void **data,
                                size_t *len);
    cap_result (*get_string)(struct ssm_unit *u, const char *field, const char *def, char *buf,
                             size_t size);
};

extern const struct ssm_field_ops ssm_field_ops;

#pragma GCC visibility pop

#endif /* VMM_SSM_H */
