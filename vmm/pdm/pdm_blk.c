/*
 * vmm/pdm/pdm_blk.c - the block layer: drives on devices' LUNs, their
 * media (runtime/vd images) and the I/O thread of each drive.
 *
 * A drive (struct pdm_blk) is made by pdm_add_drive before its device is
 * constructed; the device takes it with hlp->blk_attach. Each drive has one
 * I/O thread that runs its queue in order: it takes a request under the
 * drive's mutex, runs the vd call with no lock held, marks the drive idle,
 * then takes the VM's device lock to call the device's complete. Nothing
 * waits for the device lock while holding the drive's mutex, and the
 * waits for "the running request is done" (cancel, media change) need only
 * the drive's mutex, so they may be done from inside a device op.
 *
 * Cancellation uses an epoch: blk_cancel bumps it, drops the queue and
 * waits for the running host I/O; a request of an older epoch is never
 * delivered. A media change instead lets the running request finish
 * against the old medium and fails the queued ones with CAP_E_ABORT (they
 * were meant for the old medium).
 *
 * Statistics: each drive's I/O thread counts what it did under
 * /PDM/Blk/<device><instance>/LUN<n>/ in the VM's STAM registry (when
 * pdm_create_info.stam is given).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/vd.h>

#include "../stam/stam.h"
#include "pdm_internal.h"

#define REQ_F_ABORTED 0x1u /* the medium changed while it was queued */

struct pdm_blk {
    struct pdm *pdm;
    /* set at pdm_add_drive */
    char device[40];
    unsigned instance, lun;
    enum pdm_blk_kind kind;
    bool cfg_readonly;
    /* under the device lock: the attached device (NULL until blk_attach,
     * again after its instance is destroyed) */
    struct pdm_devinst *inst;
    const struct pdm_blk_port *port;
    void *user;
    bool attached_once;
    /* under mtx (the I/O thread reads disk when it starts a request; it
     * changes only while no request runs) */
    pthread_mutex_t mtx;
    pthread_cond_t work, idle;
    struct vd_disk *disk; /* NULL: no medium */
    uint32_t gen;
    bool locked;
    struct pdm_blk_req *head, *tail;
    bool running;     /* the thread is inside a vd call */
    unsigned pending; /* queued + running + being delivered */
    uint64_t epoch;
    bool stop;
    pthread_t thread;
    bool thread_started;
    /* written by the I/O thread only: /PDM/Blk/<device><instance>/LUN<n>/ */
    struct {
        uint64_t reads, read_bytes, writes, write_bytes, flushes, errors;
    } stat;
    char stat_prefix[80]; /* "" when not registered */
    struct pdm_blk *next;
};

static bool blk_readonly(const struct pdm_blk *b)
{
    return b->kind == PDM_BLK_CDROM || b->cfg_readonly || (b->disk && vd_is_readonly(b->disk));
}

/* ---- the I/O thread -------------------------------------------------------- */

/* A host I/O error, for the VM log (the guest sees an error status). */
static void log_io_error(struct pdm_blk *b, const struct pdm_blk_req *r)
{
    char who[64], msg[512];
    const char *why = cap_error_peek_message();
    snprintf(who, sizeof(who), "%s%u", b->device, b->instance);
    snprintf(msg, sizeof(msg), "LUN %u: host I/O error (%s at byte %llu, %zu bytes): %s", b->lun,
             r->op == PDM_BLK_READ    ? "read"
             : r->op == PDM_BLK_WRITE ? "write"
                                      : "flush",
             (unsigned long long)r->offset, r->len, why ? why : "?");
    if (b->pdm->host.log)
        b->pdm->host.log(b->pdm->info.host_ctx, who, PDM_LOG_WARN, msg);
    else
        fprintf(stderr, "%s: %s\n", who, msg);
}

