/*
 * tests/unit/service/test_net.c - the network adapters (INetworkAdapter,
 * INATEngine, settings_net.c): a new machine's adapter 1 (NAT, 82540EM, a
 * 080027 MAC), the checks of the values and the forwarding rules, their
 * round trip through the machine file in VirtualBox's <Network> form, file
 * errors that make a machine inaccessible with the reason, and the
 * objects' rules: changed only through a write-lock session, saved with
 * saveSettings, checked there (a trace without a file).
 */
#include <string.h>

#include <capsule/uuid.h>

#include "settings_xml.h"
#include "svc_test.h"

static struct cap_nat_rule rule(const char *name, int udp, const char *hip, uint16_t hp,
                                const char *gip, uint16_t gp)
{
    struct cap_nat_rule r;
    memset(&r, 0, sizeof(r));
    snprintf(r.name, sizeof(r.name), "%s", name);
    r.udp = udp;
    snprintf(r.host_ip, sizeof(r.host_ip), "%s", hip);
    r.host_port = hp;
    snprintf(r.guest_ip, sizeof(r.guest_ip), "%s", gip);
    r.guest_port = gp;
    return r;
}

START_TEST(test_net_values)
{
    char mac[SETTINGS_MAC_LEN + 1], other[SETTINGS_MAC_LEN + 1];
    settings_mac_generate(mac);
    settings_mac_generate(other);
    ck_assert_uint_eq(strlen(mac), 12);
    ck_assert(!strncmp(mac, "080027", 6));
    ck_assert_str_ne(mac, other); /* 2^-24 to fail by chance */
    ck_assert_ptr_null(settings_mac_normalise("08:00:27:ab:cd:ef", mac));
    ck_assert_str_eq(mac, "080027ABCDEF");
    ck_assert_ptr_null(settings_mac_normalise("0a0027abcdef", mac));
    ck_assert_ptr_nonnull(settings_mac_normalise("010027abcdef", mac)); /* multicast */
    ck_assert_ptr_nonnull(settings_mac_normalise("080027abcde", mac));
    ck_assert_ptr_nonnull(settings_mac_normalise("080027abcdefa", mac));
    ck_assert_ptr_nonnull(settings_mac_normalise("08-00-27-ab-cd-ef", mac));

    struct nic_cfg n;
    ck_assert_int_eq(settings_nic_init(&n), CAP_OK);
    struct cap_nat_rule r = rule("ssh", 0, "", 2222, "", 22);
    ck_assert_int_eq(settings_nat_add(&n, &r, "INATEngine"), CAP_OK);
    r = rule("ssh", 1, "", 2223, "", 22);
    ck_assert_int_eq(settings_nat_add(&n, &r, "INATEngine"), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "a rule called 'ssh' exists"));
    /* the same TCP port of 127.0.0.1, given or by default */
    r = rule("ssh2", 0, "127.0.0.1", 2222, "", 22);
    ck_assert_int_eq(settings_nat_add(&n, &r, "INATEngine"), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "forwards TCP port 2222"));
    r = rule("dns", 1, "", 2222, "", 53); /* UDP: another port */
    ck_assert_int_eq(settings_nat_add(&n, &r, "INATEngine"), CAP_OK);
    static const struct {
        const char *name, *hip, *gip;
        uint16_t hp, gp;
        const char *why;
    } bad[] = {
        {"", "", "", 1, 1, "no name"},        {"a,b", "", "", 1, 1, "comma"},
        {"q\"", "", "", 1, 1, "quote"},       {"x", "1.2.3", "", 1, 1, "IPv4"},
        {"x", "", "256.0.0.1", 1, 1, "IPv4"}, {"x", "", "", 0, 1, "1..65535"},
        {"x", "", "", 1, 0, "1..65535"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = rule(bad[i].name, 0, bad[i].hip, bad[i].hp, bad[i].gip, bad[i].gp);
        ck_assert_int_eq(settings_nat_add(&n, &r, "INATEngine"), CAP_E_INVALIDARG);
        ck_assert_msg(strstr(cap_error_peek_message(), bad[i].why), "%zu: %s", i,
                      cap_error_peek_message());
    }
    for (unsigned i = n.n_rules; i < SETTINGS_NAT_RULES; i++) {
        char name[8];
        snprintf(name, sizeof(name), "r%u", i);
        r = rule(name, 0, "", (uint16_t)(3000 + i), "", 80);
        ck_assert_int_eq(settings_nat_add(&n, &r, "INATEngine"), CAP_OK);
    }
    r = rule("one-too-many", 0, "", 4000, "", 80);
    ck_assert_int_eq(settings_nat_add(&n, &r, "INATEngine"), CAP_E_INVALIDARG);
    ck_assert_int_eq(settings_nat_remove(&n, "nope", "INATEngine"), CAP_E_INVALIDARG);
    ck_assert_int_eq(settings_nat_remove(&n, "ssh", "INATEngine"), CAP_OK);
    ck_assert_str_eq(n.rules[0].name, "dns"); /* the order kept */
    ck_assert_uint_eq(n.n_rules, SETTINGS_NAT_RULES - 1);
    settings_nic_clear(&n);
}
END_TEST

