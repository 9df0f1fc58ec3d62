/*
 * tests/unit/manage/test_netargs.c - the values of the CLI's network
 * options (netargs.c) and the rule form they share with the service and
 * the VM process (capsule/natrule.h): what is taken, and that every
 * refusal is a usage error naming the option and the value.
 */
#include <check.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "netargs.h"
#include "test_manage.h"

START_TEST(test_natpf)
{
    struct cap_nat_rule r;
    char text[CAP_NAT_RULE_TEXT_MAX];
    ck_assert_int_eq(cli_parse_natpf("--natpf1", "ssh,tcp,127.0.0.1,2222,,22", &r), CAP_OK);
    ck_assert_str_eq(r.name, "ssh");
    ck_assert(!r.udp);
    ck_assert_str_eq(r.host_ip, "127.0.0.1");
    ck_assert_uint_eq(r.host_port, 2222);
    ck_assert_str_eq(r.guest_ip, "");
    ck_assert_uint_eq(r.guest_port, 22);
    cap_nat_rule_format(&r, text, sizeof(text));
    ck_assert_str_eq(text, "ssh,tcp,127.0.0.1,2222,,22");
    ck_assert_int_eq(cli_parse_natpf("--natpf2", "dns,udp,,65535,10.0.2.15,1", &r), CAP_OK);
    ck_assert(r.udp);
    ck_assert_uint_eq(r.host_port, 65535);
    cap_nat_rule_format(&r, text, sizeof(text));
    ck_assert_str_eq(text, "dns,udp,,65535,10.0.2.15,1");
    static const struct {
        const char *rule, *why;
    } bad[] = {
        {"ssh,tcp,,2222,22", "is not name,tcp|udp"},
        {"ssh,tcp,,2222,,22,", "too many fields"},
        {"", "is not name,tcp|udp"},
        {",tcp,,2222,,22", "has no name"},
        {"a\"b,tcp,,2222,,22", "a quote"},
        {"ssh,icmp,,2222,,22", "other than tcp or udp"},
        {"ssh,TCP,,2222,,22", "other than tcp or udp"},
        {"ssh,tcp,,0,,22", "1..65535"},
        {"ssh,tcp,,65536,,22", "1..65535"},
        {"ssh,tcp,,22x,,22", "1..65535"},
        {"ssh,tcp,,2222,,", "1..65535"},
        {"ssh,tcp,localhost,2222,,22", "numeric IPv4"},
        {"ssh,tcp,1.2.3,2222,,22", "numeric IPv4"},
        {"ssh,tcp,,2222,1.2.3.256,22", "numeric IPv4"},
        {"ssh,tcp,1.2.3.4.5,2222,,22", "numeric IPv4"},
        {"a234567890123456789012345678901234567890123456789012345678901234,tcp,,1,,1",
         "longer than 63"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_usage_error(cli_parse_natpf("--natpf1", bad[i].rule, &r), bad[i].why);
        cli_parse_natpf("--natpf1", bad[i].rule, &r);
        ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "--natpf1: '"));
        cap_error_clear();
    }
    ck_assert(cap_ipv4_text_ok("0.0.0.0") && cap_ipv4_text_ok("255.255.255.255"));
    ck_assert(!cap_ipv4_text_ok("1.2.3.") && !cap_ipv4_text_ok("01234.1.1.1"));
}
END_TEST

START_TEST(test_mac_and_type)
{
    char mac[13];
    ck_assert_int_eq(cli_parse_mac("--macaddress1", "auto", mac), CAP_OK);
    ck_assert_str_eq(mac, "");
    ck_assert_int_eq(cli_parse_mac("--macaddress1", "080027ab12cd", mac), CAP_OK);
    ck_assert_str_eq(mac, "080027AB12CD");
    ck_assert_int_eq(cli_parse_mac("--macaddress1", "08:00:27:ab:12:cd", mac), CAP_OK);
    ck_assert_str_eq(mac, "080027AB12CD");
    ck_assert_usage_error(cli_parse_mac("--macaddress1", "010027ab12cd", mac), "multicast");
    ck_assert_usage_error(cli_parse_mac("--macaddress2", "080027ab12c", mac),
                          "--macaddress2: '080027ab12c' is not auto or 12 hexadecimal digits");
    ck_assert_usage_error(cli_parse_mac("--macaddress1", "080027ab12cdd", mac), "12 hexadecimal");
    ck_assert_usage_error(cli_parse_mac("--macaddress1", "08-00-27-ab-12-cd", mac),
                          "12 hexadecimal");
    NetworkAdapterType t = NetworkAdapterType_Null;
    ck_assert_int_eq(cli_parse_nictype("--nictype1", "82540EM", &t), CAP_OK);
    ck_assert_int_eq(t, NetworkAdapterType_I82540EM);
    ck_assert_int_eq(cli_parse_nictype("--nictype1", "virtio", &t), CAP_OK);
    ck_assert_int_eq(t, NetworkAdapterType_Virtio);
    ck_assert_str_eq(cli_nictype_name(t), "virtio");
    ck_assert_str_eq(cli_nictype_name(NetworkAdapterType_I82540EM), "82540EM");
    ck_assert_usage_error(cli_parse_nictype("--nictype1", "Am79C973", &t), "not in this build");
    ck_assert_usage_error(cli_parse_nictype("--nictype3", "rtl8139", &t),
                          "--nictype3: 'rtl8139' is not an adapter type");
}
END_TEST

Suite *netargs_suite(void);
Suite *netargs_suite(void)
{
    Suite *s = suite_create("manage-netargs");
    TCase *tc = tcase_create("netargs");
    tcase_add_test(tc, test_natpf);
    tcase_add_test(tc, test_mac_and_type);
    suite_add_tcase(s, tc);
    return s;
}
