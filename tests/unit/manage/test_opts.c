/*
 * tests/unit/manage/test_opts.c - the capsule CLI's parsing module
 * (plugins/frontends/manage/opts.c): option iteration, numbers with units
 * and limits, --uart1 and --uartmode1, engine and machine-state words, CPU
 * profile names against the service's list, and the quoting of
 * --machinereadable values. One test case per topic.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "opts.h"
#include "test_manage.h"

/* ---- option iteration ----------------------------------------------------- */

enum { O_MEM = 1, O_REG, O_UART };
static const struct cli_opt opts[] = {
    {"--memory", O_MEM, 1}, {"--register", O_REG, 0}, {"--uart1", O_UART, 1}, {NULL, 0, 0}};

START_TEST(test_iter_basic)
{
    char *argv[] = {"demo", "--memory", "64", "--register", "--memory=128", "-1", "-", NULL};
    struct cli_parser p;
    const char *v = NULL;
    cli_parser_init(&p, 7, argv);
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_POSITIONAL);
    ck_assert_str_eq(v, "demo");
    ck_assert_int_eq(cli_next(&p, opts, &v), O_MEM);
    ck_assert_str_eq(v, "64");
    ck_assert_int_eq(cli_next(&p, opts, &v), O_REG);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(cli_next(&p, opts, &v), O_MEM);
    ck_assert_str_eq(v, "128");
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_POSITIONAL); /* negative number */
    ck_assert_str_eq(v, "-1");
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_POSITIONAL); /* lone dash */
    ck_assert_str_eq(v, "-");
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_END);
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_END);
}
END_TEST

START_TEST(test_iter_errors)
{
    struct cli_parser p;
    const char *v = NULL;
    char *a1[] = {"--bogus", NULL};
    cli_parser_init(&p, 1, a1);
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_BAD);
    ck_assert_usage_error(CAP_E_INVALIDARG, "unknown option '--bogus'");

    char *a2[] = {"--memory", NULL};
    cli_parser_init(&p, 1, a2);
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_BAD);
    ck_assert_usage_error(CAP_E_INVALIDARG, "'--memory' needs a value");

    char *a3[] = {"--register=yes", NULL};
    cli_parser_init(&p, 1, a3);
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_BAD);
    ck_assert_usage_error(CAP_E_INVALIDARG, "takes no value");

    /* A prefix of an option is not that option. */
    char *a4[] = {"--mem", "1", NULL};
    cli_parser_init(&p, 2, a4);
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_BAD);
    cap_error_clear();

    /* No option table: every option is unknown. */
    char *a5[] = {"--x", NULL};
    cli_parser_init(&p, 1, a5);
    ck_assert_int_eq(cli_next(&p, NULL, &v), CLI_BAD);
    cap_error_clear();
}
END_TEST

START_TEST(test_iter_dashdash_and_take)
{
    char *argv[] = {"--uart1", "0x3f8", "4", "--", "--register", NULL};
    struct cli_parser p;
    const char *v = NULL, *w = NULL;
    cli_parser_init(&p, 5, argv);
    ck_assert_int_eq(cli_next(&p, opts, &v), O_UART);
    ck_assert_str_eq(v, "0x3f8");
    ck_assert_int_eq(cli_peek_value(&p), 1);
    ck_assert_int_eq(cli_take(&p, "--uart1", &w), CAP_OK);
    ck_assert_str_eq(w, "4");
    ck_assert_int_eq(cli_peek_value(&p), 0); /* "--" looks like an option */
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_POSITIONAL);
    ck_assert_str_eq(v, "--register");
    ck_assert_int_eq(cli_next(&p, opts, &v), CLI_END);
    ck_assert_usage_error(cli_take(&p, "--uart1", &w), "needs another value");
    ck_assert_ptr_null(w);
}
END_TEST

/* ---- numbers ----------------------------------------------------------------- */

