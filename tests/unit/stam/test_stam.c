/*
 * tests/unit/stam/test_stam.c - STAM, the statistics registry: a table of
 * counters registered and read back sorted, bad and duplicate paths
 * refused (all or nothing for a table), the glob patterns of
 * IMachineDebugger.getStats, profiles, callbacks and gauges, reset by
 * baseline, the text format with and without descriptions,
 * deregistration by prefix, and readers racing a writer that increments
 * without atomics.
 */
#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "stam/stam.h"

struct counters {
    uint64_t exits, bytes;
    struct stam_profile halt;
    uint64_t used;
};

static uint64_t read_double(const void *base)
{
    return 2 * ((const struct counters *)base)->exits;
}

static const struct stam_def defs[] = {
    {.path = "/EM/Exits",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_COUNT,
     .offset = offsetof(struct counters, exits),
     .desc = "exits"},
    {.path = "/EM/Bytes",
     .type = STAM_COUNTER,
     .unit = STAM_UNIT_BYTES,
     .offset = offsetof(struct counters, bytes),
     .desc = "bytes moved"},
    {.path = "/EM/Halt",
     .type = STAM_PROFILE,
     .unit = STAM_UNIT_NS,
     .offset = offsetof(struct counters, halt),
     .desc = "time halted"},
    {.path = "/REM/JIT/CodeBytes",
     .type = STAM_GAUGE,
     .unit = STAM_UNIT_BYTES,
     .offset = offsetof(struct counters, used),
     .desc = "code buffer in use"},
    {.path = "/EM/Double",
     .type = STAM_CALLBACK,
     .unit = STAM_UNIT_COUNT,
     .read = read_double,
     .desc = "twice the exits"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static struct stam *fresh(struct counters *c)
{
    struct stam *st = NULL;
    ck_assert_int_eq(stam_create(&st), CAP_OK);
    memset(c, 0, sizeof(*c));
    ck_assert_int_eq(stam_register_table(st, defs, NDEFS, c), CAP_OK);
    return st;
}

START_TEST(test_register_and_read)
{
    struct counters c;
    struct stam *st = fresh(&c);
    c.exits = 7;
    c.bytes = 4096;
    c.halt = (struct stam_profile){.count = 4, .total_ns = 1000};
    c.used = 12;
    ck_assert_uint_eq(stam_value(st, "/EM/Exits"), 7);
    ck_assert_uint_eq(stam_value(st, "/EM/Double"), 14);
    ck_assert_uint_eq(stam_value(st, "/EM/Nothing"), 0);
    struct stam_value v;
    ck_assert(stam_get(st, "/EM/Halt", &v));
    ck_assert_uint_eq(v.value, 1000);
    ck_assert_uint_eq(v.count, 4);
    ck_assert_str_eq(v.desc, "time halted");
    ck_assert(!stam_get(st, "/EM", &v));
    /* sorted by path, whatever the registration order */
    char *text = stam_format(st, NULL, false);
    ck_assert_str_eq(text, "/EM/Bytes 4096 bytes\n"
                           "/EM/Double 14 count\n"
                           "/EM/Exits 7 count\n"
                           "/EM/Halt 1000 ns (4 times, 250 ns each)\n"
                           "/REM/JIT/CodeBytes 12 bytes\n");
    free(text);
    text = stam_format(st, "/EM/Exits", true);
    ck_assert_str_eq(text, "/EM/Exits 7 count\texits\n");
    free(text);
    text = stam_format(st, "/Nope*", true);
    ck_assert_str_eq(text, "");
    free(text);
    stam_destroy(st);
}
END_TEST

START_TEST(test_bad_paths)
{
    struct counters c;
    struct stam *st = fresh(&c);
    uint64_t x = 0;
    static const char *const bad[] = {"",        "EM/x",    "/",      "/EM/",   "/EM//x",
                                      "/EM/a b", "/EM/a|b", "/EM/a*", "/EM/a?", "/EM/\x7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct stam_def d = {.path = bad[i], .type = STAM_COUNTER};
        ck_assert_int_eq(stam_register(st, &d, &x), CAP_E_INVALIDARG);
        ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "bad statistic path"));
    }
    char longp[STAM_PATH_MAX + 8];
    memset(longp, 'a', sizeof(longp));
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    struct stam_def d = {.path = longp, .type = STAM_COUNTER};
    ck_assert_int_eq(stam_register(st, &d, &x), CAP_E_INVALIDARG);
    ck_assert_int_eq(stam_register_counterf(st, &x, STAM_UNIT_COUNT, "", "/%s", longp),
                     CAP_E_INVALIDARG);
    /* a callback needs its reader */
    d = (struct stam_def){.path = "/EM/Cb", .type = STAM_CALLBACK};
    ck_assert_int_eq(stam_register(st, &d, NULL), CAP_E_INVALIDARG);
    /* a duplicate is refused, naming it; a table is all or nothing */
    d = (struct stam_def){.path = "/EM/Exits", .type = STAM_COUNTER};
    ck_assert_int_eq(stam_register(st, &d, &x), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "'/EM/Exits' is registered already"));
    struct stam_def two[] = {{.path = "/New/A", .type = STAM_COUNTER},
                             {.path = "/EM/Bytes", .type = STAM_COUNTER}};
    ck_assert_int_eq(stam_register_table(st, two, 2, &x), CAP_E_INVALIDARG);
    struct stam_value v;
    ck_assert(!stam_get(st, "/New/A", &v));
    /* dynamic paths */
    ck_assert_int_eq(stam_register_counterf(st, &x, STAM_UNIT_COUNT, "port reads",
                                            "/IOM/Ports/0x%04x/Reads", 0x3f8),
                     CAP_OK);
    x = 3;
    ck_assert_uint_eq(stam_value(st, "/IOM/Ports/0x03f8/Reads"), 3);
    stam_destroy(st);
}
END_TEST

