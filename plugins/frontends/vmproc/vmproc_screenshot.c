/*
 * vmproc_screenshot.c - the VM's screen as a PNG (see vmproc_screenshot.h).
 */
#include <errno.h>
#include <png.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>
#include <capsule/mem.h>

#include "pdm.h"
#include "vmproc_screenshot.h"

#define SHOT_COMPONENT "capsule-vm"

/* A PNG growing in memory (vmproc_png_encode). */
struct png_mem {
    uint8_t *data;
    size_t len, cap;
    int failed;
};

static void png_mem_write(png_structp png, png_bytep bytes, png_size_t n)
{
    struct png_mem *m = png_get_io_ptr(png);
    if (m->failed)
        return;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + n)
            cap *= 2;
        uint8_t *p = realloc(m->data, cap);
        if (!p) {
            m->failed = 1;
            return;
        }
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, bytes, n);
    m->len += n;
}

static void png_mem_flush(png_structp png)
{
}

/* libpng reports errors by longjmp: everything it touches is set up before
 * the setjmp and released after it, so `row` and `f` are volatile-free.
 * Writes to `f`, or to `m` if f is NULL. */
static cap_result png_rows(FILE *f, struct png_mem *m, const uint32_t *pixels, unsigned width,
                           unsigned height, uint8_t *row)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return CAP_E_OUTOFMEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return CAP_E_FAIL;
    }
    if (f)
        png_init_io(png, f);
    else
        png_set_write_fn(png, m, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < height; y++) {
        const uint32_t *src = pixels + (size_t)y * width;
        for (unsigned x = 0; x < width; x++) {
            row[3 * x] = (uint8_t)(src[x] >> 16);
            row[3 * x + 1] = (uint8_t)(src[x] >> 8);
            row[3 * x + 2] = (uint8_t)src[x];
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return CAP_OK;
}

cap_result vmproc_png_write(const char *path, const uint32_t *pixels, unsigned width,
                            unsigned height)
{
    if (!width || !height)
        return cap_error_set(CAP_E_INVALIDARG, SHOT_COMPONENT, NULL,
                             "screenshot '%s': the screen has no size", path);
    uint8_t *row = malloc((size_t)width * 3);
    if (!row)
        return cap_error_set(CAP_E_OUTOFMEMORY, SHOT_COMPONENT, NULL, "out of memory");
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        free(row);
        return cap_error_set(CAP_E_INVALIDARG, SHOT_COMPONENT, NULL,
                             "screenshot '%s': cannot create: %s", path, strerror(e));
    }
    cap_result rc = png_rows(f, NULL, pixels, width, height, row);
    free(row);
    if (fclose(f) != 0 && CAP_SUCCEEDED(rc))
        rc = CAP_E_FAIL;
    if (CAP_FAILED(rc))
        return cap_error_set(rc, SHOT_COMPONENT, NULL, "screenshot '%s': cannot write the PNG",
                             path);
    return CAP_OK;
}

cap_result vmproc_png_encode(const uint32_t *pixels, unsigned width, unsigned height, uint8_t **png,
                             size_t *len)
{
    *png = NULL;
    *len = 0;
    if (!width || !height)
        return cap_error_set(CAP_E_INVALIDARG, SHOT_COMPONENT, NULL, "the screen has no size");
    uint8_t *row = malloc((size_t)width * 3);
    if (!row)
        return cap_error_set(CAP_E_OUTOFMEMORY, SHOT_COMPONENT, NULL, "out of memory");
    struct png_mem m = {0};
    cap_result rc = png_rows(NULL, &m, pixels, width, height, row);
    free(row);
    if (CAP_SUCCEEDED(rc) && m.failed)
        rc = CAP_E_OUTOFMEMORY;
    if (CAP_FAILED(rc)) {
        free(m.data);
        return cap_error_set(rc, SHOT_COMPONENT, NULL, "cannot encode the screen as a PNG");
    }
    *png = m.data;
    *len = m.len;
    return CAP_OK;
}

cap_result vmproc_screenshot(struct vm *vm, const char *path)
{
    struct pdm *pdm = vm_pdm(vm);
    uint32_t *pixels = NULL;
    unsigned w = 0, h = 0;
    cap_result rc = pdm ? pdm_display_snapshot(pdm, &pixels, &w, &h) : CAP_E_NOTIMPL;
    if (rc == CAP_E_NOTIMPL)
        return cap_error_set(CAP_E_NOTIMPL, SHOT_COMPONENT, NULL,
                             "screenshot '%s': this VM has no display (add --graphics vga)", path);
    if (CAP_SUCCEEDED(rc))
        rc = vmproc_png_write(path, pixels, w, h);
    cap_free(pixels);
    return rc;
}

/* SIGUSR1 seen: a flag is all a handler may set (one VM per process). */
static volatile sig_atomic_t shot_asked;

static void on_sigusr1(int sig)
{
    shot_asked = 1;
}

static void shot_and_say(struct vm *vm, const char *path)
{
    if (CAP_SUCCEEDED(vmproc_screenshot(vm, path)))
        fprintf(stderr, "capsule-vm: screenshot written to %s\n", path);
    else
        fprintf(stderr, "capsule-vm: %s\n", cap_error_peek_message());
    cap_error_clear();
}

enum vm_state vmproc_screenshot_wait(struct vm *vm, const char *path)
{
    struct sigaction sa = {.sa_handler = on_sigusr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    /* vmproc_create blocked it before the VM's threads started: it reaches
     * this thread alone, never a vCPU in KVM_RUN */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    enum vm_state st;
    while ((st = vm_wait(vm, 50)) != VM_STATE_POWERED_OFF && st != VM_STATE_ABORTED) {
        if (!shot_asked)
            continue;
        shot_asked = 0;
        /* only a running VM is paused and resumed here: one the API paused
         * stays paused */
        if (vm_get_state(vm) == VM_STATE_RUNNING && CAP_SUCCEEDED(vm_pause(vm))) {
            shot_and_say(vm, path);
            vm_resume(vm);
        } else if (vm_get_state(vm) == VM_STATE_PAUSED) {
            shot_and_say(vm, path);
        }
        cap_error_clear();
    }
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    signal(SIGUSR1, SIG_DFL);
    shot_and_say(vm, path);
    return st;
}
