/*
 * test_manifest.c - the manifest topic: one test per class of bad manifest,
 * each reported as "FILE:LINE: message" through error info and skipped as a
 * whole; a folder mixing good and bad manifests; conflicts with classes
 * already registered; files that are not manifests; a missing folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/result.h>
#include <capsule/uuid.h>

#include "objmodel_test.h"

#define COMP "<component name=\"a\" library=\"liba.so\" abi=\"1\">\n"
#define CLS_A                                                                                      \
    "<class name=\"A\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa01\" contract=\"@t/a;1\"/>\n"
#define CLS_B                                                                                      \
    "<class name=\"B\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa02\" contract=\"@t/b;1\"/>\n"
#define END "</component>\n"

static const struct {
    const char *text;
    int line;
    const char *message;
} bad[] = {
    {"", 1, "malformed XML"},
    {COMP CLS_A, 3, "malformed XML"},
    {COMP CLS_A END "<component/>\n", 4, "malformed XML"},
    {"\x01\x02\x03garbage", 1, "malformed XML"},
    {"<components name=\"a\" library=\"liba.so\" abi=\"1\">" CLS_A "</components>", 1,
     "expected <component>, found <components>"},
    {"<component library=\"liba.so\" abi=\"1\">\n" CLS_A END, 1, "needs a non-empty 'name'"},
    {"<component name=\"a\" abi=\"1\">\n" CLS_A END, 1, "needs a non-empty 'library'"},
    {"<component name=\"a\" library=\"liba.so\">\n" CLS_A END, 1, "needs a non-empty 'abi'"},
    {"<component name=\"\" library=\"liba.so\" abi=\"1\">\n" CLS_A END, 1,
     "needs a non-empty 'name'"},
    {"<component name=\"a\" library=\"liba.so\" abi=\"1\" version=\"2\">\n" CLS_A END, 1,
     "unknown attribute 'version' on <component>"},
    {"<component name=\"a\" library=\"../lib/liba.so\" abi=\"1\">\n" CLS_A END, 1,
     "must be a file name"},
    {"<component name=\"a\" library=\"liba.so\" abi=\"one\">\n" CLS_A END, 1, "is not a number"},
    {"<component name=\"a\" library=\"liba.so\" abi=\"1x\">\n" CLS_A END, 1, "is not a number"},
    {"<component name=\"a\" library=\"liba.so\" abi=\"-1\">\n" CLS_A END, 1, "is not a number"},
    {"<component name=\"a\" library=\"liba.so\" abi=\"2\">\n" CLS_A END, 1,
     "component ABI 2 is not supported"},
    {COMP END, 1, "declares no <class>"},
    {"\n\n" COMP "\n" END, 3, "declares no <class>"},
    {COMP "<class name=\"A\" contract=\"@t/a;1\"/>\n" END, 2, "needs a non-empty 'cid'"},
    {COMP "<class name=\"A\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa01\"/>\n" END, 2,
     "needs a non-empty 'contract'"},
    {COMP "<class cid=\"7a3c0e10-0000-4000-8000-0000000aaa01\" contract=\"@t/a;1\"/>\n" END, 2,
     "needs a non-empty 'name'"},
    {COMP
     "<class name=\"A\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa0\" contract=\"@t/a;1\"/>\n" END,
     2, "bad cid: malformed UUID"},
    {COMP "<class name=\"A\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa01\" contract=\"@t/a;1\" "
          "singleton=\"yes\"/>\n" END,
     2, "unknown attribute 'singleton' on <class>"},
    {COMP CLS_A "<service name=\"S\"/>\n" END, 3,
     "unexpected element <service> inside <component>"},
    {COMP "<class name=\"A\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa01\" contract=\"@t/a;1\">\n"
          "<iface/></class>\n" END,
     3, "unexpected element <iface> inside <class>"},
    {COMP CLS_A "hello\n" END, 3, "unexpected text"},
    {COMP CLS_A
     "<class name=\"B\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa01\" contract=\"@t/b;1\"/>\n" END,
     3, "cid is the same as that of class 'A' on line 2"},
    {COMP CLS_A
     "<class name=\"B\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa02\" contract=\"@t/a;1\"/>\n" END,
     3, "contract '@t/a;1' is the same as that of class 'A' on line 2"},
    {"<!DOCTYPE component>\n" COMP CLS_A END, 1, "DOCTYPE declarations are not allowed"},
    {"<?xml version=\"1.0\"?>\n<!DOCTYPE c [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]>\n"
     "<component name=\"&b;\" library=\"liba.so\" abi=\"1\">" CLS_A END,
     2, "DOCTYPE declarations are not allowed"},
};

/* A fresh temporary folder; removed with remove_dir(). */
static char *make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = cap_str_printf("%s/capsule-objmodel-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char *path = cap_str_printf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    cap_free(path);
}

