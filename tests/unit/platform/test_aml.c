/*
 * test_aml.c - the AML encoder against the encodings of the ACPI 6.4
 * specification, chapter 20 (NameString 20.2.2, data objects 20.2.3,
 * PkgLength 20.2.4, named objects 20.2.5.2, resource descriptors 6.4),
 * and its refusals.
 */
#include <stdlib.h>

#include "platform_test.h"

/* Finishes `a` and compares its bytes with want[0..n). */
static void expect(struct aml *a, const uint8_t *want, size_t n)
{
    uint8_t *out;
    size_t len;
    ck_assert_msg(aml_finish(a, &out, &len), "the encoder failed");
    ck_assert_uint_eq(len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(out[i] == want[i], "byte %zu: 0x%02x, want 0x%02x", i, out[i], want[i]);
    free(out);
}
#define EXPECT(a, ...)                                                                             \
    do {                                                                                           \
        static const uint8_t w_[] = {__VA_ARGS__};                                                 \
        expect(a, w_, sizeof(w_));                                                                 \
    } while (0)

static void expect_fail(struct aml *a)
{
    uint8_t *out = NULL;
    size_t len;
    ck_assert(!aml_finish(a, &out, &len));
    ck_assert_ptr_null(out);
}

/* Each of bad[] makes `fn` fail. */
static void expect_refused(void (*fn)(struct aml *, const char *), const char *const *bad,
                           unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct aml a;
        aml_init(&a);
        fn(&a, bad[i]);
        ck_assert_msg(a.failed, "'%s' was taken", bad[i]);
        aml_fini(&a);
    }
}

