/*
 * vmm/platform/platform_aml.h - a small encoder for ACPI Machine Language
 * (ACPI 6.x, chapter 20 "ACPI Machine Language Specification") and for
 * resource descriptors (chapter 6.4 "Resource Data Types"), so the DSDT is
 * written as a program that reads like its ASL instead of a hex blob.
 *
 * The module's own helper (platform_acpi_dsdt.c and the unit tests use it):
 * not exported from libcapsule-vmm.so.
 *
 * Usage: aml_init, then emit terms in order. A term with a PkgLength
 * (Scope, Device, Method, Package, If, Else, Field, Buffer) is opened by
 * its function and closed by aml_end, which writes the PkgLength in its
 * shortest form (1 to 4 bytes) in front of the body. Errors (out of
 * memory, a name that is not a valid NameString, nesting deeper than
 * AML_MAX_DEPTH, aml_end without an open term, a value too large) set
 * `failed` and make every later call a no-op; the caller checks
 * aml_finish once at the end. Pure code, no global state, any thread.
 */
#ifndef VMM_PLATFORM_AML_H
#define VMM_PLATFORM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

/* Opcodes (ACPI 6.4, 20.3 "AML Byte Stream Byte Values") this encoder's
 * callers write directly. */
#define AML_ZERO_OP         0x00
#define AML_ONE_OP          0x01
#define AML_NAME_OP         0x08
#define AML_BYTE_PREFIX     0x0a
#define AML_WORD_PREFIX     0x0b
#define AML_DWORD_PREFIX    0x0c
#define AML_STRING_PREFIX   0x0d
#define AML_QWORD_PREFIX    0x0e
#define AML_SCOPE_OP        0x10
#define AML_BUFFER_OP       0x11
#define AML_PACKAGE_OP      0x12
#define AML_METHOD_OP       0x14
#define AML_DUAL_NAME       0x2e
#define AML_MULTI_NAME      0x2f
#define AML_EXT_OP          0x5b
#define AML_ROOT_CHAR       0x5c
#define AML_PARENT_CHAR     0x5e
#define AML_LOCAL0          0x60
#define AML_ARG0            0x68
#define AML_STORE_OP        0x70
#define AML_AND_OP          0x7b
#define AML_OR_OP           0x7d
#define AML_CREATE_DWORD_OP 0x8a
#define AML_LLESS_OP        0x95
#define AML_IF_OP           0xa0
#define AML_ELSE_OP         0xa1
#define AML_RETURN_OP       0xa4
#define AML_ONES_OP         0xff
/* after AML_EXT_OP */
#define AML_EXT_REGION_OP 0x80
#define AML_EXT_FIELD_OP  0x81
#define AML_EXT_DEVICE_OP 0x82

/* Operation region spaces (ACPI 6.4, 19.6.100 OperationRegion) */
#define AML_SPACE_SYSTEM_MEMORY 0x00
#define AML_SPACE_SYSTEM_IO     0x01
#define AML_SPACE_PCI_CONFIG    0x02
/* Field flags: access type in bits 3:0, lock rule bit 4, update rule 6:5 */
#define AML_FIELD_BYTE_ACC 0x01

struct aml {
    uint8_t *buf; /* malloc'ed; owned until aml_finish hands it over */
    size_t len, cap;
    size_t open[AML_MAX_DEPTH]; /* where each open term's PkgLength goes */
    unsigned depth;
    bool failed;
};

void aml_init(struct aml *a);
/* Frees the buffer (also after aml_finish failed). */
void aml_fini(struct aml *a);
/* Whether everything encoded and every term was closed: true hands the
 * bytes over (*out malloc'ed, the caller frees; a is then empty). */
bool aml_finish(struct aml *a, uint8_t **out, size_t *len);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* A NameString (20.2.2): "\\_SB.PCI0", "^ISA.PRQA", "LNKA", "" (NullName).
 * Segments of 1-4 characters [A-Z_][A-Z0-9_]* are padded with '_'. */
void aml_name_string(struct aml *a, const char *path);
/* The shortest integer encoding: ZeroOp, OneOp, ByteConst .. QWordConst. */
void aml_integer(struct aml *a, uint64_t v);
/* A String (StringPrefix, ASCII 0x01-0x7f, NUL). */
void aml_string(struct aml *a, const char *s);
/* EisaId ("PNP0A03"): three letters A-Z and four hex digits compressed
 * into a DWordConst (byte order as the EISA ID is read: big-endian). */
void aml_eisaid(struct aml *a, const char *id);

/* NameOp NameString; the object (integer, package, buffer) follows. */
void aml_name(struct aml *a, const char *name);
/* Terms with a PkgLength, closed by aml_end. */
void aml_scope(struct aml *a, const char *name);
void aml_device(struct aml *a, const char *name);
void aml_method(struct aml *a, const char *name, unsigned nargs, bool serialized);
void aml_package(struct aml *a, unsigned nelem);
void aml_if(struct aml *a); /* the predicate, then the body, follow */
void aml_else(struct aml *a);
/* Field (region, flags) { units... }: aml_field_unit per named unit. */
void aml_field(struct aml *a, const char *region, uint8_t flags);
void aml_field_unit(struct aml *a, const char *name, unsigned bits);
void aml_end(struct aml *a);

/* OperationRegion (name, space, offset, length). */
void aml_opregion(struct aml *a, const char *name, uint8_t space, uint64_t offset, uint64_t len);
/* A whole Buffer () with these bytes. */
void aml_buffer(struct aml *a, const uint8_t *data, size_t n);

/*
 * Resource descriptors (6.4): collected into a struct aml_rt, then
 * written as ResourceTemplate () - a Buffer ending with the End Tag
 * (checksum 0: "treated as if the checksum operation succeeded").
 */
#define AML_RT_MAX 512
struct aml_rt {
    uint8_t b[AML_RT_MAX];
    size_t len;
    bool failed; /* more than AML_RT_MAX bytes */
};
/* Extended interrupt descriptor flags (6.4.3.6) */
#define AML_IRQ_CONSUMER 0x01
#define AML_IRQ_EDGE     0x02 /* else level */
#define AML_IRQ_LOW      0x04 /* active low, else high */
#define AML_IRQ_SHARED   0x08

void aml_rt_init(struct aml_rt *rt);
/* IO (Decode16, min, max, align, len): 6.4.2.5 */
void aml_rt_io(struct aml_rt *rt, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* IRQNoFlags () {irqs in mask}: 6.4.2.1, the 2-byte form (edge, high) */
void aml_rt_irq_noflags(struct aml_rt *rt, uint16_t mask);
/* WordBusNumber / WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode
 * [, EntireRange]) over [min, max]: 6.4.3.5.3 */
void aml_rt_word_bus(struct aml_rt *rt, uint16_t min, uint16_t max);
void aml_rt_word_io(struct aml_rt *rt, uint16_t min, uint16_t max);
/* DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable,
 * ReadWrite) over [min, max]: 6.4.3.5.2 */
void aml_rt_dword_mem(struct aml_rt *rt, uint32_t min, uint32_t max);
/* Interrupt (flags) {irqs}: 6.4.3.6, at most 8 here */
void aml_rt_ext_irq(struct aml_rt *rt, uint8_t flags, const uint32_t *irqs, unsigned n);
void aml_resource_template(struct aml *a, const struct aml_rt *rt);

#endif /* VMM_PLATFORM_AML_H */
