/*
 * tests/unit/devices/test_config.c - PDM's typed device configuration
 * (pdm.h's struct pdm_cfg_value, pdmdev.h's hlp->cfg_*): each type read
 * back, a value of another type or out of range named with device, key and
 * both types, unknown and repeated keys, PDM's own copies; and the one text
 * parser of the edges (pdm_cfg_parse: capsule-vm's --device).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static struct harness h;

/* A device that reads one key of each type ("i", "b", "s", "by") and
 * keeps what it got. */
static struct got {
    int64_t i;
    bool b;
    const char *s;
    const void *by;
    size_t by_len;
    uint8_t by_copy[16];
} got;

static cap_result cfgdev_construct(struct pdm_dev *dev, const struct pdm_cfg *cfg)
{
    const struct pdm_hlp *hl = dev->hlp;
    cap_result rc = hl->cfg_int(dev, cfg, "i", -1, -1000, 1000, &got.i);
    if (CAP_SUCCEEDED(rc))
        rc = hl->cfg_bool(dev, cfg, "b", false, &got.b);
    if (CAP_SUCCEEDED(rc))
        rc = hl->cfg_string(dev, cfg, "s", "default", &got.s);
    if (CAP_SUCCEEDED(rc))
        rc = hl->cfg_bytes(dev, cfg, "by", &got.by, &got.by_len);
    if (CAP_SUCCEEDED(rc) && got.by)
        memcpy(got.by_copy, got.by, got.by_len < 16 ? got.by_len : 16);
    return rc;
}

static const struct pdm_dev_ops cfgdev_ops = {.construct = cfgdev_construct};
static const struct pdm_devreg cfgdev = {.abi = PDM_DEVREG_ABI,
                                         .name = "cfgdev",
                                         .description = "reads typed values",
                                         .instance_size = 8,
                                         .ops = &cfgdev_ops};

static void setup(void)
{
    h_setup(&h);
    memset(&got, 0, sizeof(got));
    ck_assert_int_eq(pdm_add_devreg(h.pdm, &cfgdev), CAP_OK);
}

static void teardown(void)
{
    h_teardown(&h);
}

static void expect_fail(const struct pdm_cfg_value *v, size_t n, const char *needle)
{
    ck_assert_int_eq(h_add_values(&h, "cfgdev", v, n), CAP_E_INVALIDARG);
    const char *m = cap_error_peek_message();
    ck_assert_msg(m && strstr(m, needle), "'%s' lacks '%s'", m ? m : "(none)", needle);
    cap_error_clear();
}

START_TEST(test_types)
{
    static const uint8_t bytes[] = {0, 1, 0xfe, 0xff};
    char s[] = "hello";
    struct pdm_cfg_value v[] = {PDM_CFG_I("i", -1000), PDM_CFG_B("b", true), PDM_CFG_S("s", s),
                                PDM_CFG_BYTES("by", bytes, sizeof(bytes))};
    ck_assert_int_eq(h_add_values(&h, "cfgdev", v, 4), CAP_OK);
    ck_assert_int_eq(got.i, -1000);
    ck_assert(got.b);
    ck_assert_str_eq(got.s, "hello");
    ck_assert_uint_eq(got.by_len, 4);
    ck_assert_mem_eq(got.by_copy, bytes, 4);
    /* PDM keeps its own copies: the caller's storage may go */
    ck_assert_ptr_ne(got.s, s);
    ck_assert_ptr_ne(got.by, bytes);
    /* absent keys: the defaults */
    ck_assert_int_eq(h_add_values(&h, "cfgdev", NULL, 0), CAP_OK);
    ck_assert_int_eq(got.i, -1);
    ck_assert(!got.b);
    ck_assert_str_eq(got.s, "default");
    ck_assert_ptr_null(got.by);
    ck_assert_uint_eq(got.by_len, 0);
    /* empty bytes are a value */
    struct pdm_cfg_value e = PDM_CFG_BYTES("by", NULL, 0);
    ck_assert_int_eq(h_add_values(&h, "cfgdev", &e, 1), CAP_OK);
    ck_assert_ptr_nonnull(got.by);
    ck_assert_uint_eq(got.by_len, 0);
}
END_TEST

START_TEST(test_mismatch_and_keys)
{
    struct pdm_cfg_value v;
    v = PDM_CFG_S("i", "12");
    expect_fail(&v, 1, "cfgdev0: config key 'i': expected an integer, got the string '12'");
    v = PDM_CFG_I("b", 1);
    expect_fail(&v, 1, "cfgdev0: config key 'b': expected a boolean, got the integer 1");
    v = PDM_CFG_B("s", false);
    expect_fail(&v, 1,
                "cfgdev0: config key 's': expected a string, got the boolean false (on the "
                "command line: key=string:VALUE)");
    v = PDM_CFG_S("by", "00");
    expect_fail(&v, 1, "cfgdev0: config key 'by': expected bytes, got the string '00'");
    v = PDM_CFG_I("i", 1001);
    expect_fail(&v, 1, "config key 'i': 1001 (0x3e9) is not an integer in [-1000, 1000]");
    v = PDM_CFG_I("typo", 1);
    expect_fail(&v, 1, "cfgdev0: unknown config key 'typo'");
    struct pdm_cfg_value twice[] = {PDM_CFG_I("i", 1), PDM_CFG_I("i", 2)};
    expect_fail(twice, 2, "config key 'i' given twice");
    v = (struct pdm_cfg_value){.key = "i", .type = 99};
    expect_fail(&v, 1, "unknown value type 99");
    v = PDM_CFG_S("s", NULL);
    expect_fail(&v, 1, "a NULL string");
    v = PDM_CFG_I(NULL, 1);
    expect_fail(&v, 1, "has no key");
    /* nothing half-built stays: a good one still goes in */
    v = PDM_CFG_I("i", 7);
    ck_assert_int_eq(h_add_values(&h, "cfgdev", &v, 1), CAP_OK);
    ck_assert_int_eq(got.i, 7);
}
END_TEST