START_TEST(test_u32)
{
    uint32_t v = 0;
    ck_assert_int_eq(cli_parse_u32("--cpus", "4", 1, 64, &v), CAP_OK);
    ck_assert_uint_eq(v, 4);
    ck_assert_int_eq(cli_parse_u32("--cpus", "0x10", 1, 64, &v), CAP_OK);
    ck_assert_uint_eq(v, 16);
    ck_assert_int_eq(cli_parse_u32("x", "4294967295", 0, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, UINT32_MAX);
    ck_assert_usage_error(cli_parse_u32("--cpus", "0", 1, 64, &v), "out of range (1 to 64)");
    ck_assert_usage_error(cli_parse_u32("--cpus", "65", 1, 64, &v), "--cpus: '65'");
    ck_assert_usage_error(cli_parse_u32("x", "4294967296", 0, UINT32_MAX, &v), "out of range");
    ck_assert_usage_error(cli_parse_u32("x", "99999999999999999999999", 0, 9, &v), "not a number");
    ck_assert_usage_error(cli_parse_u32("--cpus", "", 1, 64, &v), "not a number");
    ck_assert_usage_error(cli_parse_u32("--cpus", "-1", 1, 64, &v), "not a number");
    ck_assert_usage_error(cli_parse_u32("--cpus", "+1", 1, 64, &v), "not a number");
    ck_assert_usage_error(cli_parse_u32("--cpus", " 1", 1, 64, &v), "not a number");
    ck_assert_usage_error(cli_parse_u32("--cpus", "4x", 1, 64, &v), "not a number");
    ck_assert_usage_error(cli_parse_u32("--cpus", "0x", 1, 64, &v), "not a number");
    ck_assert_usage_error(cli_parse_u32("--cpus", NULL, 1, 64, &v), "not a number");
    ck_assert_uint_eq(v, UINT32_MAX); /* untouched by failures */
}
END_TEST

START_TEST(test_mb_suffixes)
{
    uint32_t v = 0;
    ck_assert_int_eq(cli_parse_mb("--memory", "512", 1, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, 512);
    ck_assert_int_eq(cli_parse_mb("--memory", "512M", 1, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, 512);
    ck_assert_int_eq(cli_parse_mb("--memory", "64mb", 1, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, 64);
    ck_assert_int_eq(cli_parse_mb("--memory", "2G", 1, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, 2048);
    ck_assert_int_eq(cli_parse_mb("--memory", "3GB", 1, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, 3072);
    ck_assert_int_eq(cli_parse_mb("--memory", "1T", 1, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, 1048576);
    ck_assert_int_eq(cli_parse_mb("--memory", "0x100", 1, UINT32_MAX, &v), CAP_OK);
    ck_assert_uint_eq(v, 256);
}
END_TEST

START_TEST(test_mb_limits)
{
    uint32_t v = 7;
    ck_assert_usage_error(cli_parse_mb("--memory", "0", 1, 4096, &v),
                          "out of range (1 MB to 4096 MB)");
    ck_assert_usage_error(cli_parse_mb("--memory", "5G", 1, 4096, &v), "'5G' is out of range");
    ck_assert_int_eq(cli_parse_mb("--memory", "4G", 1, 4096, &v), CAP_OK);
    ck_assert_uint_eq(v, 4096);
    /* 2^32 MB does not fit, whatever the limit says. */
    ck_assert_usage_error(cli_parse_mb("--memory", "4096T", 1, UINT32_MAX, &v), "out of range");
    ck_assert_usage_error(cli_parse_mb("--memory", "4194304G", 1, UINT32_MAX, &v), "out of range");
    ck_assert_usage_error(cli_parse_mb("--memory", "18446744073709551615T", 1, UINT32_MAX, &v),
                          "out of range");
    ck_assert_usage_error(cli_parse_mb("--memory", "12K", 1, UINT32_MAX, &v), "unknown unit 'K'");
    ck_assert_usage_error(cli_parse_mb("--memory", "12 M", 1, UINT32_MAX, &v), "unknown unit");
    ck_assert_usage_error(cli_parse_mb("--memory", "M", 1, UINT32_MAX, &v), "not a size");
    ck_assert_usage_error(cli_parse_mb("--memory", "-5", 1, UINT32_MAX, &v), "not a size");
    ck_assert_uint_eq(v, 4096);
}
END_TEST

START_TEST(test_timeout)
{
    int32_t ms = 0;
    ck_assert_int_eq(cli_parse_timeout("--timeout", "3", &ms), CAP_OK);
    ck_assert_int_eq(ms, 3000);
    ck_assert_int_eq(cli_parse_timeout("--timeout", "0", &ms), CAP_OK);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(cli_parse_timeout("--timeout", "5s", &ms), CAP_OK);
    ck_assert_int_eq(ms, 5000);
    ck_assert_int_eq(cli_parse_timeout("--timeout", "250ms", &ms), CAP_OK);
    ck_assert_int_eq(ms, 250);
    ck_assert_int_eq(cli_parse_timeout("--timeout", "2m", &ms), CAP_OK);
    ck_assert_int_eq(ms, 120000);
    ck_assert_int_eq(cli_parse_timeout("--timeout", "86400", &ms), CAP_OK);
    ck_assert_int_eq(ms, 86400000);
    ck_assert_usage_error(cli_parse_timeout("--timeout", "86401", &ms), "at most 24 hours");
    ck_assert_usage_error(cli_parse_timeout("--timeout", "99999999999", &ms), "at most 24 hours");
    ck_assert_usage_error(cli_parse_timeout("--timeout", "1h", &ms), "unknown unit 'h'");
    ck_assert_usage_error(cli_parse_timeout("--timeout", "-1", &ms), "not a number");
    ck_assert_usage_error(cli_parse_timeout("--timeout", "soon", &ms), "not a number");
}
END_TEST

/* ---- serial ports -------------------------------------------------------------- */

START_TEST(test_uart)
{
    struct cli_uart u;
    ck_assert_int_eq(cli_parse_uart("--uart1", "0x3f8", "4", &u), CAP_OK);
    ck_assert_int_eq(u.enabled, 1);
    ck_assert_uint_eq(u.io_base, 0x3f8);
    ck_assert_uint_eq(u.irq, 4);
    ck_assert_int_eq(cli_parse_uart("--uart1", "0x2F8", "3", &u), CAP_OK);
    ck_assert_uint_eq(u.io_base, 0x2f8);
    ck_assert_int_eq(cli_parse_uart("--uart1", "1016", "15", &u), CAP_OK); /* decimal 0x3f8 */
    ck_assert_uint_eq(u.io_base, 0x3f8);
    ck_assert_uint_eq(u.irq, 15);
    ck_assert_int_eq(cli_parse_uart("--uart1", "0xfff8", "0", &u), CAP_OK);
    ck_assert_int_eq(cli_parse_uart("--uart1", "off", NULL, &u), CAP_OK);
    ck_assert_int_eq(u.enabled, 0);
    ck_assert_int_eq(cli_parse_uart("--uart1", "OFF", NULL, &u), CAP_OK);
    ck_assert_int_eq(u.enabled, 0);

    ck_assert_usage_error(cli_parse_uart("--uart1", "0x3f8", "16", &u), "--uart1 IRQ: '16'");
    ck_assert_usage_error(cli_parse_uart("--uart1", "0xfff9", "4", &u), "--uart1 I/O base");
    ck_assert_usage_error(cli_parse_uart("--uart1", "0x10000", "4", &u), "out of range");
    ck_assert_usage_error(cli_parse_uart("--uart1", "0", "4", &u), "out of range");
    ck_assert_usage_error(cli_parse_uart("--uart1", "3f8", "4", &u), "not a number");
    ck_assert_usage_error(cli_parse_uart("--uart1", "0x3f8", "four", &u), "not a number");
    ck_assert_usage_error(cli_parse_uart("--uart1", "0x3f8", NULL, &u), "expected an I/O base");
    ck_assert_usage_error(cli_parse_uart("--uart1", "off", "4", &u), "'off' takes no IRQ");
    ck_assert_usage_error(cli_parse_uart("--uart1", NULL, NULL, &u), "expected");
}
END_TEST

START_TEST(test_portmode)
{
    PortMode m = PortMode_Disconnected;
    int needs = -1;
    ck_assert_int_eq(cli_portmode_from_name("--uartmode1", "file", &m, &needs), CAP_OK);
    ck_assert_int_eq(m, PortMode_File);
    ck_assert_int_eq(needs, 1);
    ck_assert_int_eq(cli_portmode_from_name("--uartmode1", "Server", &m, &needs), CAP_OK);
    ck_assert_int_eq(m, PortMode_Server);
    ck_assert_int_eq(needs, 1);
    ck_assert_int_eq(cli_portmode_from_name("--uartmode1", "disconnected", &m, &needs), CAP_OK);
    ck_assert_int_eq(m, PortMode_Disconnected);
    ck_assert_int_eq(needs, 0);
    ck_assert_usage_error(cli_portmode_from_name("--uartmode1", "tcp", &m, &needs),
                          "unknown mode 'tcp'");
    for (int i = PortMode_Disconnected; i <= PortMode_Server; i++) {
        ck_assert_int_eq(cli_portmode_from_name("x", cli_portmode_name(i), &m, &needs), CAP_OK);
        ck_assert_int_eq(m, i);
    }
    ck_assert_str_eq(cli_portmode_name((PortMode)99), "unknown");
}
END_TEST

/* ---- enums as words ------------------------------------------------------------ */

START_TEST(test_engine)
{
    static const char *const names[] = {"auto", "hm", "rem", "raw"};
    ExecutionEngine e;
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(cli_engine_name((ExecutionEngine)i), names[i]);
        ck_assert_int_eq(cli_engine_from_name("--engine", names[i], &e), CAP_OK);
        ck_assert_int_eq(e, i);
    }
    ck_assert_int_eq(cli_engine_from_name("--engine", "REM", &e), CAP_OK);
    ck_assert_int_eq(e, ExecutionEngine_Rem);
    ck_assert_usage_error(cli_engine_from_name("--engine", "kvm", &e), "unknown engine 'kvm'");
    ck_assert_usage_error(cli_engine_from_name("--engine", "", &e), "use auto, hm, rem or raw");
    ck_assert_str_eq(cli_engine_name((ExecutionEngine)42), "unknown");
}
END_TEST

/* The list stands for ISystemProperties' cpuProfiles; the CLI has none of
 * its own, so another list works the same way. */
START_TEST(test_cpu_profile)
{
    char *known[] = {"host", "intel-core", "amd-epyc"};
    const char *out = NULL;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(cli_cpu_profile_match("--cpu-profile", known[i], 3, known, &out), CAP_OK);
        ck_assert_ptr_eq(out, known[i]);
    }
    ck_assert_int_eq(cli_cpu_profile_match("--cpu-profile", "AMD-Epyc", 3, known, &out), CAP_OK);
    ck_assert_str_eq(out, "amd-epyc");
    ck_assert_usage_error(cli_cpu_profile_match("--cpu-profile", "pentium", 3, known, &out),
                          "--cpu-profile: unknown CPU profile 'pentium' (known: host, intel-core, "
                          "amd-epyc; see 'capsule list cpuprofiles')");
    ck_assert_usage_error(cli_cpu_profile_match("--cpu-profile", "", 3, known, &out),
                          "unknown CPU profile ''");
    ck_assert_usage_error(cli_cpu_profile_match("--cpu-profile", "amd", 3, known, &out), "'amd'");
    char *other[] = {"zen9"};
    ck_assert_int_eq(cli_cpu_profile_match("--cpu-profile", "zen9", 1, other, &out), CAP_OK);
    ck_assert_usage_error(cli_cpu_profile_match("--cpu-profile", "host", 1, other, &out),
                          "(known: zen9;");
    ck_assert_usage_error(cli_cpu_profile_match("--cpu-profile", "host", 0, NULL, &out),
                          "(known: none;");
    /* A list too long for the message is cut, never overrun. */
    char long_name[200];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    char *many[] = {long_name, long_name, long_name};
    ck_assert_usage_error(cli_cpu_profile_match("--cpu-profile", "y", 3, many, &out), "'y'");
}
END_TEST

START_TEST(test_state_names)
{
    /* The words the issue fixes for VMState. */
    ck_assert_str_eq(cli_state_name(MachineState_PoweredOff), "poweroff");
    ck_assert_str_eq(cli_state_name(MachineState_Starting), "starting");
    ck_assert_str_eq(cli_state_name(MachineState_Running), "running");
    ck_assert_str_eq(cli_state_name(MachineState_Paused), "paused");
    ck_assert_str_eq(cli_state_name(MachineState_Stopping), "stopping");
    ck_assert_str_eq(cli_state_name(MachineState_Saved), "saved");
    ck_assert_str_eq(cli_state_name(MachineState_Aborted), "aborted");
    ck_assert_str_eq(cli_state_name(MachineState_Stuck), "stuck");
    ck_assert_str_eq(cli_state_name(MachineState_Saving), "saving");
    ck_assert_str_eq(cli_state_name(MachineState_Restoring), "restoring");
    ck_assert_str_eq(cli_state_name((MachineState)-1), "unknown");
    ck_assert_str_eq(cli_state_name((MachineState)11), "unknown");
    ck_assert_str_eq(cli_state_text(MachineState_PoweredOff), "powered off");
    ck_assert_str_eq(cli_state_text((MachineState)77), "unknown");
}
END_TEST

START_TEST(test_state_roundtrip)
{
    MachineState s;
    /* Every real state survives enum -> word -> enum, and the API name too. */
    for (int i = MachineState_PoweredOff; i <= MachineState_Restoring; i++) {
        ck_assert_int_eq(cli_state_from_name("--state", cli_state_name(i), &s), CAP_OK);
        ck_assert_int_eq(s, i);
    }
    ck_assert_int_eq(cli_state_from_name("--state", "PoweredOff", &s), CAP_OK);
    ck_assert_int_eq(s, MachineState_PoweredOff);
    ck_assert_int_eq(cli_state_from_name("--state", "RUNNING", &s), CAP_OK);
    ck_assert_int_eq(s, MachineState_Running);
    ck_assert_usage_error(cli_state_from_name("--state", "null", &s), "unknown state 'null'");
    ck_assert_usage_error(cli_state_from_name("--state", "off", &s), "--state: unknown state");
    ck_assert_usage_error(cli_state_from_name("--state", NULL, &s), "unknown state ''");
}
END_TEST

/* ---- times and run-time limits ---------------------------------------------- */

START_TEST(test_time_iso)
{
    char buf[48];
    cli_format_time(1714564800123LL, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2024-05-01T12:00:00.123000000");
    cli_format_time(1714564800123LL, 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2024-05-01T12:00:00.123000000Z");
    cli_format_time(1000, 1, buf, sizeof(buf)); /* one second after the epoch */
    ck_assert_str_eq(buf, "1970-01-01T00:00:01.000000000Z");
    cli_format_time(0, 1, buf, sizeof(buf));
    ck_assert_str_eq(buf, "unknown");
    cli_format_time(-5, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "unknown");
}
END_TEST

START_TEST(test_check_range)
{
    ck_assert_int_eq(cli_check_range("--cpus", "1", 1, 1, 256, ""), CAP_OK);
    ck_assert_int_eq(cli_check_range("--cpus", "256", 256, 1, 256, ""), CAP_OK);
    ck_assert_usage_error(cli_check_range("--cpus", "257", 257, 1, 256, ""),
                          "--cpus: '257' is out of range (1 to 256)");
    ck_assert_usage_error(cli_check_range("--memory", "2T", 2097152, 1, 1048576, " MB"),
                          "--memory: '2T' is out of range (1 MB to 1048576 MB)");
    ck_assert_usage_error(cli_check_range("--memory", "2", 2, 4, 8, " MB"), "(4 MB to 8 MB)");
}
END_TEST

/* ---- machine-readable output ---------------------------------------------------- */

static void check_mr(const char *key, const char *value, const char *want)
{
    char *got = cli_mr_str(key, value);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    cap_str_free(got);
}

START_TEST(test_mr_plain)
{
    check_mr("name", "demo", "name=\"demo\"");
    check_mr("CfgFile", "/tmp/a b/demo.capsule", "CfgFile=\"/tmp/a b/demo.capsule\"");
    check_mr("description", "", "description=\"\"");
    check_mr("description", NULL, "description=\"\"");
    check_mr("name", "h\xc3\xa9llo \xe2\x82\xac", "name=\"h\xc3\xa9llo \xe2\x82\xac\""); /* UTF-8 */
    check_mr("Forwarding(0)", "ssh,tcp,127.0.0.1,2222,,22",
             "Forwarding(0)=\"ssh,tcp,127.0.0.1,2222,,22\""); /* VBoxManage's key, unquoted */
    char *n = cli_mr_num("memory", 128);
    ck_assert_str_eq(n, "memory=128");
    cap_str_free(n);
    n = cli_mr_num("SessionPID", 0);
    ck_assert_str_eq(n, "SessionPID=0");
    cap_str_free(n);
    n = cli_mr_num("x", -5);
    ck_assert_str_eq(n, "x=-5");
    cap_str_free(n);
}
END_TEST

START_TEST(test_mr_escaping)
{
    check_mr("description", "say \"hi\"", "description=\"say \\\"hi\\\"\"");
    check_mr("description", "C:\\dir\\", "description=\"C:\\\\dir\\\\\"");
    check_mr("description", "line1\nline2\n", "description=\"line1\\nline2\\n\"");
    check_mr("description", "a\r\tb", "description=\"a\\r\\tb\"");
    check_mr("description",
             "bell\x07"
             "del\x7f",
             "description=\"bell\\x07del\\x7f\"");
    check_mr("description", "\\\"\n", "description=\"\\\\\\\"\\n\"");
    /* Keys that are not plain get quoted the same way. */
    check_mr("my key", "v", "\"my key\"=\"v\"");
    check_mr("k\"q", "v", "\"k\\\"q\"=\"v\"");
    check_mr("uart-1.x_y", "v", "uart-1.x_y=\"v\"");
    check_mr("", "v", "\"\"=\"v\"");
}
END_TEST

START_TEST(test_mr_worst_case)
{
    /* Every byte escaped to four: the buffer must hold it exactly. */
    char in[257];
    for (int i = 0; i < 256; i++)
        in[i] = (char)1;
    in[256] = '\0';
    char *got = cli_mr_str("k", in);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(strlen(got), 2 + 2 + 256 * 4);
    cap_str_free(got);
}
END_TEST

Suite *opts_suite(void);
Suite *opts_suite(void)
{
    Suite *s = suite_create("manage");
    struct {
        const char *name;
        const TTest *tests[4];
    } cases[] = {
        {"iteration", {test_iter_basic, test_iter_errors, test_iter_dashdash_and_take, NULL}},
        {"numbers", {test_u32, test_mb_suffixes, test_mb_limits, test_timeout}},
        {"serial", {test_uart, test_portmode, NULL, NULL}},
        {"engine", {test_engine, NULL, NULL, NULL}},
        {"cpuprofile", {test_cpu_profile, NULL, NULL, NULL}},
        {"states", {test_state_names, test_state_roundtrip, NULL, NULL}},
        {"machinereadable", {test_mr_plain, test_mr_escaping, test_mr_worst_case, NULL}},
        {"times", {test_time_iso, NULL, NULL, NULL}},
        {"limits", {test_check_range, NULL, NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        for (int j = 0; j < 4 && cases[i].tests[j]; j++)
            tcase_add_test(tc, cases[i].tests[j]);
        suite_add_tcase(s, tc);
    }
    return s;
}
