/*
 * vmproc_vrde.c - the VM process's remote display server, on and off
 * (vmproc_vrde.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "vmproc_vrde.h"

struct vmproc_vrde {
    struct vm *vm;
    struct fe_display *disp;
    struct vnc_config cfg; /* address and password owned */
    pthread_mutex_t lock;
    struct vnc_server *server; /* under lock; NULL: off */
};

cap_result vmproc_vrde_create(struct vm *vm, struct fe_display *disp, const struct vnc_config *cfg,
                              const char *password_file, struct vmproc_vrde **out)
{
    *out = NULL;
    struct vmproc_vrde *v = calloc(1, sizeof(*v));
    if (!v)
        return cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    v->vm = vm;
    v->disp = disp;
    v->cfg.port = cfg->port;
    pthread_mutex_init(&v->lock, NULL);
    cap_result rc = CAP_OK;
    char *password = NULL;
    if (password_file)
        rc = vnc_read_password_file(password_file, &password);
    else if (cfg->password && *cfg->password && !(password = strdup(cfg->password)))
        rc = cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    v->cfg.password = password;
    if (CAP_SUCCEEDED(rc) && cfg->address && !(v->cfg.address = strdup(cfg->address)))
        rc = cap_error_set(CAP_E_OUTOFMEMORY, "capsule-vm", NULL, "out of memory");
    if (CAP_FAILED(rc)) {
        vmproc_vrde_destroy(v);
        return rc;
    }
    *out = v;
    return CAP_OK;
}

cap_result vmproc_vrde_enable(struct vmproc_vrde *v, bool on)
{
    cap_result rc = CAP_OK;
    pthread_mutex_lock(&v->lock);
    if (on && !v->server) {
        rc = vnc_server_start(v->vm, v->disp, &v->cfg, &v->server);
        if (rc == CAP_E_NOTIMPL)
            rc = cap_error_set(rc, "capsule-vm", NULL,
                               "the remote display server shows the machine's display, and the "
                               "machine has none (add the vga: capsule modifyvm VM "
                               "--graphicscontroller vga, capsule-vm --graphics vga; or leave "
                               "the server off)");
    } else if (!on && v->server) {
        vnc_server_stop(v->server);
        v->server = NULL;
        fprintf(stderr, "capsule-vm: vnc: stopped\n");
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}

unsigned vmproc_vrde_port(struct vmproc_vrde *v)
{
    pthread_mutex_lock(&v->lock);
    unsigned port = v->server ? vnc_server_port(v->server) : 0;
    pthread_mutex_unlock(&v->lock);
    return port;
}

void vmproc_vrde_destroy(struct vmproc_vrde *v)
{
    if (!v)
        return;
    vnc_server_stop(v->server);
    if (v->cfg.password) {
        memset((char *)v->cfg.password, 0, strlen(v->cfg.password));
        free((char *)v->cfg.password);
    }
    free((char *)v->cfg.address);
    pthread_mutex_destroy(&v->lock);
    free(v);
}