START_TEST(test_patterns)
{
    ck_assert(stam_match(NULL, "/EM/Exits"));
    ck_assert(stam_match("", "/EM/Exits"));
    ck_assert(stam_match("/EM/Exits", "/EM/Exits"));
    ck_assert(!stam_match("/EM/Exit", "/EM/Exits"));
    ck_assert(stam_match("/EM/*", "/EM/Exits/IO"));
    ck_assert(stam_match("*IO", "/EM/Exits/IO"));
    ck_assert(stam_match("/EM/Exit?", "/EM/Exits"));
    ck_assert(!stam_match("/EM/Exit?", "/EM/Exit"));
    ck_assert(stam_match("/REM/*|/EM/Halts", "/EM/Halts"));
    ck_assert(stam_match("/REM/*|/EM/Halts", "/REM/JIT/Links"));
    ck_assert(!stam_match("/REM/*|/EM/Halts", "/EM/Runs"));
    ck_assert(!stam_match("|", "/EM/Runs")); /* empty alternatives match nothing */
    ck_assert(stam_match("*a*b*c", "/xaxbxbxc"));
    ck_assert(!stam_match("*a*b*c", "/xaxbxbx"));
    ck_assert(stam_match("/**/Links", "/REM/JIT/Links"));

    struct counters c;
    struct stam *st = fresh(&c);
    char *text = stam_format(st, "/EM/B*|/REM/*", false);
    ck_assert_str_eq(text, "/EM/Bytes 0 bytes\n/REM/JIT/CodeBytes 0 bytes\n");
    free(text);
    stam_destroy(st);
}
END_TEST

START_TEST(test_reset)
{
    struct counters c;
    struct stam *st = fresh(&c);
    c.exits = 10;
    c.bytes = 5;
    c.halt = (struct stam_profile){.count = 2, .total_ns = 100};
    c.used = 77;
    /* counters and profiles only; the owner's fields are not written */
    ck_assert_uint_eq(stam_reset(st, "/EM/Exits|/EM/Halt|/EM/Double|/REM/*"), 2);
    ck_assert_uint_eq(c.exits, 10);
    ck_assert_uint_eq(stam_value(st, "/EM/Exits"), 0);
    ck_assert_uint_eq(stam_value(st, "/EM/Bytes"), 5);
    ck_assert_uint_eq(stam_value(st, "/EM/Double"), 20);
    ck_assert_uint_eq(stam_value(st, "/REM/JIT/CodeBytes"), 77);
    c.exits += 3;
    c.halt.count++;
    c.halt.total_ns += 50;
    ck_assert_uint_eq(stam_value(st, "/EM/Exits"), 3);
    struct stam_value v;
    stam_get(st, "/EM/Halt", &v);
    ck_assert_uint_eq(v.value, 50);
    ck_assert_uint_eq(v.count, 1);
    /* an owner that starts over below the baseline reads its own value */
    c.exits = 1;
    ck_assert_uint_eq(stam_value(st, "/EM/Exits"), 1);
    ck_assert_uint_eq(stam_reset(st, NULL), 3);
    ck_assert_uint_eq(stam_value(st, "/EM/Bytes"), 0);
    stam_destroy(st);
}
END_TEST

