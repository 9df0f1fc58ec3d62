/*
 * tests/unit/service/test_media.c - the media registry: creating base
 * storage (VDI and RAW, dynamic and fixed), opening images, finding,
 * closing and deleting media, cloning, the <MediaRegistry> of capsule.xml
 * across a service restart, and a medium whose image has gone kept
 * Inaccessible with the reason.
 */
#include <string.h>
#include <sys/stat.h>

#include <capsule/uuid.h>
#include <capsule/vd.h>

#include "svc_test.h"

#define MB (1024 * 1024)

static char *media_path(const char *name)
{
    return cap_str_printf("%s/%s", test_home, name);
}

/* Waits for p and returns its result code (releases p). */
static int32_t wait_progress(IProgress *p)
{
    int32_t rc = -1;
    ck_assert_int_eq(IProgress_WaitForCompletion(p, 10000), CAP_OK);
    ck_assert_int_eq(IProgress_GetResultCode(p, &rc), CAP_OK);
    IProgress_Release(p);
    return rc;
}

/* createMedium + createBaseStorage, waited for; the medium (caller's). */
static IMedium *create_disk(const char *name, const char *format, int64_t size, MediumVariant v)
{
    char *path = media_path(name);
    IMedium *m = NULL;
    IProgress *p = NULL;
    ck_assert_int_eq(
        ICapsule_CreateMedium(capsule, format, path, AccessMode_ReadWrite, DeviceType_HardDisk, &m),
        CAP_OK);
    ck_assert_int_eq(IMedium_CreateBaseStorage(m, size, v, &p), CAP_OK);
    ck_assert_int_eq(wait_progress(p), CAP_OK);
    cap_str_free(path);
    return m;
}

static MediumState state_of(IMedium *m)
{
    MediumState s = MediumState_NotCreated;
    ck_assert_int_eq(IMedium_GetState(m, &s), CAP_OK);
    return s;
}

static uint32_t count_disks(void)
{
    uint32_t n = 0;
    IMedium **list = NULL;
    ck_assert_int_eq(ICapsule_GetHardDisks(capsule, &n, &list), CAP_OK);
    for (uint32_t i = 0; i < n; i++)
        IMedium_Release(list[i]);
    cap_free(list);
    return n;
}

START_TEST(test_create_formats)
{
    IMedium *vdi = create_disk("a.vdi", "VDI", 8 * MB, MediumVariant_Standard);
    IMedium *raw = create_disk("b.img", "raw", 4 * MB, MediumVariant_Fixed);
    ck_assert_int_eq(state_of(vdi), MediumState_Created);
    int64_t v = 0;
    ck_assert_int_eq(IMedium_GetLogicalSize(vdi, &v), CAP_OK);
    ck_assert_int_eq(v, 8 * MB);
    ck_assert_int_eq(IMedium_GetSize(vdi, &v), CAP_OK);
    ck_assert_int_eq(v, 0); /* dynamic: nothing allocated */
    ck_assert_int_eq(IMedium_GetLogicalSize(raw, &v), CAP_OK);
    ck_assert_int_eq(v, 4 * MB);
    MediumVariant var;
    ck_assert_int_eq(IMedium_GetVariant(raw, &var), CAP_OK);
    char *f = NULL;
    ck_assert_int_eq(IMedium_GetFormat(raw, &f), CAP_OK);
    ck_assert_str_eq(f, "RAW");
    cap_str_free(f);
    ck_assert_int_eq(IMedium_GetName(vdi, &f), CAP_OK);
    ck_assert_str_eq(f, "a.vdi");
    cap_str_free(f);
    /* The VDI's ID is the image's own UUID. */
    cap_uuid id, img;
    struct vd_disk *d = NULL;
    char *path = media_path("a.vdi");
    ck_assert_int_eq(IMedium_GetId(vdi, &id), CAP_OK);
    ck_assert_int_eq(vd_open(path, VD_FORMAT_AUTO, VD_OPEN_READONLY, &d), CAP_OK);
    ck_assert_int_eq(vd_get_uuid(d, &img), CAP_OK);
    vd_close(d);
    ck_assert(cap_uuid_equal(&id, &img));
    ck_assert_uint_eq(count_disks(), 2);
    /* Found by UUID and by path. */
    char ubuf[CAP_UUID_BUFSIZE];
    IMedium *found = NULL;
    ck_assert_int_eq(
        ICapsule_FindMedium(capsule, cap_uuid_format(&id, ubuf), DeviceType_HardDisk, &found),
        CAP_OK);
    IMedium_Release(found);
    ck_assert_int_eq(ICapsule_FindMedium(capsule, path, DeviceType_HardDisk, &found), CAP_OK);
    IMedium_Release(found);
    ck_assert_int_eq(ICapsule_FindMedium(capsule, path, DeviceType_DVD, &found),
                     CAP_E_OBJECT_NOT_FOUND);
    /* One file, one location: the folder's "..", "." are resolved, so
     * the file opened by another name is the medium registered. */
    char *sub = cap_str_printf("%s/sub", test_home);
    char *dotted = cap_str_printf("%s/./sub/../a.vdi", test_home);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    IMedium *again = NULL;
    ck_assert_int_eq(
        ICapsule_OpenMedium(capsule, dotted, DeviceType_HardDisk, AccessMode_ReadWrite, &again),
        CAP_OK);
    ck_assert_ptr_eq(again, vdi);
    IMedium_Release(again);
    ck_assert_uint_eq(count_disks(), 2);
    cap_str_free(dotted);
    cap_str_free(sub);
    /* A second create on the same file fails before anything is made. */
    ck_assert_int_eq(ICapsule_CreateMedium(capsule, "VDI", path, AccessMode_ReadWrite,
                                           DeviceType_HardDisk, &again),
                     CAP_E_OBJECT_EXISTS);
    cap_str_free(path);
    IMedium_Release(vdi);
    IMedium_Release(raw);
}
END_TEST

