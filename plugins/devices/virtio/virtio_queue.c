/*
 * plugins/devices/virtio/virtio_queue.c - split virtqueues (virtio 1.2,
 * 2.7): taking descriptor chains from the available ring and returning
 * them through the used ring, with guest memory reached only through
 * hlp->phys_read / phys_write.
 *
 * The guest owns the rings and may scribble on them at any time, so the
 * walker trusts nothing it reads: every index is checked against the queue
 * size, the number of descriptors visited is bounded by the size (a loop
 * ends there), an indirect table by its own length and the size, and a
 * failed read (memory outside RAM) stops the walk. What the walker cannot
 * make sense of is reported as BROKEN; the transport then sets
 * DEVICE_NEEDS_RESET.
 */
#include "virtio.h"

static bool read16(struct pdm_dev *dev, uint64_t gpa, uint16_t *out)
{
    uint8_t b[2];
    if (CAP_FAILED(dev->hlp->phys_read(dev, gpa, b, 2)))
        return false;
    *out = (uint16_t)virtio_get_le(b, 2);
    return true;
}

bool virtq_valid(const struct virtq *q)
{
    return q->size && q->size <= q->max && !(q->size & (q->size - 1)) && !(q->desc & 15) &&
           !(q->avail & 1) && !(q->used & 3);
}

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static bool read_desc(struct pdm_dev *dev, uint64_t table, unsigned i, struct desc *d)
{
    uint8_t b[VIRTQ_DESC_SIZE];
    if (CAP_FAILED(dev->hlp->phys_read(dev, table + (uint64_t)i * VIRTQ_DESC_SIZE, b, sizeof(b))))
        return false;
    d->addr = virtio_get_le(b, 8);
    d->len = (uint32_t)virtio_get_le(b + 8, 4);
    d->flags = (uint16_t)virtio_get_le(b + 12, 2);
    d->next = (uint16_t)virtio_get_le(b + 14, 2);
    return true;
}

/* Appends descriptor d's buffer to the chain; NULL or the problem. */
static const char *add_seg(struct virtq_chain *c, const struct desc *d, unsigned max)
{
    bool wr = d->flags & VIRTQ_DESC_F_WRITE;
    if (!wr && c->n > c->n_out)
        return "a readable descriptor after a writable one";
    if (!d->len)
        return NULL;
    if (d->addr + d->len < d->addr)
        return "a descriptor wraps around the address space";
    if (c->n >= max)
        return "a chain longer than the queue";
    c->seg[c->n++] = (struct virtq_seg){.addr = d->addr, .len = d->len};
    if (wr)
        c->in_bytes += d->len;
    else {
        c->n_out++;
        c->out_bytes += d->len;
    }
    return NULL;
}

/* Walks an indirect table (descriptor d points at it). */
static const char *walk_indirect(struct pdm_dev *dev, const struct virtq *q, struct virtq_chain *c,
                                 const struct desc *d)
{
    if (d->flags & VIRTQ_DESC_F_NEXT)
        return "an indirect descriptor with NEXT";
    if (!d->len || d->len % VIRTQ_DESC_SIZE)
        return "an indirect table whose length is not a non-zero multiple of 16";
    uint32_t entries = d->len / VIRTQ_DESC_SIZE;
    if (entries > q->size)
        return "an indirect table longer than the queue";
    unsigned i = 0;
    for (unsigned visited = 0;; visited++) {
        struct desc e;
        if (visited >= entries)
            return "a loop in an indirect table";
        if (!read_desc(dev, d->addr, i, &e))
            return "an indirect table outside RAM";
        if (e.flags & VIRTQ_DESC_F_INDIRECT)
            return "an indirect descriptor inside an indirect table";
        const char *why = add_seg(c, &e, q->size);
        if (why)
            return why;
        if (!(e.flags & VIRTQ_DESC_F_NEXT))
            return NULL;
        if (e.next >= entries)
            return "an indirect table's next index out of range";
        i = e.next;
    }
}

