/* ipc_test.h - shared by the files of the IPC suite. */
#ifndef IPC_TEST_H
#define IPC_TEST_H

#include <check.h>
#include <sys/types.h>

#include <capsule/ipc.h>

#include "ipctest_impl.h"

TCase *tcase_frames(void);
TCase *tcase_values(void);
TCase *tcase_calls(void);
TCase *tcase_lifetime(void);
TCase *tcase_hostile(void);
TCase *tcase_death(void);
TCase *tcase_limits(void);

/* A temporary CAPSULE_HOME (created 0700) and its paths. */
struct fixture {
    char home[256];
    struct cap_ipc_home h;
    IIpcTest *root_obj;        /* the real root (in-process server) */
    struct cap_ipc_server *srv;
    struct cap_ipc_conn *conn;
    IIpcTest *root;            /* proxy */
};
void fixture_home(struct fixture *f);
void fixture_up(struct fixture *f);   /* home + in-process server + client */
void fixture_down(struct fixture *f);
/* Waits up to ms for cond() to hold; returns it. */
int wait_for(int (*cond)(void *), void *arg, int ms);
/* CAPSULE_TIMEOUT_SCALE (1, 6 under asan=1; set by scons): what a time limit
 * that only bounds a hang or a "fails fast" check is multiplied by. */
int test_scale(void);
/* Path of a test program beside this one. */
const char *test_program(const char *name);
/* Starts a program (argv[0] resolved with test_program), stdout to a pipe
 * in *out_fd if out_fd not NULL. */
pid_t spawn(char *const argv[], int *out_fd);

#endif