static cap_result run_req(struct pdm_blk *b, struct vd_disk *d, struct pdm_blk_req *r)
{
    cap_result rc;
    if (!d || (r->pdm_flags & REQ_F_ABORTED))
        return CAP_E_ABORT;
    switch (r->op) {
    case PDM_BLK_READ:
        rc = vd_read(d, r->offset, r->buf, r->len);
        break;
    case PDM_BLK_WRITE:
        rc = vd_write(d, r->offset, r->buf, r->len);
        if (CAP_SUCCEEDED(rc) && (r->flags & PDM_BLK_F_FUA))
            rc = vd_flush(d);
        break;
    default:
        rc = vd_flush(d);
        break;
    }
    if (CAP_FAILED(rc)) {
        log_io_error(b, r);
        cap_error_clear(); /* the guest sees an error status */
        b->stat.errors++;
        return CAP_E_IO;
    }
    if (r->op == PDM_BLK_READ) {
        b->stat.reads++;
        b->stat.read_bytes += r->len;
    } else if (r->op == PDM_BLK_WRITE) {
        b->stat.writes++;
        b->stat.write_bytes += r->len;
        b->stat.flushes += (r->flags & PDM_BLK_F_FUA) != 0;
    } else {
        b->stat.flushes++;
    }
    return CAP_OK;
}

static void *io_thread(void *arg)
{
    struct pdm_blk *b = arg;
    pthread_mutex_lock(&b->mtx);
    for (;;) {
        while (!b->stop && !b->head)
            pthread_cond_wait(&b->work, &b->mtx);
        if (b->stop)
            break;
        struct pdm_blk_req *r = b->head;
        b->head = r->pdm_next;
        if (!b->head)
            b->tail = NULL;
        b->running = true;
        struct vd_disk *d = b->disk;
        /* after a cancel the device may reuse r at once: the epoch it ran
         * under is kept here, and r is touched again only if it matches */
        uint64_t epoch = r->pdm_epoch;
        pthread_mutex_unlock(&b->mtx);
        cap_result rc = run_req(b, d, r);
        pthread_mutex_lock(&b->mtx);
        b->running = false;
        pthread_cond_broadcast(&b->idle);
        pthread_mutex_unlock(&b->mtx);

        pdm_lock(b->pdm);
        pthread_mutex_lock(&b->mtx);
        /* inst stays alive while the device lock is held (it is
         * destructed under it), even if detach_inst clears the pointer */
        struct pdm_devinst *inst = epoch == b->epoch ? b->inst : NULL;
        pthread_mutex_unlock(&b->mtx);
        if (inst) {
            r->status = rc;
            b->port->complete(&inst->dev, b->user, r);
        }
        pthread_mutex_lock(&b->mtx);
        b->pending--;
        pthread_cond_broadcast(&b->idle);
        pdm_unlock(b->pdm);
    }
    pthread_mutex_unlock(&b->mtx);
    return NULL;
}

/* Drops the queue (the caller holds mtx). */
static void drop_queue(struct pdm_blk *b)
{
    for (struct pdm_blk_req *r = b->head; r; r = r->pdm_next)
        b->pending--;
    b->head = b->tail = NULL;
    pthread_cond_broadcast(&b->idle);
}

static void wait_not_running(struct pdm_blk *b)
{
    while (b->running)
        pthread_cond_wait(&b->idle, &b->mtx);
}

/* ---- the VMM's side -------------------------------------------------------- */

static cap_result open_medium(const struct pdm_blk *b, const char *path, const char *format,
                              bool readonly, struct vd_disk **out)
{
    enum vd_format f = VD_FORMAT_AUTO;
    if (format) {
        cap_result rc = vd_format_from_name(format, &f);
        if (CAP_FAILED(rc))
            return rc;
    }
    bool ro = readonly || b->kind == PDM_BLK_CDROM || f == VD_FORMAT_ISO;
    return vd_open(path, f, ro ? VD_OPEN_READONLY : VD_OPEN_READWRITE, out);
}

static struct pdm_blk *find_drive(struct pdm *pdm, const char *device, unsigned instance,
                                  unsigned lun)
{
    for (struct pdm_blk *b = pdm->drives; b; b = b->next)
        if (!strcmp(b->device, device) && b->instance == instance && b->lun == lun)
            return b;
    return NULL;
}