static void remove_dir(char *dir, const char *const *names)
{
    for (; *names; names++) {
        char *path = cap_str_printf("%s/%s", dir, *names);
        unlink(path);
        cap_free(path);
    }
    rmdir(dir);
    cap_free(dir);
}

static int has_class(struct cap_registry *reg, const char *contract)
{
    void *out = NULL;
    cap_result rc = cap_registry_create_instance_by_contract(reg, contract, &IID_ISupports, &out);
    cap_error_clear();
    /* The libraries do not exist: a registered class fails to load. */
    return rc != CAP_E_CLASS_NOT_REGISTERED;
}

START_TEST(bad_manifest)
{
    static const char *const names[] = {"bad.manifest", NULL};
    char *dir = make_dir();
    write_file(dir, "bad.manifest", bad[_i].text, strlen(bad[_i].text));
    struct cap_registry *reg;
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    ck_assert_int_eq(cap_registry_load_manifests(reg, dir), CAP_E_BAD_MANIFEST);
    struct cap_error_info info;
    ck_assert_int_eq(cap_error_take(&info), CAP_OK);
    ck_assert_int_eq(info.result, CAP_E_BAD_MANIFEST);
    char where[64];
    snprintf(where, sizeof(where), "/bad.manifest:%d: ", bad[_i].line);
    ck_assert_msg(strstr(info.message, where) && strstr(info.message, bad[_i].message),
                  "case %d: want '%s' and '%s' in: %s", _i, where, bad[_i].message, info.message);
    ck_assert_msg(!strchr(info.message, '\n'), "one error per bad file: %s", info.message);
    cap_error_info_clear(&info);
    /* Skipped as a whole. */
    ck_assert(!has_class(reg, "@t/a;1"));
    ck_assert(!has_class(reg, "@t/b;1"));
    cap_registry_destroy(reg);
    remove_dir(dir, names);
}
END_TEST

START_TEST(good_and_bad_together)
{
    static const char *const names[] = {"1-bad.manifest", "2-good.manifest",  "3-bad.manifest",
                                        "notes.txt",      ".hidden.manifest", NULL};
    char *dir = make_dir();
    const char *good = COMP CLS_A CLS_B END;
    write_file(dir, "1-bad.manifest", "<component>", 11);
    write_file(dir, "2-good.manifest", good, strlen(good));
    write_file(dir, "3-bad.manifest", COMP END, strlen(COMP END));
    write_file(dir, "notes.txt", "junk", 4);
    write_file(dir, ".hidden.manifest", "junk", 4);
    struct cap_registry *reg;
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    ck_assert_int_eq(cap_registry_load_manifests(reg, dir), CAP_E_BAD_MANIFEST);
    const char *msg = take_message();
    ck_assert_msg(strstr(msg, "1-bad.manifest:1: ") && strstr(msg, "3-bad.manifest:1: "), "%s",
                  msg);
    ck_assert_msg(!strstr(msg, "good") && !strstr(msg, "notes") && !strstr(msg, "hidden"), "%s",
                  msg);
    ck_assert(has_class(reg, "@t/a;1"));
    ck_assert(has_class(reg, "@t/b;1"));
    /* The good manifest's library is missing: reported at first use. */
    void *out = NULL;
    ck_assert_int_eq(cap_registry_create_instance_by_contract(reg, "@t/b;1", &IID_ISupports, &out),
                     CAP_E_COMPONENT_LOAD);
    ck_assert_ptr_nonnull(strstr(take_message(), "2-good.manifest:1"));
    cap_registry_destroy(reg);
    remove_dir(dir, names);
}
END_TEST

