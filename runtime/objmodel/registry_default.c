/*
 * registry_default.c - the optional default registry and the helper that
 * finds folders relative to the running executable.
 *
 * Library code never reaches for a global registry; the default one exists
 * for programs (the CLI, the service, test drivers) that want one registry
 * for their whole life and set it up explicitly at start-up and tear it
 * down at shutdown. Installed programs find their components folder next to
 * themselves (BUILD/bin/x -> BUILD/lib/components), whatever the current
 * directory, through /proc/self/exe.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <capsule/mem.h>
#include <capsule/registry.h>

#include "objmodel_internal.h"

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cap_registry *default_reg;

/* The executable's folder, allocated; NULL with error info on failure. */
static char *exe_dir(void)
{
    for (size_t size = 256; size <= 65536; size *= 2) {
        char *buf = cap_alloc(size);
        if (!buf)
            break;
        ssize_t n = readlink("/proc/self/exe", buf, size);
        if (n < 0) {
            int err = errno;
            cap_free(buf);
            cap_error_set(CAP_E_IO, OBJMODEL_COMPONENT, NULL, "cannot read /proc/self/exe: %s",
                          strerror(err));
            return NULL;
        }
        if ((size_t)n < size) {
            buf[n] = '\0';
            char *slash = strrchr(buf, '/');
            if (slash)
                *(slash == buf ? slash + 1 : slash) = '\0';
            return buf;
        }
        cap_free(buf);
    }
    cap_error_set(CAP_E_IO, OBJMODEL_COMPONENT, NULL, "cannot read /proc/self/exe");
    return NULL;
}

CAP_EXPORT cap_result cap_exe_relative_path(const char *rel, char **out)
{
    if (!out)
        return CAP_E_POINTER;
    *out = NULL;
    if (!rel)
        return cap_error_set(CAP_E_POINTER, OBJMODEL_COMPONENT, NULL, "NULL relative path");
    char *dir = exe_dir();
    if (!dir)
        return CAP_E_IO;
    *out = cap_str_printf("%s/%s", dir, rel);
    cap_free(dir);
    if (!*out)
        return cap_error_set(CAP_E_OUTOFMEMORY, OBJMODEL_COMPONENT, NULL, "out of memory");
    return CAP_OK;
}

CAP_EXPORT cap_result cap_registry_init_default(const char *dir)
{
    char *own_dir = NULL;
    struct cap_registry *reg = NULL;
    cap_result rc;
    pthread_mutex_lock(&default_lock);
    if (default_reg) {
        rc = cap_error_set(CAP_E_ALREADY_REGISTERED, OBJMODEL_COMPONENT, NULL,
                           "the default registry is already initialised");
        goto fail;
    }
    if (!dir) {
        rc = cap_exe_relative_path("../lib/components", &own_dir);
        if (CAP_FAILED(rc))
            goto fail;
        dir = own_dir;
    }
    rc = cap_registry_create(&reg);
    if (CAP_FAILED(rc))
        goto fail;
    rc = cap_registry_load_manifests(reg, dir);
    if (CAP_FAILED(rc) && rc != CAP_E_BAD_MANIFEST)
        goto fail;
    default_reg = reg;
    pthread_mutex_unlock(&default_lock);
    cap_free(own_dir);
    return rc;
fail:
    pthread_mutex_unlock(&default_lock);
    cap_registry_destroy(reg);
    cap_free(own_dir);
    return rc;
}

CAP_EXPORT struct cap_registry *cap_registry_default(void)
{
    pthread_mutex_lock(&default_lock);
    struct cap_registry *reg = default_reg;
    pthread_mutex_unlock(&default_lock);
    return reg;
}

CAP_EXPORT void cap_registry_shutdown_default(void)
{
    pthread_mutex_lock(&default_lock);
    struct cap_registry *reg = default_reg;
    default_reg = NULL;
    pthread_mutex_unlock(&default_lock);
    cap_registry_destroy(reg);
}
