/*
 * tests/unit/web/test_openapi.c - /api/openapi.json (plugins/frontends/web/
 * openapi.c): valid JSON; every interface's members under its typed path
 * with the right verbs; descriptions taken from the doc JSON by name; enums
 * as named string schemas.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/capsule.h>

#include "test_web.h"
#include "web.h"

static const char doc[] =
    "{\"desc\":\"The library.\",\"enums\":{\"MachineState\":{\"desc\":\"The states.\"}},"
    "\"interfaces\":{\"IMachine\":{\"desc\":\"A machine.\",\"attributes\":{\"name\":\"Its "
    "<name>.\"},\"methods\":{\"saveSettings\":{\"desc\":\"Saves.\"}}},"
    "\"ICapsule\":{\"methods\":{\"findMachine\":{\"desc\":\"Finds.\",\"params\":{\"nameOrId\":"
    "\"A name or UUID.\"}}}}}}";

/* The value at a path of keys in v (NULL-terminated), or NULL. */
static const struct wj *at(const struct wj *v, const char *const *keys)
{
    for (size_t k = 0; v && keys[k]; k++)
        v = wj_get(v, keys[k]);
    return v;
}
#define AT(v, ...) at(v, (const char *const[]){__VA_ARGS__, NULL})

START_TEST(test_document)
{
    char err[128];
    char *text = web_openapi(doc, strlen(doc));
    ck_assert_ptr_nonnull(text);
    struct wj *d = wj_parse(text, strlen(text), err, sizeof(err));
    ck_assert_msg(d != NULL, "not JSON: %s", err);
    ck_assert_str_eq(AT(d, "openapi")->str, "3.0.3");
    ck_assert_str_eq(AT(d, "info", "description")->str, "The library.");
    const struct wj *paths = AT(d, "paths");
    /* Every interface of the typelib has its paths. */
    for (uint32_t k = 0; k < capsule_typelib.n_ifaces; k++) {
        const struct cap_tl_iface *tl = capsule_typelib.ifaces[k];
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "/api/%s/{id}/", tl->name);
        size_t n = 0;
        for (size_t p = 0; p < paths->n; p++)
            n += strncmp(paths->keys[p], prefix, strlen(prefix)) == 0;
        ck_assert_msg(n > 0 || cap_tl_iface_slots(tl) == 3, "no paths for %s", tl->name);
    }
    const struct wj *name = AT(paths, "/api/IMachine/{id}/name");
    ck_assert_ptr_nonnull(AT(name, "get"));
    ck_assert_ptr_nonnull(AT(name, "put")); /* writable */
    ck_assert_ptr_null(AT(name, "post"));
    ck_assert_ptr_nonnull(AT(paths, "/api/IMachine/{id}/state", "get"));
    ck_assert_ptr_null(AT(paths, "/api/IMachine/{id}/state", "put")); /* read-only */
    ck_assert_ptr_nonnull(AT(paths, "/api/IMachine/{id}/saveSettings", "post"));
    ck_assert_str_eq(AT(paths, "/api/IMachine/{id}/saveSettings", "post", "description")->str,
                     "Saves.");
    ck_assert_str_eq(AT(name, "get", "description")->str, "Its <name>.");
    ck_assert_ptr_nonnull(strstr(text, "Its \\u003cname\\u003e.")); /* escaped for HTML */
    ck_assert_ptr_nonnull(AT(paths, "/api/IMachine/{id}/memorySize", "put", "requestBody"));
    const struct wj *find = AT(paths, "/api/ICapsule/{id}/findMachine", "post");
    ck_assert_str_eq(AT(find, "description")->str, "Finds.");
    ck_assert_str_eq(AT(find, "requestBody", "content", "application/json", "schema", "properties",
                        "nameOrId", "description")
                         ->str,
                     "A name or UUID.");
    ck_assert_ptr_nonnull(AT(find, "responses", "200", "content", "application/json", "schema",
                             "properties", "machine"));
    /* Inherited members appear under the derived interface too. */
    ck_assert_ptr_nonnull(AT(paths, "/api/IMachineStateChangedEvent/{id}/type", "get"));
    const struct wj *st = AT(d, "components", "schemas", "MachineState");
    ck_assert_str_eq(AT(st, "description")->str, "The states.");
    ck_assert_str_eq(AT(st, "type")->str, "string");
    int has = 0;
    for (size_t k = 0; k < AT(st, "enum")->n; k++)
        has |= strcmp(AT(st, "enum")->items[k]->str, "PoweredOff") == 0;
    ck_assert(has);
    wj_free(d);
    free(text);
    /* Without descriptions it is still a whole document. */
    text = web_openapi(NULL, 0);
    d = wj_parse(text, strlen(text), err, sizeof(err));
    ck_assert_msg(d != NULL, "not JSON without docs: %s", err);
    ck_assert_ptr_null(AT(d, "paths", "/api/IMachine/{id}/name", "get", "description"));
    wj_free(d);
    free(text);
}
END_TEST

Suite *openapi_suite(void)
{
    Suite *s = suite_create("web-openapi");
    TCase *tc = tcase_create("openapi");
    tcase_add_test(tc, test_document);
    suite_add_tcase(s, tc);
    return s;
}