static cap_result dummy_factory(struct cap_registry *reg, void *ctx, const cap_uuid *iid,
                                void **out)
{
    *out = NULL;
    return CAP_E_NOTIMPL;
}

START_TEST(conflicts_with_registered)
{
    static const char *const names[] = {"a.manifest", "b.manifest", NULL};
    char *dir = make_dir();
    const char *a = COMP CLS_A END;
    const char *b = "<component name=\"b\" library=\"libb.so\" abi=\"1\">\n" CLS_B
                    "<class name=\"C\" cid=\"7a3c0e10-0000-4000-8000-0000000aaa03\" "
                    "contract=\"@t/c;1\"/>\n" END;
    write_file(dir, "a.manifest", a, strlen(a));
    write_file(dir, "b.manifest", b, strlen(b));
    struct cap_registry *reg;
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    cap_uuid cid;
    ck_assert_int_eq(cap_uuid_parse("7a3c0e10-0000-4000-8000-0000000aaa01", &cid), CAP_OK);
    ck_assert_int_eq(cap_registry_register_class(reg, &cid, NULL, "InProc", dummy_factory, NULL),
                     CAP_OK);
    ck_assert_int_eq(cap_registry_register_class(reg, &(cap_uuid){{1}}, "@t/c;1", "InProc2",
                                                 dummy_factory, NULL),
                     CAP_OK);
    ck_assert_int_eq(cap_registry_load_manifests(reg, dir), CAP_E_BAD_MANIFEST);
    const char *msg = take_message();
    ck_assert_msg(strstr(msg, "a.manifest:2: CID {7a3c0e10-0000-4000-8000-0000000aaa01} is "
                              "already registered by class 'InProc'"),
                  "%s", msg);
    ck_assert_msg(strstr(msg, "b.manifest:3: contract ID '@t/c;1' is already registered"), "%s",
                  msg);
    /* b was skipped whole: B, whose own entry was fine, is not registered. */
    ck_assert(!has_class(reg, "@t/b;1"));
    cap_registry_destroy(reg);
    remove_dir(dir, names);
}
END_TEST

START_TEST(too_large)
{
    static const char *const names[] = {"big.manifest", NULL};
    char *dir = make_dir();
    size_t len = (1u << 20) + 10;
    char *text = cap_alloc(len);
    memset(text, ' ', len);
    write_file(dir, "big.manifest", text, len);
    cap_free(text);
    struct cap_registry *reg;
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    ck_assert_int_eq(cap_registry_load_manifests(reg, dir), CAP_E_BAD_MANIFEST);
    ck_assert_ptr_nonnull(strstr(take_message(), "big.manifest: file too large"));
    cap_registry_destroy(reg);
    remove_dir(dir, names);
}
END_TEST

START_TEST(missing_folder)
{
    struct cap_registry *reg;
    ck_assert_int_eq(cap_registry_create(&reg), CAP_OK);
    ck_assert_int_eq(cap_registry_load_manifests(reg, "/nonexistent/capsule"), CAP_E_IO);
    ck_assert_ptr_nonnull(strstr(take_message(), "'/nonexistent/capsule'"));
    ck_assert_int_eq(cap_registry_load_manifests(reg, NULL), CAP_E_POINTER);
    cap_error_clear();
    /* An empty folder is fine. */
    static const char *const none[] = {NULL};
    char *dir = make_dir();
    ck_assert_int_eq(cap_registry_load_manifests(reg, dir), CAP_OK);
    remove_dir(dir, none);
    cap_registry_destroy(reg);
}
END_TEST

TCase *tcase_manifest(void)
{
    TCase *tc = tcase_create("manifest");
    tcase_add_loop_test(tc, bad_manifest, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, good_and_bad_together);
    tcase_add_test(tc, conflicts_with_registered);
    tcase_add_test(tc, too_large);
    tcase_add_test(tc, missing_folder);
    return tc;
}
