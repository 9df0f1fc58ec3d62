/*
 * tests/unit/service/test_vrde.c - the remote display server settings
 * (IVRDEServer, settings_vrde.c): the properties' checks, their round trip
 * through the machine file (nothing written while at the defaults), file
 * errors naming FILE:LINE, and the object's rules: changed only through a
 * write-lock session, saved with saveSettings, discarded with the session.
 */
#include <string.h>

#include <capsule/uuid.h>

#include "settings_xml.h"
#include "svc_test.h"

START_TEST(test_vrde_properties)
{
    struct vrde_cfg c;
    ck_assert_int_eq(settings_vrde_init(&c), CAP_OK);
    ck_assert_str_eq(settings_vrde_get(&c, "TCP/Ports"), SETTINGS_VRDE_PORT_DEFAULT);
    ck_assert_str_eq(settings_vrde_get(&c, "TCP/Address"), "");
    ck_assert_str_eq(settings_vrde_get(&c, "VNCPassword"), "");
    ck_assert_ptr_null(settings_vrde_get(&c, "Nope"));
    ck_assert_int_eq(settings_vrde_set(&c, "TCP/Ports", "0"), CAP_OK);
    ck_assert_int_eq(settings_vrde_port(&c), 0);
    ck_assert_int_eq(settings_vrde_set(&c, "TCP/Ports", "65535"), CAP_OK);
    ck_assert_int_eq(settings_vrde_port(&c), 65535);
    static const char *const bad_ports[] = {"65536", "-1", "5900-5910", "5900,5901",
                                            "x",     "+5", " 5"};
    for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
        ck_assert_int_eq(settings_vrde_set(&c, "TCP/Ports", bad_ports[i]), CAP_E_INVALIDARG);
        ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "TCP/Ports"));
    }
    ck_assert_str_eq(settings_vrde_get(&c, "TCP/Ports"), "65535");
    ck_assert_int_eq(settings_vrde_set(&c, "TCP/Ports", ""), CAP_OK); /* the default again */
    ck_assert_str_eq(settings_vrde_get(&c, "TCP/Ports"), SETTINGS_VRDE_PORT_DEFAULT);
    ck_assert_int_eq(settings_vrde_set(&c, "TCP/Address", "0.0.0.0"), CAP_OK);
    ck_assert_int_eq(settings_vrde_set(&c, "TCP/Address", "localhost"), CAP_E_INVALIDARG);
    ck_assert_int_eq(settings_vrde_set(&c, "TCP/Address", "1.2.3"), CAP_E_INVALIDARG);
    ck_assert_int_eq(settings_vrde_set(&c, "VNCPassword", "pa ss\"<&>"), CAP_OK);
    ck_assert_int_eq(settings_vrde_set(&c, "VNCPassword", "two\nlines"), CAP_E_INVALIDARG);
    /* the message never repeats a refused password */
    ck_assert_ptr_null(strstr(cap_error_peek_message(), "lines"));
    ck_assert_int_eq(settings_vrde_set(&c, "Bogus", "1"), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "TCP/Ports, TCP/Address, VNCPassword"));
    settings_vrde_clear(&c);
}
END_TEST

START_TEST(test_vrde_file)
{
    struct machine_file mf, back;
    test_machine_file(&mf);
    char *text = test_format(&mf);
    ck_assert_ptr_null(strstr(text, "RemoteDisplay")); /* all at the defaults */
    cap_free(text);
    mf.cfg.vrde.enabled = CAP_TRUE;
    ck_assert_int_eq(settings_vrde_set(&mf.cfg.vrde, "TCP/Ports", "5901"), CAP_OK);
    ck_assert_int_eq(settings_vrde_set(&mf.cfg.vrde, "VNCPassword", "s&<\"x"), CAP_OK);
    text = test_format(&mf);
    ck_assert_ptr_nonnull(strstr(text, "<RemoteDisplay enabled=\"true\">"));
    ck_assert_ptr_null(strstr(text, "TCP/Address")); /* a default is not written */
    cap_result prc = settings_parse_machine("x.capsule", text, strlen(text), &back);
    ck_assert_msg(prc == CAP_OK, "%s", cap_error_peek_message());
    ck_assert(back.cfg.vrde.enabled);
    ck_assert_str_eq(back.cfg.vrde.ports, "5901");
    ck_assert_str_eq(back.cfg.vrde.address, "");
    ck_assert_str_eq(back.cfg.vrde.password, "s&<\"x");
    machine_file_clear(&back);
    cap_free(text);
    /* a file with a bad property: an error naming the file and line */
    const char *bad = "<CapsuleMachine version=\"1\">\n"
                      "<Machine uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" name=\"x\">\n"
                      "<Hardware><RemoteDisplay enabled=\"true\"><VRDEProperties>\n"
                      "<Property name=\"TCP/Ports\" value=\"99999\"/>\n"
                      "</VRDEProperties></RemoteDisplay></Hardware></Machine></CapsuleMachine>";
    ck_assert_int_eq(settings_parse_machine("m.capsule", bad, strlen(bad), &back), CAP_E_XML_ERROR);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "m.capsule:4: VRDE property TCP/Ports"));
    const char *unknown = "<CapsuleMachine version=\"1\">\n"
                          "<Machine uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" name=\"x\">\n"
                          "<Hardware><RemoteDisplay><VRDEProperties>\n"
                          "<Property name=\"Foo\" value=\"1\"/>\n"
                          "</VRDEProperties></RemoteDisplay></Hardware></Machine></CapsuleMachine>";
    ck_assert_int_eq(settings_parse_machine("m.capsule", unknown, strlen(unknown), &back),
                     CAP_E_XML_ERROR);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "unknown VRDE property 'Foo'"));
    machine_file_clear(&mf);
}
END_TEST

