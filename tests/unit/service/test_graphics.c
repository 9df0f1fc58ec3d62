/*
 * tests/unit/service/test_graphics.c - a machine's graphics controller
 * (IMachine's graphicsControllerType, issue 13): VGA for a new machine and
 * for a file without <Display>, Null saved as VirtualBox's
 * <Display controller="None"/> and read back through a service restart,
 * the default left out of the file again, the setter's and the parser's
 * refusals.
 */
#include <stdbool.h>
#include <string.h>

#include "svc_test.h"

static GraphicsControllerType gfx_of(IMachine *m)
{
    GraphicsControllerType g = (GraphicsControllerType)99;
    ck_assert_int_eq(IMachine_GetGraphicsControllerType(m, &g), CAP_OK);
    return g;
}

/* Whether the machine's settings file holds `part`. */
static bool file_has(IMachine *m, const char *part)
{
    char *path = get_str(IMachine_GetSettingsFilePath, m);
    char *text = read_file(path, NULL);
    bool has = strstr(text, part) != NULL;
    cap_str_free(text);
    cap_str_free(path);
    return has;
}

static void set_saved(IMachine *m, GraphicsControllerType g)
{
    ISession *s = new_session();
    IMachine *sm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    ck_assert_int_eq(IMachine_SetGraphicsControllerType(sm, g), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    IMachine_Release(sm);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
}

START_TEST(test_graphics_roundtrip)
{
    IMachine *m = make_machine("gfx");
    ck_assert_int_eq(gfx_of(m), GraphicsControllerType_VGA);
    ck_assert(!file_has(m, "<Display"));
    set_saved(m, GraphicsControllerType_Null);
    ck_assert(file_has(m, "<Display controller=\"None\"/>"));
    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "gfx", &m), CAP_OK);
    ck_assert_int_eq(gfx_of(m), GraphicsControllerType_Null);
    set_saved(m, GraphicsControllerType_VGA);
    ck_assert(!file_has(m, "<Display")); /* the default: left out, as cpuProfile */
    ck_assert_int_eq(gfx_of(m), GraphicsControllerType_VGA);
    IMachine_Release(m);
}
END_TEST

START_TEST(test_graphics_refusals)
{
    IMachine *m = make_machine("gfx2");
    /* not locked: the registered machine is read-only */
    ck_assert_int_ne(IMachine_SetGraphicsControllerType(m, GraphicsControllerType_Null), CAP_OK);
    cap_error_clear();
    ISession *s = new_session();
    IMachine *sm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &sm), CAP_OK);
    ck_assert_int_eq(IMachine_SetGraphicsControllerType(sm, (GraphicsControllerType)2),
                     CAP_E_INVALIDARG);
    const char *msg = cap_error_peek_message();
    ck_assert_msg(msg && strstr(msg, "this build has VGA and Null"), "message '%s'",
                  msg ? msg : "(none)");
    cap_error_clear();
    ck_assert_int_eq(gfx_of(sm), GraphicsControllerType_VGA);
    IMachine_Release(sm);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
    ck_assert_int_eq(gfx_of(m), GraphicsControllerType_VGA);
    IMachine_Release(m);
}
END_TEST

/* The parser: None and VGA read, VirtualBox's other controllers and
 * unknown attributes refused. */
START_TEST(test_graphics_parse)
{
    static const char head[] =
        "<CapsuleMachine version=\"1\"><Machine "
        "uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" name=\"x\"><Hardware>";
    static const struct {
        const char *xml;
        int ok;
        GraphicsControllerType want;
    } cases[] = {
        {"", 1, GraphicsControllerType_VGA},
        {"<Display/>", 1, GraphicsControllerType_VGA},
        {"<Display controller=\"VGA\"/>", 1, GraphicsControllerType_VGA},
        {"<Display controller=\"None\"/>", 1, GraphicsControllerType_Null},
        {"<Display controller=\"VMSVGA\"/>", 0, 0},
        {"<Display controller=\"vga\"/>", 0, 0},
        {"<Display controller=\"VGA\" VRAMSize=\"16\"/>", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text =
            cap_str_printf("%s%s</Hardware></Machine></CapsuleMachine>", head, cases[i].xml);
        struct machine_file mf;
        cap_result rc = settings_parse_machine("t", text, strlen(text), &mf);
        if (cases[i].ok) {
            ck_assert_msg(rc == CAP_OK, "refused: %s", cases[i].xml);
            ck_assert_int_eq(mf.cfg.graphics, cases[i].want);
            machine_file_clear(&mf);
        } else {
            ck_assert_msg(rc == CAP_E_XML_ERROR, "accepted: %s", cases[i].xml);
            cap_error_clear();
        }
        cap_str_free(text);
    }
}
END_TEST

TCase *tcase_graphics(void)
{
    TCase *tc = tcase_create("graphics");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_graphics_roundtrip);
    tcase_add_test(tc, test_graphics_refusals);
    tcase_add_test(tc, test_graphics_parse);
    return tc;
}
