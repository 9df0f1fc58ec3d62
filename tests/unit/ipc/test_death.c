/*
 * test_death.c - peers that die: the service killed with SIGKILL (calls,
 * including one in flight, fail at once with CAP_E_SERVICE_UNAVAILABLE), a
 * client killed while holding objects (the server releases every handle
 * and its calls back fail fast), and autostart through capsule/client.h
 * with ipc_test_server as the service program.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capsule/client.h>
#include <capsule/errorinfo.h>

#include "alltypes_impl.h"
#include "ipc_test.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct cap_ipc_conn *connect_retry(const char *sock)
{
    struct cap_ipc_conn *c = NULL;
    for (int i = 0; i < 400 && CAP_FAILED(cap_ipc_connect(sock, &c)); i++)
        usleep(10000);
    ck_assert_ptr_nonnull(c);
    return c;
}

static void *slow_call(void *arg)
{
    cap_result rc = IIpcTest_SleepMs(arg, 10000);
    return (void *)(intptr_t)rc;
}

START_TEST(death_service_killed)
{
    struct fixture f;
    fixture_home(&f);
    char *argv[] = {"ipc_test_server", "--home", f.home, "--idle-ms", "0", NULL};
    pid_t pid = spawn(argv, NULL);
    struct cap_ipc_conn *c = connect_retry(f.h.socket);
    IIpcTest *root = NULL;
    ck_assert_int_eq(cap_ipc_conn_get_root(c, &IID_IIpcTest, (void **)&root), CAP_OK);
    int32_t spid = 0;
    ck_assert_int_eq(IIpcTest_GetPid(root, &spid), CAP_OK);
    ck_assert_int_eq(spid, pid);
    IAllTypes *at = NULL;
    ck_assert_int_eq(IIpcTest_GetAllTypes(root, &at), CAP_OK);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, slow_call, root), 0);
    usleep(100000);
    double t0 = now_s();
    kill(pid, SIGKILL);
    void *res;
    pthread_join(t, &res);
    ck_assert_int_eq((cap_result)(intptr_t)res, CAP_E_SERVICE_UNAVAILABLE);
    ck_assert(now_s() - t0 < 2.0 * test_scale());
    int32_t r;
    t0 = now_s();
    ck_assert_int_eq(IIpcTest_Ping(root, 1, &r), CAP_E_SERVICE_UNAVAILABLE);
    ck_assert_int_eq(IAllTypes_Ping(at, 1, &r), CAP_E_SERVICE_UNAVAILABLE);
    ck_assert(now_s() - t0 < 0.5 * test_scale());
    ck_assert_ptr_nonnull(strstr(cap_error_peek_message(), "closed"));
    ck_assert(!cap_ipc_conn_alive(c));
    IAllTypes_Release(at);
    IIpcTest_Release(root);
    cap_ipc_conn_close(c);
    waitpid(pid, NULL, 0);
    fixture_down(&f);
}
END_TEST

static struct fixture fx;
static uint32_t live_base;

static int srv_handles_one(void *arg)
{
    return cap_ipc_server_handle_count(fx.srv) == 1 && cap_ipc_server_connection_count(fx.srv) == 1;
}

/* ... and the dead client's object released: the server's counts drop
 * before the connection's worker has released the real objects. */
static int srv_handles_one_released(void *arg)
{
    return srv_handles_one(arg) && alltypes_live() == live_base;
}

START_TEST(death_client_killed)
{
    fixture_up(&fx);
    uint32_t base = live_base = alltypes_live();
    int out = -1;
    char *argv[] = {"ipc_test_server", "--client", fx.h.socket, NULL};
    pid_t pid = spawn(argv, &out);
    char line[16] = "";
    ck_assert_int_gt(read(out, line, sizeof(line) - 1), 0);
    ck_assert_ptr_nonnull(strstr(line, "ready"));
    ck_assert_uint_eq(cap_ipc_server_connection_count(fx.srv), 2);
    ck_assert_uint_ge(cap_ipc_server_handle_count(fx.srv), 3); /* both roots + an IAllTypes */
    ck_assert_uint_eq(alltypes_live(), base + 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(out);
    ck_assert(wait_for(srv_handles_one_released, NULL, 3000));
    ck_assert_uint_eq(alltypes_live(), base); /* the real object saw its Release */
    /* the server still holds the dead client's callback: calling it fails fast */
    double t0 = now_s();
    ck_assert_int_eq(IIpcTest_CallHeld(fx.root_obj), CAP_E_IPC_DISCONNECTED);
    ck_assert(now_s() - t0 < 0.5 * test_scale());
    ck_assert_int_eq(IIpcTest_ReleaseHeld(fx.root_obj), CAP_OK);
    fixture_down(&fx);
}
END_TEST

/* Whether no service holds the svc.lock at path (it holds it while alive). */
static int service_gone(void *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 1;
    int free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd);
    return free_now;
}

START_TEST(death_autostart)
{
    struct fixture f;
    fixture_home(&f);
    char svc[512];
    snprintf(svc, sizeof(svc), "%s", test_program("ipc_test_server"));
    struct cap_client_options o = {.home = f.home, .svc_path = svc, .timeout_ms = 5000};
    struct cap_client_options no = {.home = f.home, .no_autostart = 1};
    struct cap_client *c = NULL, *c2 = NULL;
    ck_assert_int_eq(cap_client_connect(&no, &c), CAP_E_SERVICE_UNAVAILABLE);
    ck_assert_int_eq(cap_client_connect(&o, &c), CAP_OK);
    ck_assert_int_eq(cap_client_connect(&no, &c2), CAP_OK); /* it answers now */
    ck_assert(cap_client_alive(c) && cap_client_alive(c2));
    ck_assert(!cap_client_alive(NULL)); /* the service's death: tests/integration/managed.sh */
    ICapsule *root = NULL;
    /* the test service's root is an IIpcTest, not an ICapsule: a remote NOINTERFACE */
    ck_assert_int_eq(cap_client_get_root(c, &root), CAP_E_NOINTERFACE);
    ck_assert_ptr_null(root);
    cap_client_close(c2);
    cap_client_close(c);
    cap_client_close(NULL);
    /* The idle service exits after about 3 s of its own counting (longer on
     * a loaded host): wait, bounded, until its svc.lock is free. */
    ck_assert(wait_for(service_gone, f.h.svc_lock, 13000));
    ck_assert_int_eq(cap_client_connect(&no, &c), CAP_E_SERVICE_UNAVAILABLE);
    fixture_down(&f);
}
END_TEST

TCase *tcase_death(void)
{
    TCase *tc = tcase_create("death");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, death_service_killed);
    tcase_add_test(tc, death_client_killed);
    tcase_add_test(tc, death_autostart);
    return tc;
}