START_TEST(test_bad_input)
{
    IMedium *m = NULL;
    IProgress *p = NULL;
    char *path = media_path("x.vdi");
    ck_assert_int_eq(
        ICapsule_CreateMedium(capsule, "QCOW", path, AccessMode_ReadWrite, DeviceType_HardDisk, &m),
        CAP_E_INVALIDARG);
    ck_assert_int_eq(
        ICapsule_CreateMedium(capsule, "ISO", path, AccessMode_ReadWrite, DeviceType_HardDisk, &m),
        CAP_E_INVALIDARG);
    ck_assert_int_eq(ICapsule_CreateMedium(capsule, "VDI", "rel.vdi", AccessMode_ReadWrite,
                                           DeviceType_HardDisk, &m),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(
        ICapsule_CreateMedium(capsule, "VDI", path, AccessMode_ReadWrite, DeviceType_DVD, &m),
        CAP_E_INVALIDARG);
    ck_assert_int_eq(
        ICapsule_CreateMedium(capsule, "VDI", path, AccessMode_ReadWrite, DeviceType_HardDisk, &m),
        CAP_OK);
    ck_assert_int_eq(IMedium_CreateBaseStorage(m, 0, MediumVariant_Standard, &p), CAP_E_INVALIDARG);
    ck_assert_int_eq(IMedium_CreateBaseStorage(m, 1000, MediumVariant_Standard, &p),
                     CAP_E_INVALIDARG);
    ck_assert_int_eq(IMedium_CreateBaseStorage(m, MB, (MediumVariant)7, &p), CAP_E_INVALIDARG);
    ck_assert_int_eq(state_of(m), MediumState_NotCreated);
    ck_assert_int_eq(IMedium_Close(m), CAP_E_INVALID_OBJECT_STATE); /* never registered */
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_uint_eq(count_disks(), 0);
    /* A file that appears before createBaseStorage is never replaced. */
    write_file(path, "mine");
    ck_assert_int_eq(IMedium_CreateBaseStorage(m, MB, MediumVariant_Standard, &p),
                     CAP_E_OBJECT_EXISTS);
    char *text = read_file(path, NULL);
    ck_assert_str_eq(text, "mine");
    cap_free(text);
    /* An image that is not one fails to open with the reason. */
    char *bad = media_path("bad.vdi");
    char hdr[512] = "<<< Oracle VM VirtualBox Disk Image >>>\n";
    hdr[64] = 0x7f, hdr[65] = 0x10, hdr[66] = (char)0xda, hdr[67] = (char)0xbe; /* signature */
    FILE *fp = fopen(bad, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(hdr, 1, sizeof(hdr), fp);
    fclose(fp);
    IMedium *o = NULL;
    ck_assert_int_eq(
        ICapsule_OpenMedium(capsule, bad, DeviceType_HardDisk, AccessMode_ReadWrite, &o),
        CAP_E_INVALIDARG);
    ck_assert_uint_eq(count_disks(), 0);
    cap_str_free(bad);
    cap_str_free(path);
    IMedium_Release(m);
}
END_TEST

START_TEST(test_registry_roundtrip)
{
    IMedium *vdi = create_disk("keep.vdi", "VDI", 2 * MB, MediumVariant_Fixed);
    IMedium *raw = create_disk("gone.img", "RAW", MB, MediumVariant_Standard);
    char *iso = media_path("cd.iso");
    FILE *fp = fopen(iso, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(ftruncate(fileno(fp), 2048 * 16), 0);
    fclose(fp);
    IMedium *dvd = NULL;
    ck_assert_int_eq(ICapsule_OpenMedium(capsule, iso, DeviceType_DVD, AccessMode_ReadOnly, &dvd),
                     CAP_OK);
    cap_bool ro = 0;
    ck_assert_int_eq(IMedium_GetReadOnly(dvd, &ro), CAP_OK);
    ck_assert(ro);
    /* Opening it again gives the same registered medium. */
    IMedium *dvd2 = NULL;
    ck_assert_int_eq(ICapsule_OpenMedium(capsule, iso, DeviceType_DVD, AccessMode_ReadOnly, &dvd2),
                     CAP_OK);
    ck_assert_ptr_eq(dvd, dvd2);
    IMedium_Release(dvd2);
    cap_uuid vid, rid, did;
    IMedium_GetId(vdi, &vid);
    IMedium_GetId(raw, &rid);
    IMedium_GetId(dvd, &did);
    IMedium_Release(vdi);
    IMedium_Release(raw);
    IMedium_Release(dvd);

    /* The global file lists them as VirtualBox does. */
    char *gpath = media_path("capsule.xml");
    char *text = read_file(gpath, NULL);
    ck_assert_ptr_nonnull(strstr(text, "<MediaRegistry>"));
    ck_assert_ptr_nonnull(strstr(text, "format=\"VDI\" type=\"Normal\"/>"));
    ck_assert_ptr_nonnull(strstr(text, "<DVDImages>"));
    cap_free(text);

    /* The RAW image vanishes while the service is down. */
    char *gone = media_path("gone.img");
    ck_assert_int_eq(unlink(gone), 0);
    svc_restart();
    ck_assert_uint_eq(count_disks(), 2);
    char ubuf[CAP_UUID_BUFSIZE];
    IMedium *m = NULL;
    ck_assert_int_eq(
        ICapsule_FindMedium(capsule, cap_uuid_format(&vid, ubuf), DeviceType_HardDisk, &m), CAP_OK);
    ck_assert_int_eq(state_of(m), MediumState_Created);
    MediumVariant var = 0;
    IMedium_GetVariant(m, &var);
    ck_assert_int_eq(var, MediumVariant_Fixed);
    IMedium_Release(m);
    ck_assert_int_eq(
        ICapsule_FindMedium(capsule, cap_uuid_format(&rid, ubuf), DeviceType_HardDisk, &m), CAP_OK);
    ck_assert_int_eq(state_of(m), MediumState_Inaccessible);
    char *why = NULL;
    ck_assert_int_eq(IMedium_GetLastAccessError(m, &why), CAP_OK);
    ck_assert_ptr_nonnull(strstr(why, "gone.img"));
    cap_str_free(why);
    /* Kept through another save (another medium's change) and restart. */
    ck_assert_int_eq(
        ICapsule_FindMedium(capsule, cap_uuid_format(&did, ubuf), DeviceType_DVD, &dvd), CAP_OK);
    ck_assert_int_eq(IMedium_Close(dvd), CAP_OK);
    ck_assert_int_eq(IMedium_Close(dvd), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(access(iso, F_OK), 0); /* close keeps the file */
    IMedium_Release(dvd);
    svc_restart();
    ck_assert_uint_eq(count_disks(), 2);
    uint32_t n = 0;
    IMedium **dvds = NULL;
    ck_assert_int_eq(ICapsule_GetDvdImages(capsule, &n, &dvds), CAP_OK);
    ck_assert_uint_eq(n, 0);
    cap_free(dvds);
    /* The file comes back: the medium is Created again. */
    IMedium_Release(m);
    ck_assert_int_eq(
        ICapsule_FindMedium(capsule, cap_uuid_format(&rid, ubuf), DeviceType_HardDisk, &m), CAP_OK);
    ck_assert_int_eq(state_of(m), MediumState_Inaccessible);
    fp = fopen(gone, "wb");
    ck_assert_int_eq(ftruncate(fileno(fp), MB), 0);
    fclose(fp);
    ck_assert_int_eq(state_of(m), MediumState_Created);
    IMedium_Release(m);
    cap_str_free(gone);
    cap_str_free(gpath);
    cap_str_free(iso);
}
END_TEST

START_TEST(test_delete_and_clone)
{
    IMedium *src = create_disk("src.vdi", "VDI", 3 * MB, MediumVariant_Standard);
    char *spath = media_path("src.vdi");
    struct vd_disk *d = NULL;
    char buf[512];
    memset(buf, 0xab, sizeof(buf));
    ck_assert_int_eq(vd_open(spath, VD_FORMAT_VDI, VD_OPEN_READWRITE, &d), CAP_OK);
    ck_assert_int_eq(vd_write(d, 2 * MB + 512, buf, sizeof(buf)), CAP_OK);
    ck_assert_int_eq(vd_flush(d), CAP_OK);
    vd_close(d);

    char *cpath = media_path("copy.img");
    IMedium *dst = NULL;
    IProgress *p = NULL;
    ck_assert_int_eq(ICapsule_CreateMedium(capsule, "RAW", cpath, AccessMode_ReadWrite,
                                           DeviceType_HardDisk, &dst),
                     CAP_OK);
    ck_assert_int_eq(IMedium_CloneTo(src, dst, MediumVariant_Standard, &p), CAP_OK);
    ck_assert_int_eq(wait_progress(p), CAP_OK);
    ck_assert_int_eq(state_of(dst), MediumState_Created);
    ck_assert_int_eq(state_of(src), MediumState_Created);
    int64_t sz = 0;
    IMedium_GetLogicalSize(dst, &sz);
    ck_assert_int_eq(sz, 3 * MB);
    char back[512] = {0};
    ck_assert_int_eq(vd_open(cpath, VD_FORMAT_RAW, VD_OPEN_READONLY, &d), CAP_OK);
    ck_assert_int_eq(vd_read(d, 2 * MB + 512, back, sizeof(back)), CAP_OK);
    vd_close(d);
    ck_assert_int_eq(memcmp(buf, back, sizeof(buf)), 0);
    cap_uuid a, b;
    IMedium_GetId(src, &a);
    IMedium_GetId(dst, &b);
    ck_assert(!cap_uuid_equal(&a, &b));
    ck_assert_uint_eq(count_disks(), 2);
    /* A clone target must be new. */
    ck_assert_int_eq(IMedium_CloneTo(src, dst, MediumVariant_Standard, &p),
                     CAP_E_INVALID_OBJECT_STATE);

    /* A medium a job uses cannot be closed or deleted meanwhile (the job
     * marks it before cloneTo returns; 64 MB keep it busy long enough). */
    IMedium *big = create_disk("big.vdi", "VDI", 64 * MB, MediumVariant_Standard);
    char *bpath = media_path("big-copy.vdi");
    IMedium *bcopy = NULL;
    ck_assert_int_eq(ICapsule_CreateMedium(capsule, "VDI", bpath, AccessMode_ReadWrite,
                                           DeviceType_HardDisk, &bcopy),
                     CAP_OK);
    ck_assert_int_eq(IMedium_CloneTo(big, bcopy, MediumVariant_Standard, &p), CAP_OK);
    ck_assert_int_eq(IMedium_Close(big), CAP_E_OBJECT_IN_USE);
    ck_assert(svc_busy(test_svc)); /* no idle exit while an image is written */
    IProgress *p2 = NULL;
    ck_assert_int_eq(IMedium_DeleteStorage(big, &p2), CAP_E_OBJECT_IN_USE);
    ck_assert_int_eq(wait_progress(p), CAP_OK);
    ck_assert(!svc_busy(test_svc));
    ck_assert_int_eq(IMedium_Close(big), CAP_OK);
    ck_assert_int_eq(IMedium_Close(bcopy), CAP_OK);
    IMedium_Release(big);
    IMedium_Release(bcopy);
    cap_str_free(bpath);

    /* deleteStorage removes the file and the registry entry. */
    ck_assert_int_eq(IMedium_DeleteStorage(dst, &p), CAP_OK);
    ck_assert_int_eq(wait_progress(p), CAP_OK);
    ck_assert_int_eq(access(cpath, F_OK), -1);
    ck_assert_uint_eq(count_disks(), 1);
    ck_assert_int_eq(IMedium_DeleteStorage(dst, &p), CAP_E_INVALID_OBJECT_STATE);
    ck_assert_int_eq(IMedium_DeleteStorage(src, &p), CAP_OK);
    ck_assert_int_eq(wait_progress(p), CAP_OK);
    ck_assert_int_eq(access(spath, F_OK), -1);
    ck_assert_uint_eq(count_disks(), 0);
    IMedium_Release(src);
    IMedium_Release(dst);
    cap_str_free(spath);
    cap_str_free(cpath);
}
END_TEST

START_TEST(test_parse_media)
{
    static const char head[] = "<?xml version=\"1.0\"?><CapsuleGlobal version=\"1\">";
    static const char *const bad[] = {
        "<MediaRegistry><HardDisks><HardDisk uuid=\"{00000000-0000-0000-0000-000000000001}\" "
        "location=\"rel.vdi\" format=\"VDI\"/></HardDisks></MediaRegistry>",
        "<MediaRegistry><HardDisks><HardDisk uuid=\"{00000000-0000-0000-0000-000000000001}\" "
        "location=\"/a.vdi\" format=\"QCOW2\"/></HardDisks></MediaRegistry>",
        "<MediaRegistry><HardDisks><HardDisk uuid=\"{00000000-0000-0000-0000-000000000001}\" "
        "location=\"/a.vdi\" format=\"VDI\" type=\"Immutable\"/></HardDisks></MediaRegistry>",
        "<MediaRegistry><HardDisks><HardDisk uuid=\"{00000000-0000-0000-0000-000000000001}\" "
        "location=\"/a.vdi\" format=\"VDI\"/><HardDisk "
        "uuid=\"{00000000-0000-0000-0000-000000000001}\" location=\"/b.vdi\" "
        "format=\"VDI\"/></HardDisks></MediaRegistry>",
        "<MediaRegistry><Floppies/></MediaRegistry>",
        "<MediaRegistry><DVDImages><HardDisk/></DVDImages></MediaRegistry>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *text = cap_str_printf("%s%s</CapsuleGlobal>", head, bad[i]);
        struct global_file gf;
        ck_assert_msg(settings_parse_global("t", text, strlen(text), &gf) == CAP_E_XML_ERROR,
                      "accepted: %s", bad[i]);
        cap_error_clear();
        cap_str_free(text);
    }
    char *text = cap_str_printf(
        "%s<MediaRegistry><DVDImages><Image uuid=\"{00000000-0000-0000-0000-000000000002}\" "
        "location=\"/c.iso\" format=\"RAW\"/></DVDImages></MediaRegistry></CapsuleGlobal>",
        head);
    struct global_file gf;
    ck_assert_int_eq(settings_parse_global("t", text, strlen(text), &gf), CAP_OK);
    ck_assert_uint_eq(gf.n_media, 1);
    ck_assert_str_eq(gf.media[0].format, "ISO"); /* VirtualBox writes RAW for ISO images */
    ck_assert_int_eq(gf.media[0].type, DeviceType_DVD);
    global_file_clear(&gf);
    cap_str_free(text);
}
END_TEST

TCase *tcase_media(void)
{
    TCase *tc = tcase_create("media");
    tcase_add_checked_fixture(tc, svc_setup, svc_teardown);
    tcase_add_test(tc, test_create_formats);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_registry_roundtrip);
    tcase_add_test(tc, test_delete_and_clone);
    tcase_add_test(tc, test_parse_media);
    return tc;
}