static struct pdm_cfg_value parse_ok(const char *text, char *buf, size_t len)
{
    snprintf(buf, len, "%s", text);
    struct pdm_cfg_value v;
    ck_assert_int_eq(pdm_cfg_parse("dev0", "key", buf, &v), CAP_OK);
    ck_assert_str_eq(v.key, "key");
    return v;
}

START_TEST(test_parse_edge)
{
    char buf[64];
    static const struct {
        const char *text;
        int64_t i;
    } ints[] = {{"0", 0},     {"42", 42}, {"-5", -5},           {"0x3f8", 0x3f8},
                {"0X10", 16}, {"010", 8}, {"integer:0x20", 32}, {"9223372036854775807", INT64_MAX}};
    for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
        struct pdm_cfg_value v = parse_ok(ints[k].text, buf, sizeof(buf));
        ck_assert_msg(v.type == PDM_CFG_INT, "'%s' is not an integer", ints[k].text);
        ck_assert_int_eq(v.u.i, ints[k].i);
    }
    static const struct {
        const char *text;
        bool b;
    } bools[] = {{"true", true}, {"FALSE", false}, {"yes", true},     {"No", false},
                 {"on", true},   {"off", false},   {"bool:on", true}, {"bool:false", false}};
    for (size_t k = 0; k < sizeof(bools) / sizeof(bools[0]); k++) {
        struct pdm_cfg_value v = parse_ok(bools[k].text, buf, sizeof(buf));
        ck_assert_msg(v.type == PDM_CFG_BOOL, "'%s' is not a boolean", bools[k].text);
        ck_assert(v.u.b == bools[k].b);
    }
    static const struct {
        const char *text, *s;
    } strs[] = {{"stdio", "stdio"},
                {"file:/tmp/x", "file:/tmp/x"},
                {"string:0", "0"},
                {"string:true", "true"},
                {"12abc", "12abc"},
                {" 12", " 12"},
                {"+1", "+1"},
                {"", ""},
                {"99999999999999999999", "99999999999999999999"}};
    for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
        struct pdm_cfg_value v = parse_ok(strs[k].text, buf, sizeof(buf));
        ck_assert_msg(v.type == PDM_CFG_STRING, "'%s' is not a string", strs[k].text);
        ck_assert_str_eq(v.u.s, strs[k].s);
    }
    struct pdm_cfg_value v = parse_ok("bytes:00fFa5", buf, sizeof(buf));
    ck_assert_int_eq(v.type, PDM_CFG_BYTES);
    ck_assert_uint_eq(v.u.bytes.len, 3);
    ck_assert_mem_eq(v.u.bytes.data, "\x00\xff\xa5", 3);
    v = parse_ok("bytes:", buf, sizeof(buf));
    ck_assert_uint_eq(v.u.bytes.len, 0);

    static const struct {
        const char *text, *why;
    } bad[] = {
        {"integer:", "'integer:' is not an integer"},
        {"integer:1x", "'integer:1x' is not an integer"},
        {"bool:maybe", "'bool:maybe' is not a boolean (true/false, yes/no, on/off)"},
        {"bytes:abc", "'bytes:abc' is not bytes (an even number of hex digits)"},
        {"bytes:0g", "bytes value is not bytes (no hex digits at offset 0)"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        snprintf(buf, sizeof(buf), "%s", bad[k].text);
        ck_assert_int_eq(pdm_cfg_parse("dev0", "key", buf, &v), CAP_E_INVALIDARG);
        const char *m = cap_error_peek_message();
        ck_assert_msg(m && strstr(m, bad[k].why) && strstr(m, "dev0: config key 'key'"),
                      "'%s' lacks '%s'", m ? m : "(none)", bad[k].why);
        cap_error_clear();
    }
    ck_assert_int_eq(pdm_cfg_parse("dev0", "key", NULL, &v), CAP_E_POINTER);
    ck_assert_str_eq(pdm_cfg_type_name(PDM_CFG_BYTES), "bytes");
}
END_TEST

/* The edge and a device together: the command line's text reaches the
 * device typed. */
START_TEST(test_text_to_device)
{
    struct pdm_cfg_kv kv[] = {{"i", "0x10"}, {"b", "on"}, {"s", "string:42"}, {"by", "bytes:0102"}};
    ck_assert_int_eq(h_add(&h, "cfgdev", kv, 4), CAP_OK);
    ck_assert_int_eq(got.i, 16);
    ck_assert(got.b);
    ck_assert_str_eq(got.s, "42");
    ck_assert_uint_eq(got.by_len, 2);
    ck_assert_mem_eq(got.by_copy, "\x01\x02", 2);
    struct pdm_cfg_kv wrong[] = {{"s", "42"}};
    ck_assert_int_eq(h_add(&h, "cfgdev", wrong, 1), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "key=string:VALUE"));
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_types);
    tcase_add_test(tc, test_mismatch_and_keys);
    tcase_add_test(tc, test_parse_edge);
    tcase_add_test(tc, test_text_to_device);
    return h_run_case("dev-config", tc);
}
