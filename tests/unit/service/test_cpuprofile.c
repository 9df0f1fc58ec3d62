/*
 * tests/unit/service/test_cpuprofile.c - CPU profiles in the service:
 * ISystemProperties' cpuProfiles is the VMM's table (libcpum-profile.a);
 * IMachine's cpuProfile checks names against it (any case in, the table's
 * spelling kept, "" the default), persists across a restart, and is
 * written to the file only when it is not "host"; a file naming a profile
 * this build lacks keeps its machine accessible and the name intact.
 */
#include <string.h>

#include "cpum/cpum_profile.h"
#include "svc_test.h"

static const char *const uuid_attr = "uuid=\"6b0a5c3e-3a1c-4c6f-9d55-0b0b0b0b0b0b\"";

/* Sets m's cpuProfile through a write-lock session; returns the setter's
 * result (the change is saved when it succeeded). */
static cap_result set_profile(IMachine *m, const char *name)
{
    ISession *s = new_session();
    IMachine *mm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &mm), CAP_OK);
    cap_result rc = IMachine_SetCpuProfile(mm, name);
    struct cap_error_info ei = {0};
    cap_error_take(&ei);
    if (CAP_SUCCEEDED(rc))
        ck_assert_int_eq(IMachine_SaveSettings(mm), CAP_OK);
    IMachine_Release(mm);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
    cap_error_set_info(&ei); /* the setter's message, for the caller */
    cap_error_info_clear(&ei);
    return rc;
}

START_TEST(test_list_is_the_table)
{
    ISystemProperties *sp = NULL;
    ICPUProfile **profs = NULL;
    uint32_t n = 0;
    ck_assert_int_eq(ICapsule_GetSystemProperties(capsule, &sp), CAP_OK);
    ck_assert_int_eq(ISystemProperties_GetCpuProfiles(sp, &n, &profs), CAP_OK);
    ck_assert_uint_eq(n, cpum_profile_count());
    ck_assert_uint_ge(n, 3);
    for (uint32_t i = 0; i < n; i++) {
        const struct cpum_profile *row = cpum_profile_at(i);
        char *name = NULL, *vendor = NULL, *desc = NULL, *brand = NULL;
        ck_assert_int_eq(ICPUProfile_GetName(profs[i], &name), CAP_OK);
        ck_assert_int_eq(ICPUProfile_GetVendor(profs[i], &vendor), CAP_OK);
        ck_assert_int_eq(ICPUProfile_GetDescription(profs[i], &desc), CAP_OK);
        ck_assert_int_eq(ICPUProfile_GetBrand(profs[i], &brand), CAP_OK);
        ck_assert_str_eq(name, row->name);
        ck_assert_str_eq(vendor, cpum_vendor_string(row->vendor));
        ck_assert_str_eq(desc, row->description);
        ck_assert_str_eq(brand, row->brand);
        ck_assert_uint_gt(strlen(desc), 0);
        if (i == 0)
            ck_assert_str_eq(name, "host");
        if (!strcmp(name, "amd-epyc"))
            ck_assert_str_eq(vendor, "AuthenticAMD");
        if (!strcmp(name, "intel-core"))
            ck_assert_str_eq(vendor, "GenuineIntel");
        cap_str_free(name);
        cap_str_free(vendor);
        cap_str_free(desc);
        cap_str_free(brand);
    }
    /* QueryInterface: ICPUProfile and ISupports only. */
    void *p = NULL;
    ck_assert_int_eq(ICPUProfile_QueryInterface(profs[0], &IID_IMachine, &p), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(p);
    cap_array_free(CAP_TLT_IFACE, n, profs);
    ck_assert_int_eq(ISystemProperties_GetCpuProfiles(sp, NULL, &profs), CAP_E_POINTER);
    ISystemProperties_Release(sp);
}
END_TEST

START_TEST(test_setter_and_persistence)
{
    IMachine *m = make_machine("prof");
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    char *v = get_str(m->vtbl->GetCpuProfile, m);
    ck_assert_str_eq(v, "host");
    cap_str_free(v);
    char *text = read_file(path, NULL);
    ck_assert_ptr_null(strstr(text, "cpuProfile")); /* the default is not written */
    cap_free(text);

    /* Not mutable: refused like every setter. */
    ck_assert_int_eq(IMachine_SetCpuProfile(m, "amd-epyc"), CAP_E_INVALID_OBJECT_STATE);
    /* Unknown: CAP_E_INVALIDARG naming it and every known one; nothing changes. */
    ck_assert_int_eq(set_profile(m, "pentium-pro"), CAP_E_INVALIDARG);
    const char *msg = cap_error_peek_message();
    ck_assert_msg(msg && strstr(msg, "'pentium-pro'") && strstr(msg, "host, intel-core, amd-epyc"),
                  "message: %s", msg ? msg : "(none)");
    v = get_str(m->vtbl->GetCpuProfile, m);
    ck_assert_str_eq(v, "host");
    cap_str_free(v);
    /* Any case in, the table's spelling kept. */
    ck_assert_int_eq(set_profile(m, "AMD-Epyc"), CAP_OK);
    v = get_str(m->vtbl->GetCpuProfile, m);
    ck_assert_str_eq(v, "amd-epyc");
    cap_str_free(v);
    text = read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "cpuProfile=\"amd-epyc\""));
    cap_free(text);

    IMachine_Release(m);
    svc_restart();
    ck_assert_int_eq(ICapsule_FindMachine(capsule, "prof", &m), CAP_OK);
    v = get_str(m->vtbl->GetCpuProfile, m);
    ck_assert_str_eq(v, "amd-epyc");
    cap_str_free(v);
    /* "" restores the default, which leaves the file again. */
    ck_assert_int_eq(set_profile(m, ""), CAP_OK);
    v = get_str(m->vtbl->GetCpuProfile, m);
    ck_assert_str_eq(v, "host");
    cap_str_free(v);
    text = read_file(path, NULL);
    ck_assert_ptr_null(strstr(text, "cpuProfile"));
    cap_free(text);
    IMachine_Release(m);
    cap_str_free(path);
}
END_TEST