START_TEST(test_deregister)
{
    struct counters c;
    struct stam *st = fresh(&c);
    uint64_t a = 1, b = 2;
    ck_assert_int_eq(stam_register_counterf(st, &a, STAM_UNIT_COUNT, "", "/REM/A"), CAP_OK);
    ck_assert_int_eq(stam_register_counterf(st, &b, STAM_UNIT_COUNT, "", "/REMX"), CAP_OK);
    ck_assert_uint_eq(stam_deregister(st, "/REM/"), 2);
    char *text = stam_format(st, "/REM*", false);
    ck_assert_str_eq(text, "/REMX 2 count\n");
    free(text);
    ck_assert_uint_eq(stam_deregister(st, "/REM/"), 0);
    /* the path is free again */
    ck_assert_int_eq(stam_register_counterf(st, &a, STAM_UNIT_COUNT, "", "/REM/A"), CAP_OK);
    ck_assert_uint_eq(stam_deregister(st, "/"), NDEFS + 1);
    text = stam_format(st, NULL, false);
    ck_assert_str_eq(text, "");
    free(text);
    stam_destroy(st);
    stam_destroy(NULL);
}
END_TEST

/* One writer increments without atomics (as a vCPU thread does) and
 * registers new counters; readers enumerate meanwhile: values only grow,
 * and the final read is exact once the writer is done. */
struct race {
    struct stam *st;
    uint64_t counter;
    uint64_t dyn[64];
    volatile int done;
};

static void *writer(void *arg)
{
    struct race *r = arg;
    for (unsigned i = 0; i < 2000000; i++) {
        r->counter++;
        if (i % 31250 == 0)
            stam_register_counterf(r->st, &r->dyn[i / 31250], STAM_UNIT_COUNT, "dyn", "/Dyn/%02u",
                                   i / 31250);
        __asm__ volatile("" ::: "memory"); /* keep the store in the loop */
    }
    r->done = 1;
    return NULL;
}

START_TEST(test_racing_readers)
{
    struct race r = {0};
    ck_assert_int_eq(stam_create(&r.st), CAP_OK);
    ck_assert_int_eq(stam_register_counterf(r.st, &r.counter, STAM_UNIT_COUNT, "", "/Race"),
                     CAP_OK);
    pthread_t t;
    pthread_create(&t, NULL, writer, &r);
    uint64_t last = 0;
    unsigned reads = 0;
    while (!r.done) {
        uint64_t v = stam_value(r.st, "/Race");
        ck_assert_uint_ge(v, last);
        last = v;
        char *text = stam_format(r.st, "/Dyn/*", false);
        ck_assert_ptr_nonnull(text);
        free(text);
        reads++;
    }
    pthread_join(t, NULL);
    ck_assert_uint_eq(stam_value(r.st, "/Race"), 2000000);
    char *text = stam_format(r.st, "/Dyn/*", false);
    ck_assert_ptr_nonnull(strstr(text, "/Dyn/00 0 count\n"));
    ck_assert_ptr_nonnull(strstr(text, "/Dyn/63 0 count\n"));
    free(text);
    stam_destroy(r.st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stam");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, test_register_and_read);
    tcase_add_test(tc, test_bad_paths);
    tcase_add_test(tc, test_patterns);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_deregister);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("threads");
    tcase_add_test(tt, test_racing_readers);
    suite_add_tcase(s, tt);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