static IVRDEServer *server_of(IMachine *m)
{
    IVRDEServer *v = NULL;
    ck_assert_int_eq(IMachine_GetVRDEServer(m, &v), CAP_OK);
    ck_assert_ptr_nonnull(v);
    return v;
}

static char *prop(IVRDEServer *v, const char *key)
{
    char *s = NULL;
    ck_assert_int_eq(IVRDEServer_GetVRDEProperty(v, key, &s), CAP_OK);
    return s;
}

START_TEST(test_vrde_object)
{
    IMachine *m = make_machine("vrde");
    IVRDEServer *v = server_of(m);
    cap_bool on = CAP_TRUE;
    ck_assert_int_eq(IVRDEServer_GetEnabled(v, &on), CAP_OK);
    ck_assert(!on);
    /* the registered machine is read-only */
    ck_assert_int_eq(IVRDEServer_SetEnabled(v, CAP_TRUE), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IVRDEServer_SetVRDEProperty(v, "TCP/Ports", "1"), CAP_E_INVALID_OBJECT_STATE);
    uint32_t n = 0;
    char **keys = NULL;
    ck_assert_int_eq(IVRDEServer_GetVRDEProperties(v, &n, &keys), CAP_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(keys[2], "VNCPassword");
    cap_array_free(CAP_TLT_STRING, n, keys);
    char *s = NULL;
    ck_assert_int_eq(IVRDEServer_GetVRDEProperty(v, "Nope", &s), CAP_E_INVALIDARG);
    /* through a write-lock session: changed, saved, seen by the machine */
    ISession *ses = new_session();
    IMachine *sm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, ses, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(ses, &sm), CAP_OK);
    IVRDEServer *sv = server_of(sm);
    ck_assert_int_eq(IVRDEServer_SetEnabled(sv, CAP_TRUE), CAP_OK);
    ck_assert_int_eq(IVRDEServer_SetVRDEProperty(sv, "TCP/Ports", "0"), CAP_OK);
    ck_assert_int_eq(IVRDEServer_SetVRDEProperty(sv, "TCP/Ports", "1-2"), CAP_E_INVALIDARG);
    ck_assert_int_eq(IVRDEServer_SetVRDEProperty(sv, "VNCPassword", "secret"), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    /* then a change that is not saved: gone with the session */
    ck_assert_int_eq(IVRDEServer_SetVRDEProperty(sv, "TCP/Address", "10.0.0.1"), CAP_OK);
    IVRDEServer_Release(sv);
    IMachine_Release(sm);
    ck_assert_int_eq(ISession_UnlockMachine(ses), CAP_OK);
    ISession_Release(ses);
    ck_assert_int_eq(IVRDEServer_GetEnabled(v, &on), CAP_OK);
    ck_assert(on);
    s = prop(v, "TCP/Ports");
    ck_assert_str_eq(s, "0");
    cap_str_free(s);
    s = prop(v, "TCP/Address");
    ck_assert_str_eq(s, "");
    cap_str_free(s);
    IVRDEServer_Release(v);
    /* and after a service restart, from the file */
    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "vrde", &m), CAP_OK);
    v = server_of(m);
    s = prop(v, "VNCPassword");
    ck_assert_str_eq(s, "secret");
    cap_str_free(s);
    IVRDEServer_Release(v);
    IMachine_Release(m);
}
END_TEST

TCase *tcase_vrde(void)
{
    TCase *tc = tcase_create("vrde");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_vrde_properties);
    tcase_add_test(tc, test_vrde_file);
    tcase_add_test(tc, test_vrde_object);
    return tc;
}
