/*
 * tests/integration/fbclient.c - a client's own framebuffer (IFramebuffer
 * implemented here, in C) attached to a running VM's display through
 * IDisplay's attachFramebuffer, for framebuffer.sh.
 *
 *   fbclient watch VM   attaches, prints "change W H" for each notifyChange
 *                       and "update X Y W H colours N" for each
 *                       notifyUpdateImage until the whole picture came
 *                       (at most 60 s), checks each image's size, detaches,
 *                       prints "detached ID", waits 1 s and prints
 *                       "calls after detach N"; exit 0 iff it got a change,
 *                       the whole picture and no call after detach
 *   fbclient typed VM   as watch, but once the whole picture came prints
 *                       "whole" and waits (at most 60 s) for one more
 *                       notifyUpdateImage (the test types into the guest)
 *                       before it detaches; exit 0 iff that came too
 *   fbclient hold VM    attaches, prints "attached ID pid P", answers every
 *                       call and blocks until killed
 *   fbclient stall VM   attaches, prints "attached ID pid P"; its first call
 *                       prints "stalled" and never returns; blocks until
 *                       killed
 *
 * Exit 1 at a failed call or check (the error info on stderr), 2 on a usage
 * error.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/object.h>
#include <capsule/registry.h>

struct fbc {
    IFramebuffer IFramebuffer_iface;
    cap_refcnt ref;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int stall;
    int detached;            /* calls counted from here on */
    unsigned after;          /* calls after detach */
    unsigned changes;        /* notifyChange calls */
    unsigned w, h;           /* the last size */
    unsigned long long area; /* pixels updated since the last change */
    unsigned updates;        /* notifyUpdateImage calls */
    int bad;                 /* an image of the wrong size */
};

static struct fbc *impl(IFramebuffer *i)
{
    return CAP_CONTAINER_OF(i, struct fbc, IFramebuffer_iface);
}

static const struct cap_qi_entry fbc_qi[] = {
    CAP_QI_ENTRY(IID_IFramebuffer, struct fbc, IFramebuffer_iface),
    CAP_QI_END,
};

static cap_result f_qi(IFramebuffer *self, const cap_uuid *iid, void **out)
{
    return cap_qi_table(impl(self), fbc_qi, iid, out);
}
static uint32_t f_addref(IFramebuffer *self)
{
    return cap_refcnt_inc(&impl(self)->ref);
}
static uint32_t f_release(IFramebuffer *self)
{
    return cap_refcnt_dec(&impl(self)->ref); /* static: never freed */
}

/* Counts a call; never returns for `stall`. Returns with f->lock held. */
static void enter(struct fbc *f)
{
    pthread_mutex_lock(&f->lock);
    if (f->detached)
        f->after++;
    if (f->stall) {
        pthread_mutex_unlock(&f->lock);
        printf("stalled\n");
        fflush(stdout);
        for (;;)
            pause();
    }
}

static cap_result f_change(IFramebuffer *self, uint32_t screen, uint32_t x, uint32_t y, uint32_t w,
                           uint32_t h)
{
    struct fbc *f = impl(self);
    enter(f);
    f->changes++;
    f->w = w;
    f->h = h;
    f->area = 0;
    printf("change %u %u\n", (unsigned)w, (unsigned)h);
    fflush(stdout);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->lock);
    return CAP_OK;
}

static cap_result f_update(IFramebuffer *self, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                           uint32_t n, const uint8_t *img)
{
    struct fbc *f = impl(self);
    enter(f);
    unsigned colours = 0;
    uint32_t seen[16];
    if (n != (uint64_t)w * h * 4 || x + w > f->w || y + h > f->h) {
        fprintf(stderr, "fbclient: update %u %u %u %u of %u bytes in a %ux%u picture\n",
                (unsigned)x, (unsigned)y, (unsigned)w, (unsigned)h, (unsigned)n, f->w, f->h);
        f->bad = 1;
    } else {
        for (uint32_t i = 0; i + 4 <= n && colours < 16; i += 4) {
            uint32_t px = (uint32_t)img[i] | (uint32_t)img[i + 1] << 8 |
                          (uint32_t)img[i + 2] << 16 | (uint32_t)img[i + 3] << 24;
            unsigned k = 0;
            while (k < colours && seen[k] != px)
                k++;
            if (k == colours)
                seen[colours++] = px;
        }
        f->area += (unsigned long long)w * h;
    }
    f->updates++;
    printf("update %u %u %u %u colours %u\n", (unsigned)x, (unsigned)y, (unsigned)w, (unsigned)h,
           colours);
    fflush(stdout);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->lock);
    return CAP_OK;
}

static const struct IFramebufferVtbl fbc_vtbl = {
    .QueryInterface = f_qi,
    .AddRef = f_addref,
    .Release = f_release,
    .NotifyChange = f_change,
    .NotifyUpdateImage = f_update,
};

static struct fbc fbc = {.IFramebuffer_iface.vtbl = &fbc_vtbl};

