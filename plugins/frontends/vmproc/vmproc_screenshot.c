/*
 * vmproc_screenshot.c - the VM's screen as a PNG (see vmproc_screenshot.h).
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "devices/vga/vga.h"
#include "pdm.h"
#include "vmproc_screenshot.h"

#define SHOT_COMPONENT "capsule-vm"

/* libpng reports errors by longjmp: everything it touches is set up before
 * the setjmp and released after it, so `row` and `f` are volatile-free. */
static cap_result png_rows(FILE *f, const uint32_t *pixels, unsigned width, unsigned height,
                           uint8_t *row)
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
    png_init_io(png, f);
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
    cap_result rc = png_rows(f, pixels, width, height, row);
    free(row);
    if (fclose(f) != 0 && CAP_SUCCEEDED(rc))
        rc = CAP_E_FAIL;
    if (CAP_FAILED(rc))
        return cap_error_set(rc, SHOT_COMPONENT, NULL, "screenshot '%s': cannot write the PNG",
                             path);
    return CAP_OK;
}

cap_result vmproc_screenshot(struct vm *vm, const char *path)
{
    struct pdm *pdm = vm_pdm(vm);
    struct pdm_dev *dev = pdm ? pdm_find_device(pdm, "vga", 0) : NULL;
    const struct vga_display_iface *d =
        dev ? pdm_query_interface(pdm, "vga", 0, VGA_IFACE_DISPLAY) : NULL;
    if (!d)
        return cap_error_set(CAP_E_NOTIMPL, SHOT_COMPONENT, NULL,
                             "screenshot '%s': this VM has no display (add --device vga)", path);
    const uint32_t *pixels;
    unsigned w, h;
    cap_result rc = d->snapshot(dev, &pixels, &w, &h, NULL);
    if (CAP_SUCCEEDED(rc))
        rc = vmproc_png_write(path, pixels, w, h);
    return rc;
}
