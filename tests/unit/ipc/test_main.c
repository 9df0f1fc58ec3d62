/*
 * test_main.c - the IPC suite (runtime/ipc): frames, values, calls both
 * ways, handle lifetime, hostile peers, peer death in both directions, and
 * the server's resource caps.
 * Cases run without fork so ASan's leak check covers them at exit; the
 * cross-process ones start ipc_test_server.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/typelib.h>
#include <capsule/xptcall.h>

#include "ipc_test.h"

void fixture_home(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->home, sizeof(f->home), "/tmp/capsule-ipc-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->home));
    ck_assert_int_eq(cap_ipc_home_prepare(f->home, &f->h), CAP_OK);
}

void fixture_up(struct fixture *f)
{
    fixture_home(f);
    f->root_obj = ipctest_new();
    struct cap_ipc_server_options o = {.socket_path = f->h.socket, .root = (ISupports *)f->root_obj};
    ck_assert_int_eq(cap_ipc_server_create(&o, &f->srv), CAP_OK);
    ck_assert_int_eq(cap_ipc_server_start(f->srv), CAP_OK);
    ck_assert_int_eq(cap_ipc_connect(f->h.socket, &f->conn), CAP_OK);
    ck_assert_int_eq(cap_ipc_conn_get_root(f->conn, &IID_IIpcTest, (void **)&f->root), CAP_OK);
}

void fixture_down(struct fixture *f)
{
    if (f->root)
        IIpcTest_Release(f->root);
    cap_ipc_conn_close(f->conn);
    cap_ipc_server_destroy(f->srv);
    if (f->root_obj)
        IIpcTest_Release(f->root_obj);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->home);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->home);
    cap_ipc_home_clear(&f->h);
}

int test_scale(void)
{
    const char *s = getenv("CAPSULE_TIMEOUT_SCALE");
    int v = s ? atoi(s) : 1;
    return v > 0 ? v : 1;
}

int wait_for(int (*cond)(void *), void *arg, int ms)
{
    ms *= test_scale();
    for (int i = 0; i < ms; i += 5) {
        if (cond(arg))
            return 1;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return cond(arg);
}

const char *test_program(const char *name)
{
    static char path[PATH_MAX];
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    ck_assert_int_gt(n, 0);
    self[n] = 0;
    snprintf(path, sizeof(path), "%s/%s", dirname(self), name);
    return path;
}

pid_t spawn(char *const argv[], int *out_fd)
{
    int p[2] = {-1, -1};
    if (out_fd)
        ck_assert_int_eq(pipe(p), 0);
    char prog[PATH_MAX];
    snprintf(prog, sizeof(prog), "%s", test_program(argv[0]));
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (out_fd)
            dup2(p[1], 1);
        execv(prog, argv);
        _exit(127);
    }
    if (out_fd) {
        close(p[1]);
        *out_fd = p[0];
    }
    return pid;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (CAP_FAILED(cap_typelib_register(&captest_typelib)) ||
        CAP_FAILED(cap_typelib_register(&capsule_typelib)))
        return EXIT_FAILURE;
    Suite *s = suite_create("ipc");
    suite_add_tcase(s, tcase_frames());
    suite_add_tcase(s, tcase_values());
    suite_add_tcase(s, tcase_calls());
    suite_add_tcase(s, tcase_lifetime());
    suite_add_tcase(s, tcase_hostile());
    suite_add_tcase(s, tcase_death());
    suite_add_tcase(s, tcase_limits());
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
