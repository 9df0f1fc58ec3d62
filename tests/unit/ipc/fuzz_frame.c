/*
 * fuzz_frame.c - libFuzzer target: frames and message bodies from raw bytes.
 *
 * Cuts the input into frames with ipc_frame_decode() exactly as the reader
 * thread does, and decodes each REQUEST body's values for the method its
 * header names (any interface of the test typelib), with an interface hook
 * that accepts handle 1 and refuses the rest. Nothing may crash, leak or
 * read out of bounds.
 */
#include <stdint.h>
#include <string.h>

#include <capsule/captest.h>
#include <capsule/errorinfo.h>
#include <capsule/typelib.h>
#include <capsule/xptcall.h>

#include "ipc_internal.h"

static uint8_t dummy_vtbl_obj;

static cap_result fz_encode(void *ctx, struct ipc_buf *b, void *obj, const struct cap_tl_iface *tl)
{
    return CAP_E_NOTIMPL;
}

static cap_result fz_decode(void *ctx, uint8_t kind, uint64_t h, const struct cap_tl_iface *tl,
                            void **out)
{
    (void)dummy_vtbl_obj;
    return cap_error_set(CAP_E_IPC_BAD_HANDLE, "fuzz", NULL, "no handle %llu",
                         (unsigned long long)h);
}

static const struct ipc_iface_ops ops = {fz_encode, fz_decode};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        cap_typelib_register(&captest_typelib);
        init = 1;
    }
    size_t off = 0;
    while (off < size) {
        struct ipc_frame f;
        if (ipc_frame_decode(data + off, size - off, 1u << 20, &f) != CAP_OK)
            break;
        struct ipc_rd r = {f.payload, f.length, 0};
        uint64_t handle;
        cap_uuid iid;
        uint32_t slot;
        uint16_t n;
        if (f.type == IPC_MSG_REQUEST && ipc_rd_u64(&r, &handle) && ipc_rd_bytes(&r, &iid, 16) &&
            ipc_rd_u32(&r, &slot) && ipc_rd_u16(&r, &n)) {
            const struct cap_tl_iface *tl = cap_typelib_find_iface(&iid);
            if (!tl && slot < 64) /* let the fuzzer reach methods without guessing IIDs */
                tl = captest_typelib.ifaces[handle % captest_typelib.n_ifaces];
            const struct cap_tl_method *m = tl ? cap_tl_method_at(tl, slot) : NULL;
            if (m && !(m->flags & CAP_TLM_BUILTIN) && m->n_params <= 32) {
                struct cap_xpt_value v[32];
                unsigned dirs = (n & 1) ? IPC_DIR_OUT : IPC_DIR_IN;
                if (ipc_decode_values(&r, tl, m, v, dirs, &ops, NULL) == CAP_OK)
                    cap_xpt_values_clear(m, v, dirs == IPC_DIR_IN ? CAP_XPT_CLEAR_IN
                                                                  : CAP_XPT_CLEAR_OUT);
            }
        }
        off += IPC_HDR_SIZE + f.length;
    }
    cap_error_clear();
    return 0;
}
