/*
 * vmm/ssm/ssm_write.h - the writer's state, shared by ssm_write.c (the
 * container, fields units) and ssm_ram.c (RAM units).
 */
#ifndef VMM_SSM_WRITE_H
#define VMM_SSM_WRITE_H

#include "ssm_internal.h"

struct ssm_writer {
    int fd;           /* PATH.tmp; -1 before it is created */
    char *path, *tmp; /* tmp NULL once renamed (or never created) */
    cap_result rc;    /* first failure: sticky */
    uint64_t off;     /* bytes emitted */
    uint32_t file_crc, unit_crc;
    uint8_t *out; /* write buffer */
    size_t outlen;
    bool in_unit, fields_open;
    char unit_name[SSM_NAME_MAX];
    uint8_t *buf; /* the open fields unit's FLDS payload */
    size_t len, cap;
    struct {
        char name[SSM_NAME_MAX];
        uint32_t instance;
    } * seen; /* units written, to refuse a second one */
    size_t nseen;
    uint32_t nfields;      /* in the open fields unit */
    uint64_t fields_total; /* bytes of the fields units written */
    uint32_t nunits;
    void *cctx;     /* RAM: ZSTD_CCtx, created on first use */
    uint8_t *stage; /* RAM: the present pages of a chunk */
    uint8_t *zbuf;  /* RAM: a PAGE record being built */
    size_t zcap;
};

/* Appends bytes to the stream (both CRCs). Sticky errors. */
cap_result ssm_emit(struct ssm_writer *w, const void *p, size_t len);
cap_result ssm_emit_rec(struct ssm_writer *w, uint32_t tag, const void *payload, size_t len);
/* The UNIT record (and the start of the unit's CRC); the UEND record. */
cap_result ssm_begin_unit_rec(struct ssm_writer *w, const char *name, uint32_t instance,
                              uint32_t version, enum ssm_unit_kind kind, uint64_t ram_size);
cap_result ssm_end_unit_rec(struct ssm_writer *w);
/* Frees the RAM writer's buffers and zstd context. */
void ssm_ram_writer_free(struct ssm_writer *w);

#endif /* VMM_SSM_WRITE_H */