static int fail(const char *what, cap_result rc)
{
    const char *msg = cap_error_peek_message();
    fprintf(stderr, "fbclient: %s failed (0x%08x): %s\n", what, (unsigned)rc,
            msg ? msg : "no error info");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "watch") && strcmp(argv[1], "typed") &&
                      strcmp(argv[1], "hold") && strcmp(argv[1], "stall"))) {
        fprintf(stderr, "usage: fbclient watch|typed|hold|stall VM\n");
        return 2;
    }
    int typed = !strcmp(argv[1], "typed");
    int watch = typed || !strcmp(argv[1], "watch");
    fbc.stall = !strcmp(argv[1], "stall");
    cap_refcnt_init(&fbc.ref, 1);
    pthread_mutex_init(&fbc.lock, NULL);
    pthread_cond_init(&fbc.cv, NULL);
    cap_typelib_register(&capsule_typelib);
    struct cap_client_options opts;
    memset(&opts, 0, sizeof(opts));
    struct cap_client *c = NULL;
    ICapsule *root = NULL;
    IMachine *m = NULL;
    ISession *s = NULL;
    IConsole *con = NULL;
    IDisplay *d = NULL;
    cap_result rc = cap_client_connect(&opts, &c);
    if (rc < 0)
        return fail("cap_client_connect", rc);
    if ((rc = cap_client_get_root(c, &root)) < 0)
        return fail("cap_client_get_root", rc);
    if ((rc = ICapsule_FindMachine(root, argv[2], &m)) < 0)
        return fail("findMachine", rc);
    rc = cap_registry_init_default(NULL);
    if (rc < 0 && rc != CAP_E_BAD_MANIFEST)
        return fail("cap_registry_init_default", rc);
    rc = cap_registry_create_instance_by_contract(cap_registry_default(), CAP_CONTRACT_Session,
                                                  &IID_ISession, (void **)&s);
    if (rc < 0)
        return fail("creating a session", rc);
    if ((rc = IMachine_LockMachine(m, s, LockType_Shared)) < 0)
        return fail("lockMachine", rc);
    if ((rc = ISession_GetConsole(s, &con)) < 0 || !con)
        return fail("console", rc);
    if ((rc = IConsole_GetDisplay(con, &d)) < 0)
        return fail("display", rc);
    uint32_t id = 0;
    if ((rc = IDisplay_AttachFramebuffer(d, 0, &fbc.IFramebuffer_iface, &id)) < 0)
        return fail("attachFramebuffer", rc);
    if (!watch) {
        printf("attached %u pid %d\n", (unsigned)id, (int)getpid());
        fflush(stdout);
        for (;;)
            pause();
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&fbc.lock);
    while (!(fbc.changes && fbc.area >= (unsigned long long)fbc.w * fbc.h && !fbc.bad))
        if (fbc.bad || pthread_cond_timedwait(&fbc.cv, &fbc.lock, &until))
            break;
    int whole = fbc.changes && fbc.area >= (unsigned long long)fbc.w * fbc.h && !fbc.bad;
    if (whole && typed) {
        unsigned n = fbc.updates;
        printf("whole\n");
        fflush(stdout);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 60;
        while (fbc.updates == n && !fbc.bad)
            if (pthread_cond_timedwait(&fbc.cv, &fbc.lock, &until))
                break;
        whole = fbc.updates > n && !fbc.bad;
    }
    pthread_mutex_unlock(&fbc.lock);
    if ((rc = IDisplay_DetachFramebuffer(d, 0, id)) < 0)
        return fail("detachFramebuffer", rc);
    pthread_mutex_lock(&fbc.lock);
    fbc.detached = 1;
    pthread_mutex_unlock(&fbc.lock);
    printf("detached %u\n", (unsigned)id);
    fflush(stdout);
    rc = IDisplay_DetachFramebuffer(d, 0, id);
    if (rc != CAP_E_INVALIDARG) {
        fprintf(stderr, "fbclient: a second detach gave 0x%08x, not CAP_E_INVALIDARG\n",
                (unsigned)rc);
        return 1;
    }
    printf("second detach refused: %s\n", cap_error_peek_message() ? cap_error_peek_message() : "");
    sleep(1);
    pthread_mutex_lock(&fbc.lock);
    unsigned after = fbc.after;
    pthread_mutex_unlock(&fbc.lock);
    printf("calls after detach %u\n", after);
    IDisplay_Release(d);
    IConsole_Release(con);
    ISession_UnlockMachine(s);
    ISession_Release(s);
    IMachine_Release(m);
    ICapsule_Release(root);
    cap_client_close(c);
    if (!whole) {
        fprintf(stderr,
                "fbclient: no change and whole picture%s within 60 s (changes %u, %ux%u, "
                "area %llu, updates %u, bad %d)\n",
                typed ? " and one more update" : "", fbc.changes, fbc.w, fbc.h, fbc.area,
                fbc.updates, fbc.bad);
        return 1;
    }
    return after ? 1 : 0;
}