enum virtq_pop_result virtq_pop(struct pdm_dev *dev, struct virtq *q, bool indirect,
                                struct virtq_chain *c, const char **why)
{
    uint16_t avail_idx, head;
    *why = NULL;
    if (!q->enabled || !virtq_valid(q)) {
        *why = "a queue that is not set up";
        return VIRTQ_POP_BROKEN;
    }
    if (!read16(dev, q->avail + 2, &avail_idx)) {
        *why = "the available ring outside RAM";
        return VIRTQ_POP_BROKEN;
    }
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (!pending)
        return VIRTQ_POP_EMPTY;
    if (pending > q->size) {
        *why = "the available index ran ahead by more than the queue size";
        return VIRTQ_POP_BROKEN;
    }
    if (!read16(dev, q->avail + 4 + 2ull * (q->last_avail % q->size), &head)) {
        *why = "the available ring outside RAM";
        return VIRTQ_POP_BROKEN;
    }
    q->last_avail++;
    c->head = head;
    c->n = c->n_out = 0;
    c->in_bytes = c->out_bytes = 0;
    if (head >= q->size) {
        *why = "a chain head out of range";
        return VIRTQ_POP_BROKEN;
    }
    unsigned i = head;
    for (unsigned visited = 0;; visited++) {
        struct desc d;
        if (visited >= q->size)
            *why = "a loop in the descriptor chain";
        else if (!read_desc(dev, q->desc, i, &d))
            *why = "the descriptor table outside RAM";
        else if (d.flags & VIRTQ_DESC_F_INDIRECT)
            *why =
                indirect ? walk_indirect(dev, q, c, &d) : "an indirect descriptor (not negotiated)";
        else if (!(*why = add_seg(c, &d, q->size)) && (d.flags & VIRTQ_DESC_F_NEXT)) {
            if (d.next >= q->size)
                *why = "a next index out of range";
            i = d.next;
            if (!*why)
                continue;
        }
        return *why ? VIRTQ_POP_BROKEN : VIRTQ_POP_CHAIN;
    }
}

cap_result virtq_push(struct pdm_dev *dev, struct virtq *q, uint16_t head, uint32_t len)
{
    uint8_t elem[VIRTQ_USED_ELEM_SIZE], idx[2];
    virtio_put_le(elem, 4, head);
    virtio_put_le(elem + 4, 4, len);
    uint64_t at = q->used + 4 + (uint64_t)(q->used_idx % q->size) * VIRTQ_USED_ELEM_SIZE;
    cap_result rc = dev->hlp->phys_write(dev, at, elem, sizeof(elem));
    if (CAP_FAILED(rc))
        return rc;
    q->used_idx++;
    virtio_put_le(idx, 2, q->used_idx);
    return dev->hlp->phys_write(dev, q->used + 2, idx, 2);
}

bool virtq_wants_interrupt(struct pdm_dev *dev, const struct virtq *q)
{
    uint16_t flags;
    return !read16(dev, q->avail, &flags) || !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies [off, off+len) of the chain's readable (out) or writable part. */
static bool chain_copy(struct pdm_dev *dev, const struct virtq_chain *c, bool out, uint64_t off,
                       uint8_t *buf, uint64_t len)
{
    unsigned first = out ? 0 : c->n_out, end = out ? c->n_out : c->n;
    uint64_t total = out ? c->out_bytes : c->in_bytes;
    if (off > total || len > total - off)
        return false;
    for (unsigned i = first; i < end && len; i++) {
        const struct virtq_seg *s = &c->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        uint64_t n = s->len - off < len ? s->len - off : len;
        cap_result rc = out ? dev->hlp->phys_read(dev, s->addr + off, buf, n)
                            : dev->hlp->phys_write(dev, s->addr + off, buf, n);
        if (CAP_FAILED(rc))
            return false;
        buf += n;
        len -= n;
        off = 0;
    }
    return true;
}

bool virtq_chain_read(struct pdm_dev *dev, const struct virtq_chain *c, uint64_t off, void *buf,
                      uint64_t len)
{
    return chain_copy(dev, c, true, off, buf, len);
}

bool virtq_chain_write(struct pdm_dev *dev, const struct virtq_chain *c, uint64_t off,
                       const void *buf, uint64_t len)
{
    return chain_copy(dev, c, false, off, (uint8_t *)buf, len);
}