START_TEST(test_net_file)
{
    struct machine_file mf, back;
    test_machine_file(&mf);
    char *text = test_format(&mf);
    ck_assert_ptr_null(strstr(text, "<Network")); /* every slot at its defaults */
    cap_free(text);
    struct nic_cfg *a = &mf.cfg.nic[0], *c = &mf.cfg.nic[2];
    a->enabled = CAP_TRUE;
    a->attachment = NetworkAttachmentType_NAT;
    strcpy(a->mac, "080027ABCDEF");
    struct cap_nat_rule r = rule("ssh", 0, "127.0.0.1", 2222, "", 22);
    ck_assert_int_eq(settings_nat_add(a, &r, "INATEngine"), CAP_OK);
    r = rule("dns & <more>", 1, "", 5353, "10.0.2.15", 53);
    ck_assert_int_eq(settings_nat_add(a, &r, "INATEngine"), CAP_OK);
    c->enabled = CAP_TRUE;
    c->type = NetworkAdapterType_Virtio;
    c->cable = CAP_FALSE;
    c->trace = CAP_TRUE;
    strcpy(c->mac, "0A0027000001");
    cap_str_free(c->trace_file);
    c->trace_file = cap_str_dup("/tmp/a \"b\".pcap");
    text = test_format(&mf);
    ck_assert_ptr_nonnull(strstr(text,
                                 "<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027ABCDEF\" "
                                 "type=\"82540EM\" cable=\"true\" trace=\"false\">"));
    ck_assert_ptr_nonnull(strstr(text, "<Forwarding name=\"ssh\" proto=\"1\" hostip=\"127.0.0.1\" "
                                       "hostport=\"2222\" guestport=\"22\"/>"));
    ck_assert_ptr_nonnull(strstr(text, "type=\"virtio\" cable=\"false\" trace=\"true\""));
    ck_assert_ptr_null(strstr(text, "<Adapter slot=\"1\"")); /* at its defaults */
    cap_result prc = settings_parse_machine("x.capsule", text, strlen(text), &back);
    ck_assert_msg(prc == CAP_OK, "%s", cap_error_peek_message());
    const struct nic_cfg *b = &back.cfg.nic[0], *d = &back.cfg.nic[2];
    ck_assert(b->enabled && b->cable && !b->trace);
    ck_assert_int_eq(b->attachment, NetworkAttachmentType_NAT);
    ck_assert_int_eq(b->type, NetworkAdapterType_I82540EM);
    ck_assert_str_eq(b->mac, "080027ABCDEF");
    ck_assert_uint_eq(b->n_rules, 2);
    char line[CAP_NAT_RULE_TEXT_MAX];
    cap_nat_rule_format(&b->rules[0], line, sizeof(line));
    ck_assert_str_eq(line, "ssh,tcp,127.0.0.1,2222,,22");
    cap_nat_rule_format(&b->rules[1], line, sizeof(line));
    ck_assert_str_eq(line, "dns & <more>,udp,,5353,10.0.2.15,53");
    ck_assert(d->enabled && !d->cable && d->trace);
    ck_assert_int_eq(d->attachment, NetworkAttachmentType_Null);
    ck_assert_int_eq(d->type, NetworkAdapterType_Virtio);
    ck_assert_str_eq(d->trace_file, "/tmp/a \"b\".pcap");
    ck_assert(!back.cfg.nic[1].enabled && !back.cfg.nic[3].enabled);
    /* written again: the same text */
    char *again = test_format(&back);
    ck_assert_str_eq(again, text);
    cap_free(again);
    machine_file_clear(&back);
    cap_free(text);
    machine_file_clear(&mf);
}
END_TEST

/* A machine file whose <Hardware> holds `net`. */
static cap_result parse_net(const char *net)
{
    struct machine_file back;
    char *text = cap_str_printf("<CapsuleMachine version=\"1\">\n"
                                "<Machine uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\" "
                                "name=\"x\">\n<Hardware><Network>\n%s\n</Network></Hardware>"
                                "</Machine></CapsuleMachine>",
                                net);
    cap_result rc = settings_parse_machine("m.capsule", text, strlen(text), &back);
    if (CAP_SUCCEEDED(rc))
        machine_file_clear(&back);
    cap_str_free(text);
    return rc;
}