START_TEST(name_strings)
{
    struct aml a;
    aml_init(&a);
    aml_name_string(&a, "\\_SB"); /* RootChar NameSeg */
    EXPECT(&a, 0x5c, '_', 'S', 'B', '_');
    aml_init(&a);
    aml_name_string(&a, "\\_SB.PCI0"); /* RootChar DualNamePath */
    EXPECT(&a, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
    aml_init(&a);
    aml_name_string(&a, "\\_SB.PCI0.ISA.PRQA"); /* MultiNamePath, SegCount 4 */
    EXPECT(&a, 0x5c, 0x2f, 4, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_', 'P', 'R',
           'Q', 'A');
    aml_init(&a);
    aml_name_string(&a, "^^ISA"); /* PrefixPath: two ParentPrefixChars */
    EXPECT(&a, 0x5e, 0x5e, 'I', 'S', 'A', '_');
    aml_init(&a);
    aml_name_string(&a, ""); /* NullName */
    EXPECT(&a, 0x00);

    static const char *const bad[] = {
        "pci0", "TOOLONG", "1ABC", "A..B", "ABC.", "\\A-B", "A.B.C.D.E.F.G.H.I.J.K.L.M.N.O.P.Q"};
    expect_refused(aml_name_string, bad, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

START_TEST(integers_strings_eisaid)
{
    struct aml a;
    aml_init(&a);
    aml_integer(&a, 0); /* ZeroOp */
    aml_integer(&a, 1); /* OneOp */
    aml_integer(&a, 2); /* BytePrefix */
    aml_integer(&a, 0xff);
    aml_integer(&a, 0x100);      /* WordPrefix */
    aml_integer(&a, 0x12345678); /* DWordPrefix */
    aml_integer(&a, 1ull << 32); /* QWordPrefix */
    EXPECT(&a, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0c, 0x78, 0x56, 0x34, 0x12,
           0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
    aml_init(&a);
    aml_string(&a, "Hi"); /* StringPrefix AsciiCharList NullChar */
    EXPECT(&a, 0x0d, 'H', 'i', 0x00);
    aml_init(&a);
    aml_string(&a, "\xc3\xa9");
    expect_fail(&a);

    /* EISA IDs as ASL's EisaId () compresses them: the PCI bus, the
     * interrupt link, the keyboard */
    aml_init(&a);
    aml_eisaid(&a, "PNP0A03");
    aml_eisaid(&a, "PNP0C0F");
    aml_eisaid(&a, "PNP0303");
    EXPECT(&a, 0x0c, 0x41, 0xd0, 0x0a, 0x03, 0x0c, 0x41, 0xd0, 0x0c, 0x0f, 0x0c, 0x41, 0xd0, 0x03,
           0x03);
    static const char *const bad[] = {"PNP0A0", "pnp0A03", "PNP0A0G", "PNP0A033"};
    expect_refused(aml_eisaid, bad, 4);
}
END_TEST

/* PkgLength: one byte up to 63 (itself included); then the lead byte's
 * bits 7:6 count the bytes that follow and its bits 3:0 are the low nibble. */
START_TEST(pkg_length)
{
    struct aml a;
    uint8_t body[0x1000] = {0};
    uint8_t *out;
    size_t len;

    aml_init(&a);
    aml_if(&a);
    aml_bytes(&a, body, 62); /* 62 + 1 = 63: one byte */
    aml_end(&a);
    ck_assert(aml_finish(&a, &out, &len));
    ck_assert_uint_eq(len, 64);
    ck_assert_uint_eq(out[1], 63);
    free(out);

    aml_init(&a);
    aml_if(&a);
    aml_bytes(&a, body, 63); /* 63 + 2 = 65 = 0x41: 0x41, 0x04 */
    aml_end(&a);
    ck_assert(aml_finish(&a, &out, &len));
    ck_assert_uint_eq(len, 66);
    ck_assert_uint_eq(out[1], 0x41);
    ck_assert_uint_eq(out[2], 0x04);
    free(out);

    aml_init(&a);
    aml_if(&a);
    aml_bytes(&a, body, 0xffe); /* 0xffe + 3 = 0x1001: three bytes */
    aml_end(&a);
    ck_assert(aml_finish(&a, &out, &len));
    ck_assert_uint_eq(out[1], 0x81);
    ck_assert_uint_eq(out[2], 0x00);
    ck_assert_uint_eq(out[3], 0x01);
    free(out);

    /* nested: the inner term is measured first, the outer counts it */
    aml_init(&a);
    aml_scope(&a, "\\");
    aml_package(&a, 1);
    aml_integer(&a, 1);
    aml_end(&a);
    aml_end(&a);
    EXPECT(&a, 0x10, 0x07, 0x5c, 0x00, 0x12, 0x03, 0x01, 0x01);
}
END_TEST

START_TEST(named_objects)
{
    struct aml a;
    /* Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) */
    aml_init(&a);
    aml_name(&a, "_S5");
    aml_package(&a, 4);
    aml_integer(&a, 5);
    aml_integer(&a, 5);
    aml_integer(&a, 0);
    aml_integer(&a, 0);
    aml_end(&a);
    EXPECT(&a, 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00);

    /* Method (_SRS, 1, Serialized) { Return (Arg0) }: MethodFlags 0x09 */
    aml_init(&a);
    aml_method(&a, "_SRS", 1, true);
    aml_byte(&a, AML_RETURN_OP);
    aml_byte(&a, AML_ARG0);
    aml_end(&a);
    EXPECT(&a, 0x14, 0x08, '_', 'S', 'R', 'S', 0x09, 0xa4, 0x68);

    /* Device (ISA) { OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)
     *                Field (PIRQ, ByteAcc, NoLock, Preserve) { PRQA, 8 } } */
    aml_init(&a);
    aml_device(&a, "ISA");
    aml_opregion(&a, "PIRQ", AML_SPACE_PCI_CONFIG, 0x60, 4);
    aml_field(&a, "PIRQ", AML_FIELD_BYTE_ACC);
    aml_field_unit(&a, "PRQA", 8);
    aml_end(&a);
    aml_end(&a);
    EXPECT(&a, 0x5b, 0x82, 0x1d, 'I', 'S', 'A', '_', 0x5b, 0x80, 'P', 'I', 'R', 'Q', 0x02, 0x0a,
           0x60, 0x0a, 0x04, 0x5b, 0x81, 0x0b, 'P', 'I', 'R', 'Q', 0x01, 'P', 'R', 'Q', 'A', 0x08);

    /* If (...) {} Else {} and a Buffer */
    aml_init(&a);
    aml_if(&a);
    aml_byte(&a, AML_ONE_OP);
    aml_end(&a);
    aml_else(&a);
    aml_end(&a);
    aml_buffer(&a, (const uint8_t[]){0xaa, 0xbb}, 2);
    EXPECT(&a, 0xa0, 0x02, 0x01, 0xa1, 0x01, 0x11, 0x05, 0x0a, 0x02, 0xaa, 0xbb);
}
END_TEST

START_TEST(misuse_fails)
{
    struct aml a;
    aml_init(&a);
    aml_end(&a); /* nothing open */
    expect_fail(&a);
    aml_init(&a);
    aml_scope(&a, "\\_SB"); /* never closed */
    expect_fail(&a);
    aml_init(&a);
    for (int i = 0; i <= AML_MAX_DEPTH; i++)
        aml_if(&a);
    ck_assert(a.failed);
    aml_fini(&a);
    aml_init(&a);
    aml_method(&a, "_FOO", 8, false); /* at most 7 arguments */
    expect_fail(&a);
    aml_init(&a);
    aml_package(&a, 256); /* a Package holds at most 255 */
    expect_fail(&a);
    aml_init(&a);
    aml_field(&a, "PIRQ", 1);
    aml_field_unit(&a, "PRQ", 8); /* a NameSeg is 4 characters */
    expect_fail(&a);
    /* after a failure every call is a no-op */
    aml_init(&a);
    aml_name_string(&a, "bad");
    aml_integer(&a, 7);
    ck_assert_uint_eq(a.len, 0);
    aml_fini(&a);
}
END_TEST

/* Resource descriptors, byte by byte as chapter 6.4 lays them out. */
START_TEST(resource_templates)
{
    struct aml a;
    struct aml_rt rt;
    aml_rt_init(&rt);
    aml_rt_io(&rt, 0x0cf8, 0x0cf8, 1, 8);
    aml_rt_irq_noflags(&rt, 1u << 1);
    aml_rt_word_bus(&rt, 0, 0xff);
    aml_rt_word_io(&rt, 0x0d00, 0xffff);
    aml_rt_dword_mem(&rt, 0x10000000, 0xfebfffff);
    aml_rt_ext_irq(&rt, AML_IRQ_CONSUMER | AML_IRQ_SHARED, (const uint32_t[]){5, 10}, 2);
    aml_init(&a);
    aml_resource_template(&a, &rt);
    EXPECT(&a, 0x11, 0x48, 0x05, 0x0a, 0x54, /* BufferOp, PkgLength 88, 84 bytes */
           /* IO: small item 8, Decode16 */
           0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
           /* IRQNoFlags {1} */
           0x22, 0x02, 0x00,
           /* WordBusNumber: producer, MinFixed|MaxFixed, 0-0xff, length 0x100 */
           0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00,
           0x01,
           /* WordIO, EntireRange: 0xd00-0xffff, length 0xf300 */
           0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00,
           0xf3,
           /* DWordMemory, Cacheable, ReadWrite */
           0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0xbf,
           0xfe, 0, 0, 0, 0, 0x00, 0x00, 0xc0, 0xee,
           /* Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {5, 10} */
           0x89, 0x0a, 0x00, 0x09, 0x02, 5, 0, 0, 0, 10, 0, 0, 0,
           /* End Tag, checksum 0 */
           0x79, 0x00);

    aml_rt_init(&rt);
    aml_rt_ext_irq(&rt, 0, (const uint32_t[]){0}, 0); /* no interrupt */
    ck_assert(rt.failed);
    aml_rt_init(&rt);
    for (int i = 0; i < 40; i++)
        aml_rt_dword_mem(&rt, 0, 1); /* more than AML_RT_MAX */
    ck_assert(rt.failed);
    aml_init(&a);
    aml_resource_template(&a, &rt);
    expect_fail(&a);
}
END_TEST

TCase *tcase_aml(void)
{
    TCase *tc = tcase_create("aml");
    tcase_add_test(tc, name_strings);
    tcase_add_test(tc, integers_strings_eisaid);
    tcase_add_test(tc, pkg_length);
    tcase_add_test(tc, named_objects);
    tcase_add_test(tc, misuse_fails);
    tcase_add_test(tc, resource_templates);
    return tc;
}