/* A file naming a profile this build lacks: accessible, the name kept
 * through a save of other changes. */
START_TEST(test_unknown_in_file_kept)
{
    IMachine *m = make_machine("future");
    char *path = get_str(m->vtbl->GetSettingsFilePath, m);
    IMachine_Release(m);
    char *text = read_file(path, NULL);
    char *hw = strstr(text, "<Hardware ");
    ck_assert_ptr_nonnull(hw);
    size_t cut = (size_t)(hw - text) + strlen("<Hardware ");
    char *edited = cap_str_printf("%.*scpuProfile=\"zen9-future\" %s", (int)cut, text, text + cut);
    write_file(path, edited);
    svc_restart();

    ck_assert_int_eq(ICapsule_FindMachine(capsule, "future", &m), CAP_OK);
    cap_bool acc = CAP_FALSE;
    ck_assert_int_eq(IMachine_GetAccessible(m, &acc), CAP_OK);
    ck_assert(acc);
    char *v = get_str(m->vtbl->GetCpuProfile, m);
    ck_assert_str_eq(v, "zen9-future");
    cap_str_free(v);
    ISession *s = new_session();
    IMachine *mm = NULL;
    ck_assert_int_eq(IMachine_LockMachine(m, s, LockType_Write), CAP_OK);
    ck_assert_int_eq(ISession_GetMachine(s, &mm), CAP_OK);
    ck_assert_int_eq(IMachine_SetMemorySize(mm, 48), CAP_OK);
    ck_assert_int_eq(IMachine_SaveSettings(mm), CAP_OK);
    IMachine_Release(mm);
    ck_assert_int_eq(ISession_UnlockMachine(s), CAP_OK);
    ISession_Release(s);
    char *now = read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(now, "memory=\"48\""));
    ck_assert_ptr_nonnull(strstr(now, "cpuProfile=\"zen9-future\""));
    cap_free(now);
    cap_str_free(edited);
    cap_free(text);
    IMachine_Release(m);
    cap_str_free(path);
}
END_TEST

static cap_result parse_hw(const char *hw_attrs, struct machine_file *mf)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "<CapsuleMachine version=\"1\">\n<Machine %s name=\"x\">\n<Hardware %s/>\n"
             "</Machine></CapsuleMachine>",
             uuid_attr, hw_attrs);
    return settings_parse_machine("p.capsule", buf, strlen(buf), mf);
}

START_TEST(test_settings_attribute)
{
    struct machine_file mf;
    ck_assert_int_eq(parse_hw("memory=\"64\"", &mf), CAP_OK);
    ck_assert_str_eq(mf.cfg.cpu_profile, "host");
    machine_file_clear(&mf);
    ck_assert_int_eq(parse_hw("cpuProfile=\"intel-core\"", &mf), CAP_OK);
    ck_assert_str_eq(mf.cfg.cpu_profile, "intel-core");
    /* Round trip, and a copy of the config carries it. */
    size_t len;
    char *text = settings_format_machine(&mf, &len);
    struct machine_file back;
    ck_assert_int_eq(settings_parse_machine("r.capsule", text, len, &back), CAP_OK);
    ck_assert_str_eq(back.cfg.cpu_profile, "intel-core");
    struct machine_cfg copy = {0};
    ck_assert_int_eq(machine_cfg_copy(&copy, &back.cfg), CAP_OK);
    ck_assert_str_eq(copy.cpu_profile, "intel-core");
    machine_cfg_clear(&copy);
    machine_file_clear(&back);
    cap_free(text);
    machine_file_clear(&mf);
    /* The form is checked (not the name): empty, spaces, too long. */
    static const char *const bad[] = {
        "cpuProfile=\"\"", "cpuProfile=\"amd epyc\"", "cpuProfile=\"a&#9;b\"",
        "cpuProfile=\"0123456789012345678901234567890123456789012345678901234567890123\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(parse_hw(bad[i], &mf), CAP_E_XML_ERROR);
        const char *msg = cap_error_peek_message();
        ck_assert_msg(msg && strstr(msg, "p.capsule:3:") && strstr(msg, "cpuProfile"),
                      "%s: message %s", bad[i], msg ? msg : "(none)");
    }
}
END_TEST

TCase *tcase_cpuprofiles(void)
{
    TCase *tc = tcase_create("cpuprofiles");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_list_is_the_table);
    tcase_add_test(tc, test_setter_and_persistence);
    tcase_add_test(tc, test_unknown_in_file_kept);
    tcase_add_test(tc, test_settings_attribute);
    return tc;
}