START_TEST(test_net_file_errors)
{
    static const struct {
        const char *net, *why;
    } bad[] = {
        {"<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027ABCDEF\" type=\"Am79C973\"/>",
         "m.capsule:4: attribute 'type' of <Adapter> has an unknown value"},
        {"<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027ABCDEF\"><BridgedInterface "
         "name=\"eth0\"/></Adapter>",
         "unknown attachment <BridgedInterface>"},
        {"<Adapter slot=\"4\" enabled=\"false\"/>", "slot"},
        {"<Adapter slot=\"0\" enabled=\"true\"/>", "has no MACAddress"},
        {"<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"010027ABCDEF\"/>", "multicast"},
        {"<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027ABCDEF\" speed=\"1000\"/>",
         "speed"},
        {"<Adapter slot=\"0\" enabled=\"false\" tracefile=\"rel.pcap\"/>", "not an absolute path"},
        {"<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027ABCDEF\"><NAT><Forwarding "
         "name=\"a\" proto=\"2\" hostport=\"1\" guestport=\"1\"/></NAT></Adapter>",
         "proto"},
        {"<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027ABCDEF\"><NAT><Forwarding "
         "name=\"a\" proto=\"1\" hostport=\"1\" guestport=\"1\"/><Forwarding name=\"a\" "
         "proto=\"0\" hostport=\"2\" guestport=\"1\"/></NAT></Adapter>",
         "a rule called 'a' exists"},
        {"<Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027ABCDEF\"><NAT><Forwarding "
         "name=\"a\" proto=\"1\" hostip=\"localhost\" hostport=\"1\" guestport=\"1\"/></NAT>"
         "</Adapter>",
         "IPv4"},
        {"<Adapter slot=\"1\" enabled=\"false\"/><Adapter slot=\"1\" enabled=\"true\" "
         "MACAddress=\"080027ABCDEF\"/>",
         "given twice"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse_net(bad[i].net) == CAP_E_XML_ERROR, "%zu: parsed", i);
        ck_assert_msg(strstr(cap_error_peek_message(), bad[i].why), "%zu: %s", i,
                      cap_error_peek_message());
    }
    ck_assert_int_eq(parse_net("<Adapter slot=\"3\" enabled=\"true\" MACAddress=\"080027ABCDEF\" "
                               "type=\"virtio\"><NAT/></Adapter>"),
                     CAP_OK);
}
END_TEST

static INetworkAdapter *adapter_of(IMachine *m, uint32_t slot)
{
    INetworkAdapter *a = NULL;
    ck_assert_int_eq(IMachine_GetNetworkAdapter(m, slot, &a), CAP_OK);
    ck_assert_ptr_nonnull(a);
    return a;
}

static uint32_t redirects(INetworkAdapter *a, char ***out)
{
    INATEngine *e = NULL;
    uint32_t n = 0;
    ck_assert_int_eq(INetworkAdapter_GetNATEngine(a, &e), CAP_OK);
    ck_assert_int_eq(INATEngine_GetRedirects(e, &n, out), CAP_OK);
    INATEngine_Release(e);
    return n;
}