/* The drive's counters in the VM's statistics. */
static void register_stats(struct pdm_blk *b)
{
    static const struct pdm_stat_def defs[] = {
        {"Reads", offsetof(struct pdm_blk, stat.reads), STAM_UNIT_COUNT, "read requests done"},
        {"ReadBytes", offsetof(struct pdm_blk, stat.read_bytes), STAM_UNIT_BYTES, "bytes read"},
        {"Writes", offsetof(struct pdm_blk, stat.writes), STAM_UNIT_COUNT, "write requests done"},
        {"WriteBytes", offsetof(struct pdm_blk, stat.write_bytes), STAM_UNIT_BYTES,
         "bytes written"},
        {"Flushes", offsetof(struct pdm_blk, stat.flushes), STAM_UNIT_COUNT,
         "flushes to stable storage (FLUSH, FUA writes)"},
        {"Errors", offsetof(struct pdm_blk, stat.errors), STAM_UNIT_COUNT,
         "requests the host's I/O failed"},
    };
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "/PDM/Blk/%s%u/LUN%u/", b->device, b->instance, b->lun);
    pdm_stat_register(b->pdm, b, defs, sizeof(defs) / sizeof(defs[0]), prefix, b->stat_prefix,
                      sizeof(b->stat_prefix));
}

static void blk_free(struct pdm_blk *b)
{
    pdm_stat_deregister(b->pdm, b->stat_prefix);
    vd_close(b->disk);
    pthread_cond_destroy(&b->work);
    pthread_cond_destroy(&b->idle);
    pthread_mutex_destroy(&b->mtx);
    free(b);
}

cap_result pdm_add_drive(struct pdm *pdm, const struct pdm_drive_config *dc)
{
    if (!pdm || !dc || !dc->device)
        return CAP_E_POINTER;
    if (strlen(dc->device) >= sizeof(((struct pdm_blk *)0)->device))
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "drive: device name '%s' too long", dc->device);
    if (dc->kind != PDM_BLK_DISK && dc->kind != PDM_BLK_CDROM)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL, "drive: unknown kind %d",
                             (int)dc->kind);
    if (find_drive(pdm, dc->device, dc->instance, dc->lun))
        return cap_error_set(CAP_E_ALREADY_REGISTERED, PDM_COMPONENT, NULL,
                             "%s%u LUN %u has a drive already", dc->device, dc->instance, dc->lun);
    if (!dc->path && dc->kind == PDM_BLK_DISK)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s%u LUN %u: a disk drive needs an image", dc->device, dc->instance,
                             dc->lun);
    struct pdm_blk *b = calloc(1, sizeof(*b));
    if (!b)
        return cap_error_set(CAP_E_OUTOFMEMORY, PDM_COMPONENT, NULL, "out of memory");
    b->pdm = pdm;
    snprintf(b->device, sizeof(b->device), "%s", dc->device);
    b->instance = dc->instance;
    b->lun = dc->lun;
    b->kind = dc->kind;
    b->cfg_readonly = dc->readonly;
    pthread_mutex_init(&b->mtx, NULL);
    pthread_cond_init(&b->work, NULL);
    pthread_cond_init(&b->idle, NULL);
    cap_result rc =
        dc->path ? open_medium(b, dc->path, dc->format, dc->readonly, &b->disk) : CAP_OK;
    if (CAP_SUCCEEDED(rc) && pthread_create(&b->thread, NULL, io_thread, b))
        rc = cap_error_set(CAP_E_FAIL, PDM_COMPONENT, NULL, "cannot start a drive's I/O thread");
    if (CAP_FAILED(rc)) {
        blk_free(b);
        return rc;
    }
    b->thread_started = true;
    register_stats(b);
    struct pdm_blk **pp = &pdm->drives;
    while (*pp)
        pp = &(*pp)->next;
    *pp = b;
    return CAP_OK;
}