START_TEST(test_net_object)
{
    IMachine *m = make_machine("net");
    INetworkAdapter *a = NULL;
    ck_assert_int_eq(IMachine_GetNetworkAdapter(m, SETTINGS_NIC_SLOTS, &a), CAP_E_INVALIDARG);
    a = adapter_of(m, 0);
    cap_bool on = CAP_FALSE;
    NetworkAdapterType type = NetworkAdapterType_Null;
    NetworkAttachmentType att = NetworkAttachmentType_Null;
    char *mac = NULL;
    /* VirtualBox's new machine: adapter 1 on NAT, an 82540EM, a MAC of its own */
    ck_assert_int_eq(INetworkAdapter_GetEnabled(a, &on), CAP_OK);
    ck_assert(on);
    ck_assert_int_eq(INetworkAdapter_GetAdapterType(a, &type), CAP_OK);
    ck_assert_int_eq(type, NetworkAdapterType_I82540EM);
    ck_assert_int_eq(INetworkAdapter_GetAttachmentType(a, &att), CAP_OK);
    ck_assert_int_eq(att, NetworkAttachmentType_NAT);
    ck_assert_int_eq(INetworkAdapter_GetMACAddress(a, &mac), CAP_OK);
    ck_assert(!strncmp(mac, "080027", 6) && strlen(mac) == 12);
    cap_str_free(mac);
    INetworkAdapter *a2 = adapter_of(m, 1);
    ck_assert_int_eq(INetworkAdapter_GetEnabled(a2, &on), CAP_OK);
    ck_assert(!on);
    INetworkAdapter_Release(a2);
    /* the registered machine is read-only */
    ck_assert_int_eq(INetworkAdapter_SetCableConnected(a, CAP_FALSE), CAP_E_INVALID_OBJECT_STATE);
    /* through a write-lock session */
    ISession *ses = new_session();
    IMachine *sm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, ses, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(ses, &sm), CAP_OK);
    INetworkAdapter *sa = adapter_of(sm, 0), *sb = adapter_of(sm, 1);
    ck_assert_int_eq(INetworkAdapter_SetAdapterType(sa, NetworkAdapterType_Virtio), CAP_OK);
    ck_assert_int_eq(INetworkAdapter_SetAdapterType(sa, (NetworkAdapterType)1), CAP_E_INVALIDARG);
    ck_assert_int_eq(INetworkAdapter_SetMACAddress(sa, "08:00:27:12:34:56"), CAP_OK);
    ck_assert_int_eq(INetworkAdapter_SetMACAddress(sa, "nonsense"), CAP_E_INVALIDARG);
    ck_assert_int_eq(INetworkAdapter_SetCableConnected(sa, CAP_FALSE), CAP_OK);
    ck_assert_int_eq(INetworkAdapter_SetTraceFile(sa, "relative.pcap"), CAP_E_INVALIDARG);
    ck_assert_int_eq(INetworkAdapter_SetAttachmentType(sa, (NetworkAttachmentType)7),
                     CAP_E_INVALIDARG);
    INATEngine *e = NULL;
    ck_assert_int_eq(INetworkAdapter_GetNATEngine(sa, &e), CAP_OK);
    ck_assert_int_eq(INATEngine_AddRedirect(e, "ssh", 1, "127.0.0.1", 2222, "", 22), CAP_OK);
    ck_assert_int_eq(INATEngine_AddRedirect(e, "web", 1, "", 8080, "10.0.2.15", 80), CAP_OK);
    ck_assert_int_eq(INATEngine_AddRedirect(e, "web", 0, "", 8081, "", 80), CAP_E_INVALIDARG);
    ck_assert_int_eq(INATEngine_AddRedirect(e, "x", 2, "", 8082, "", 80), CAP_E_INVALIDARG);
    ck_assert_int_eq(INATEngine_RemoveRedirect(e, "nope"), CAP_E_INVALIDARG);
    INATEngine_Release(e);
    /* adapter 2 enabled: it gets a MAC; traced without a file: saveSettings refuses */
    ck_assert_int_eq(INetworkAdapter_SetEnabled(sb, CAP_TRUE), CAP_OK);
    ck_assert_int_eq(INetworkAdapter_GetMACAddress(sb, &mac), CAP_OK);
    ck_assert(!strncmp(mac, "080027", 6));
    cap_str_free(mac);
    ck_assert_int_eq(INetworkAdapter_SetTraceEnabled(sb, CAP_TRUE), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_E_INVALIDARG);
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "network adapter 2 traces to no file"));
    ck_assert_int_eq(INetworkAdapter_SetTraceFile(sb, "/tmp/t.pcap"), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(sm), CAP_OK);
    INetworkAdapter_Release(sa);
    INetworkAdapter_Release(sb);
    IMachine_Release(sm);
    ck_assert_int_eq(ISession_UnlockMachine(ses), CAP_OK);
    ISession_Release(ses);
    INetworkAdapter_Release(a);
    /* after a service restart, from the file */
    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "net", &m), CAP_OK);
    a = adapter_of(m, 0);
    ck_assert_int_eq(INetworkAdapter_GetMACAddress(a, &mac), CAP_OK);
    ck_assert_str_eq(mac, "080027123456");
    cap_str_free(mac);
    ck_assert_int_eq(INetworkAdapter_GetCableConnected(a, &on), CAP_OK);
    ck_assert(!on);
    char **list = NULL;
    uint32_t n = redirects(a, &list);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[0], "ssh,tcp,127.0.0.1,2222,,22");
    ck_assert_str_eq(list[1], "web,tcp,,8080,10.0.2.15,80");
    cap_array_free(CAP_TLT_STRING, n, list);
    INetworkAdapter_Release(a);
    IMachine_Release(m);
}
END_TEST

TCase *tcase_net(void)
{
    TCase *tc = tcase_create("net");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_net_values);
    tcase_add_test(tc, test_net_file);
    tcase_add_test(tc, test_net_file_errors);
    tcase_add_test(tc, test_net_object);
    return tc;
}