cap_result pdm_check_drives(struct pdm *pdm)
{
    for (struct pdm_blk *b = pdm->drives; b; b = b->next)
        if (!b->attached_once)
            return cap_error_set(
                CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                "a drive is configured on %s%u LUN %u, but %s", b->device, b->instance, b->lun,
                pdm_find_device(pdm, b->device, b->instance) ? "that device has no such LUN"
                                                             : "the machine has no such device");
    return CAP_OK;
}

/* Swaps the medium (the caller holds the device lock): waits for the
 * running request, fails the queued ones; returns the old medium. */
static struct vd_disk *swap_medium(struct pdm_blk *b, struct vd_disk *d)
{
    pthread_mutex_lock(&b->mtx);
    wait_not_running(b);
    for (struct pdm_blk_req *r = b->head; r; r = r->pdm_next)
        r->pdm_flags |= REQ_F_ABORTED;
    struct vd_disk *old = b->disk;
    b->disk = d;
    b->gen++;
    if (!d)
        b->locked = false;
    pthread_mutex_unlock(&b->mtx);
    return old;
}

cap_result pdm_drive_set_medium(struct pdm *pdm, const char *device, unsigned instance,
                                unsigned lun, const char *path, const char *format, bool force)
{
    if (!pdm || !device)
        return CAP_E_POINTER;
    struct pdm_blk *b = find_drive(pdm, device, instance, lun);
    if (!b)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL, "%s%u LUN %u has no drive",
                             device, instance, lun);
    if (b->kind != PDM_BLK_CDROM)
        return cap_error_set(CAP_E_INVALIDARG, PDM_COMPONENT, NULL,
                             "%s%u LUN %u: a hard disk's medium cannot be changed while the VM "
                             "runs",
                             device, instance, lun);
    struct vd_disk *d = NULL;
    if (path) {
        cap_result rc = open_medium(b, path, format, true, &d);
        if (CAP_FAILED(rc))
            return rc;
    }
    pdm_lock(pdm);
    pthread_mutex_lock(&b->mtx);
    bool locked = b->locked;
    pthread_mutex_unlock(&b->mtx);
    if (locked && !force) {
        pdm_unlock(pdm);
        vd_close(d);
        return cap_error_set(CAP_E_ACCESSDENIED, PDM_COMPONENT, NULL,
                             "%s%u LUN %u: the guest has locked the medium in the drive (force "
                             "to eject anyway)",
                             device, instance, lun);
    }
    struct vd_disk *old = swap_medium(b, d);
    pthread_mutex_lock(&b->mtx); /* detach_inst clears inst without the device lock */
    struct pdm_devinst *inst = b->inst;
    pthread_mutex_unlock(&b->mtx);
    if (inst && b->port->medium_changed)
        b->port->medium_changed(&inst->dev, b->user, d != NULL);
    pdm_unlock(pdm);
    vd_close(old);
    return CAP_OK;
}

void pdm_blk_drain(struct pdm *pdm)
{
    for (struct pdm_blk *b = pdm->drives; b; b = b->next) {
        pthread_mutex_lock(&b->mtx);
        while (b->pending)
            pthread_cond_wait(&b->idle, &b->mtx);
        pthread_mutex_unlock(&b->mtx);
    }
}

void pdm_blk_detach_inst(struct pdm_devinst *inst)
{
    for (struct pdm_blk *b = inst->pdm->drives; b; b = b->next) {
        pthread_mutex_lock(&b->mtx);
        if (b->inst == inst) {
            b->epoch++;
            drop_queue(b);
            wait_not_running(b);
            b->inst = NULL; /* read by the I/O thread under the device lock too */
        }
        pthread_mutex_unlock(&b->mtx);
    }
}

void pdm_blk_stop_all(struct pdm *pdm)
{
    for (struct pdm_blk *b = pdm->drives; b; b = b->next) {
        if (!b->thread_started)
            continue;
        pthread_mutex_lock(&b->mtx);
        b->stop = true;
        drop_queue(b);
        pthread_cond_broadcast(&b->work);
        pthread_mutex_unlock(&b->mtx);
        pthread_join(b->thread, NULL);
        b->thread_started = false;
    }
}

void pdm_blk_free_all(struct pdm *pdm)
{
    pdm_blk_stop_all(pdm);
    for (struct pdm_blk *b = pdm->drives, *n; b; b = n) {
        n = b->next;
        blk_free(b);
    }
    pdm->drives = NULL;
}

/* ---- the device's side (hlp->blk_*, under the device lock) ------------------ */

cap_result pdm_hlp_blk_attach(struct pdm_dev *dev, unsigned lun, const struct pdm_blk_port *port,
                              void *user, struct pdm_blk **out)
{
    struct pdm_devinst *inst = pdm_inst(dev);
    if (!out || !port || !port->complete)
        return CAP_E_POINTER;
    *out = NULL;
    struct pdm_blk *b = find_drive(inst->pdm, dev->reg->name, dev->instance, lun);
    if (!b)
        return CAP_FALSE_RESULT;
    if (b->inst)
        return cap_error_set(CAP_E_ALREADY_REGISTERED, PDM_COMPONENT, NULL,
                             "%s: LUN %u attached twice", inst->name, lun);
    pthread_mutex_lock(&b->mtx);
    b->inst = inst;
    b->port = port;
    b->user = user;
    b->attached_once = true;
    pthread_mutex_unlock(&b->mtx);
    *out = b;
    return CAP_OK;
}

void pdm_hlp_blk_info(struct pdm_blk *b, struct pdm_blk_info *out)
{
    pthread_mutex_lock(&b->mtx);
    *out = (struct pdm_blk_info){
        .kind = b->kind,
        .present = b->disk != NULL,
        .readonly = blk_readonly(b),
        .locked = b->locked,
        .size = b->disk ? vd_size(b->disk) : 0,
        .medium_gen = b->gen,
    };
    pthread_mutex_unlock(&b->mtx);
}

cap_result pdm_hlp_blk_submit(struct pdm_blk *b, struct pdm_blk_req *r)
{
    if (!r || (r->op != PDM_BLK_FLUSH && !r->buf))
        return CAP_E_POINTER;
    cap_result rc = CAP_OK;
    pthread_mutex_lock(&b->mtx);
    uint64_t size = b->disk ? vd_size(b->disk) : 0;
    if (!b->disk)
        rc = CAP_E_ABORT;
    else if (r->op > PDM_BLK_FLUSH)
        rc = CAP_E_INVALIDARG;
    else if (r->op != PDM_BLK_FLUSH && ((r->offset | r->len) % PDM_BLK_SECTOR || r->offset > size ||
                                        r->len > size - r->offset))
        rc = CAP_E_INVALIDARG;
    else if (r->op == PDM_BLK_WRITE && blk_readonly(b))
        rc = CAP_E_ACCESSDENIED;
    if (CAP_SUCCEEDED(rc)) {
        r->pdm_next = NULL;
        r->pdm_epoch = b->epoch;
        r->pdm_flags = 0;
        r->status = CAP_OK;
        if (b->tail)
            b->tail->pdm_next = r;
        else
            b->head = r;
        b->tail = r;
        b->pending++;
        pthread_cond_signal(&b->work);
    }
    pthread_mutex_unlock(&b->mtx);
    return rc;
}

void pdm_hlp_blk_cancel(struct pdm_blk *b)
{
    pthread_mutex_lock(&b->mtx);
    b->epoch++;
    drop_queue(b);
    wait_not_running(b);
    pthread_mutex_unlock(&b->mtx);
}

void pdm_hlp_blk_set_locked(struct pdm_blk *b, bool locked)
{
    pthread_mutex_lock(&b->mtx);
    b->locked = locked && b->disk;
    pthread_mutex_unlock(&b->mtx);
}

cap_result pdm_hlp_blk_eject(struct pdm_blk *b)
{
    pthread_mutex_lock(&b->mtx);
    bool locked = b->locked, empty = !b->disk;
    pthread_mutex_unlock(&b->mtx);
    if (b->kind != PDM_BLK_CDROM || locked)
        return CAP_E_ACCESSDENIED;
    if (empty)
        return CAP_FALSE_RESULT;
    vd_close(swap_medium(b, NULL));
    return CAP_OK;
}
