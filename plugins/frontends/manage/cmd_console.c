/*
 * plugins/frontends/manage/cmd_console.c - `capsule console VM` and
 * `capsule console --socket PATH`: the terminal on a guest's serial port.
 *
 * A machine whose first serial port is in server mode (`modifyvm
 * --uartmode1 server SOCKET`) has its VM process listen on the Unix stream
 * socket SOCKET; the guest's output arrives on it and what is written to it
 * is the guest's input. This command asks the service for the port's mode
 * and path and the machine's state, connects to the socket and relays bytes
 * both ways until the user detaches (Ctrl-] then q), standard input ends or
 * the VM closes the connection (it powered off, or another console attached:
 * the VM process serves one client at a time, the newest). --socket PATH
 * skips the service and attaches to any such socket.
 *
 * When standard input is a terminal it is put in raw mode, so every key
 * (Ctrl-C, Ctrl-Z, arrows) reaches the guest, and restored however the
 * relay ends - detach, end of connection, SIGTERM, SIGHUP, SIGINT (raw mode
 * makes the keyboard raise none). Guest bytes go to stdout unchanged;
 * messages go to stderr, so `capsule console VM >log` captures exactly the
 * guest's output. Without a terminal (pipes, tests) the same relay runs.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <capsule/mem.h>

#include "manage.h"

#define DETACH_PREFIX 0x1d /* Ctrl-] */
#define DETACH_KEY    'q'
#define SERIAL_SLOT   0 /* "serial port 1" in the CLI's words (--uartmode1) */

/* One attached console: the socket is set by attach(), the rest by
 * console_setup(), undone by console_close(); `sock` is -1 when closed,
 * `tty` set only while the terminal's settings are changed. */
struct console {
    int sock;
    int tty;              /* stdin is a terminal put in raw mode */
    struct termios saved; /* its settings before, restored by console_close */
    int prefix;           /* the last input byte was DETACH_PREFIX */
    sigset_t relay_mask;  /* the signal mask while waiting (ppoll) */
    sigset_t saved_mask;  /* the caller's mask */
    struct sigaction saved_act[4];
};

static const int relay_signals[4] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    if (sig != SIGPIPE)
        got_signal = sig;
}

/* ---- the machine's serial port -------------------------------------------- */

/* MachineState values with a VM process that may be listening. */
static int has_vm_process(MachineState s)
{
    return s == MachineState_Running || s == MachineState_Paused || s == MachineState_Stuck ||
           s == MachineState_Starting || s == MachineState_Stopping || s == MachineState_Saving;
}

/*
 * The socket path of the machine's first serial port into *(char **)arg,
 * owned by the caller (cap_str_free). Fails with the thread's error info
 * set if the port is not in server mode (CAP_E_INVALID_OBJECT_STATE) or the
 * machine has no VM process (CAP_E_INVALID_VM_STATE).
 */
static cap_result serial_socket(struct cli_vm *vm, void *arg)
{
    char **path = arg;
    ISerialPort *port = NULL;
    PortMode mode = PortMode_Disconnected;
    MachineState state = MachineState_Null;
    cap_bool enabled = 0;
    vm->what = "IMachine::getSerialPort";
    cap_result rc = IMachine_GetSerialPort(vm->machine, SERIAL_SLOT, &port);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "ISerialPort";
        rc = ISerialPort_GetHostMode(port, &mode);
    }
    if (CAP_SUCCEEDED(rc))
        rc = ISerialPort_GetEnabled(port, &enabled);
    if (CAP_SUCCEEDED(rc))
        rc = ISerialPort_GetPath(port, path);
    if (CAP_SUCCEEDED(rc) && (mode != PortMode_Server || !enabled || !*path || !**path))
        rc = cap_error_set(CAP_E_INVALID_OBJECT_STATE, "capsule", "ISerialPort",
                           "serial port 1 of machine '%s' is %s%s, not a server socket; "
                           "set one with 'capsule modifyvm %s --uart1 0x3f8 4 "
                           "--uartmode1 server SOCKET'",
                           vm->name, enabled ? "in mode " : "disabled",
                           enabled ? cli_portmode_name(mode) : "", vm->name);
    if (CAP_SUCCEEDED(rc)) {
        vm->what = "IMachine::state";
        rc = IMachine_GetState(vm->machine, &state);
    }
    if (CAP_SUCCEEDED(rc) && !has_vm_process(state))
        rc = cap_error_set(CAP_E_INVALID_VM_STATE, "capsule", "IMachine",
                           "machine '%s' is not running (it is %s); start it with "
                           "'capsule startvm %s'",
                           vm->name, cli_state_text(state), vm->name);
    cli_release(port);
    if (CAP_FAILED(rc)) {
        cap_str_free(*path);
        *path = NULL;
    }
    return rc;
}

/* ---- the terminal and signals --------------------------------------------- */

static void console_close(struct console *c)
{
    if (c->tty)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &c->saved);
    c->tty = 0;
    for (int i = 0; i < 4; i++)
        sigaction(relay_signals[i], &c->saved_act[i], NULL);
    sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
    if (c->sock >= 0)
        close(c->sock);
    c->sock = -1;
}

/*
 * Blocks the relay's signals (they are taken only inside ppoll, so none is
 * lost between a check and the wait) and puts a terminal on stdin in raw
 * mode. SIGPIPE is caught and ignored: a closed peer shows as EPIPE.
 */
static void console_setup(struct console *c)
{
    sigset_t block;
    sigemptyset(&block);
    for (int i = 0; i < 4; i++)
        sigaddset(&block, relay_signals[i]);
    sigprocmask(SIG_BLOCK, &block, &c->saved_mask);
    c->relay_mask = c->saved_mask;
    for (int i = 0; i < 4; i++)
        sigdelset(&c->relay_mask, relay_signals[i]);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 4; i++)
        sigaction(relay_signals[i], &sa, &c->saved_act[i]);
    got_signal = 0;

    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved) == 0) {
        struct termios raw = c->saved;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
            c->tty = 1;
    }
}

/* ---- the relay -------------------------------------------------------------- */

/* Writes all of buf to fd; 0, or -1 with errno. */
static int write_all(int fd, const uint8_t *buf, size_t len, int is_socket)
{
    while (len > 0) {
        ssize_t n = is_socket ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Forwards keyboard input to the guest, watching for the detach sequence:
 * DETACH_PREFIX then DETACH_KEY detaches (*detach = 1); the prefix twice
 * sends one prefix; the prefix then any other byte sends both.
 */
static int forward_input(struct console *c, const uint8_t *in, size_t n, int *detach)
{
    uint8_t out[2 * 4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (c->prefix) {
            c->prefix = 0;
            if (b == DETACH_KEY || b == (DETACH_KEY - 'a' + 'A')) {
                *detach = 1;
                break;
            }
            if (b != DETACH_PREFIX)
                out[k++] = DETACH_PREFIX;
            out[k++] = b;
        } else if (b == DETACH_PREFIX) {
            c->prefix = 1;
        } else {
            out[k++] = b;
        }
    }
    return k ? write_all(c->sock, out, k, 1) : 0;
}

enum relay_end { END_NONE, END_DETACH, END_INPUT, END_PEER, END_SIGNAL, END_ERROR };

/* Copies what the guest sent to stdout. */
static enum relay_end from_guest(struct console *c, const char **err_what)
{
    uint8_t buf[4096];
    ssize_t n = read(c->sock, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
        return END_NONE;
    if (n < 0 && errno != ECONNRESET) {
        *err_what = "reading from the serial socket";
        return END_ERROR;
    }
    if (n <= 0)
        return END_PEER;
    if (write_all(STDOUT_FILENO, buf, (size_t)n, 0) < 0) {
        *err_what = "writing the output";
        return END_ERROR;
    }
    return END_NONE;
}

/* Sends what was typed to the guest, or detaches. */
static enum relay_end to_guest(struct console *c, const char **err_what)
{
    uint8_t buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
        return END_NONE;
    if (n < 0) {
        *err_what = "reading the input";
        return END_ERROR;
    }
    if (n == 0)
        return END_INPUT;
    int detach = 0;
    if (forward_input(c, buf, (size_t)n, &detach) < 0) {
        if (errno == EPIPE || errno == ECONNRESET)
            return END_PEER;
        *err_what = "writing to the serial socket";
        return END_ERROR;
    }
    return detach ? END_DETACH : END_NONE;
}

/* Relays both ways until one side ends, a signal arrives or I/O fails
 * (*err_what names the step, errno the reason). */
static enum relay_end relay(struct console *c, const char **err_what)
{
    enum relay_end end = END_NONE;
    while (end == END_NONE) {
        struct pollfd fds[2] = {
            {.fd = c->sock, .events = POLLIN},
            {.fd = STDIN_FILENO, .events = POLLIN},
        };
        int r = ppoll(fds, 2, NULL, &c->relay_mask);
        if (got_signal)
            return END_SIGNAL;
        if (r < 0 && errno != EINTR) {
            *err_what = "waiting for input";
            return END_ERROR;
        }
        if (r <= 0)
            continue;
        if (fds[0].revents)
            end = from_guest(c, err_what);
        if (end == END_NONE && fds[1].revents)
            end = to_guest(c, err_what);
    }
    return end;
}

/* ---- the command ------------------------------------------------------------ */

static int connect_socket(const char *path, int *out)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    *out = -1;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        cap_error_set(CAP_E_INVALIDARG, "capsule", NULL,
                      "the socket path '%s' is longer than %zu bytes", path,
                      sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        cap_error_set(CAP_E_IO, "capsule", NULL, "cannot connect to the serial socket '%s': %s%s",
                      path, strerror(e),
                      e == ENOENT || e == ECONNREFUSED
                          ? " (is the VM process running and listening on it?)"
                          : "");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *out = fd;
    return 0;
}

static int attach(const char *label, const char *path)
{
    struct console c = {.sock = -1};
    if (connect_socket(path, &c.sock) < 0)
        return cli_fail(CAP_E_IO, "connecting to the serial socket");
    console_setup(&c);
    /* In raw mode the terminal needs \r\n; on stderr, never in the output. */
    const char *nl = c.tty ? "\r\n" : "\n";
    fprintf(stderr, "Connected to %s. Detach with Ctrl-] q.%s", label, nl);
    const char *err_what = NULL;
    enum relay_end end = relay(&c, &err_what);
    int e = errno;
    console_close(&c);
    switch (end) {
    case END_DETACH:
    case END_INPUT:
        fprintf(stderr, "\nDetached from %s.\n", label);
        return CLI_EXIT_OK;
    case END_PEER:
        fprintf(stderr,
                "\nThe serial connection of %s was closed (the VM stopped or another "
                "console attached).\n",
                label);
        return CLI_EXIT_OK;
    case END_SIGNAL:
        fprintf(stderr, "\nDetached from %s (signal %d).\n", label, (int)got_signal);
        return CLI_EXIT_FAIL;
    default:
        fprintf(stderr, "\ncapsule: error: console: %s failed: %s\n", err_what, strerror(e));
        return CLI_EXIT_FAIL;
    }
}

static int console_vm(struct cli_ctx *ctx, const char *vm)
{
    char *path = NULL;
    int status = cli_with_vm(ctx, vm, CLI_MACHINE, serial_socket, &path);
    if (status != CLI_EXIT_OK)
        return status;
    /* The relay can last for hours: the service is not needed any more. */
    cli_disconnect(ctx);
    char label[256];
    snprintf(label, sizeof(label), "VM \"%s\" (serial port 1)", vm);
    status = attach(label, path);
    cap_str_free(path);
    return status;
}

struct console_args {
    const char *vm, *socket;
};

static const struct cli_arg console_args[] = {
    CLI_POS_OPT("VM", struct console_args, vm,
                "a running machine whose serial port 1 is a server socket\n"
                "(capsule modifyvm VM --uartmode1 server SOCKET)"),
    CLI_OPT("--socket", "PATH", cli_arg_nonempty, struct console_args, socket,
            "attach to the Unix socket PATH directly, without the service"),
    CLI_ARGS_END,
};

static int run_console(struct cli_ctx *ctx, void *args)
{
    const struct console_args *a = args;
    if (a->vm && a->socket)
        return cli_usage(ctx, "give either a VM or --socket PATH, not both");
    if (!a->vm && !a->socket)
        return cli_usage(ctx, CLI_VM_MISSING);
    if (a->socket) {
        char label[300];
        snprintf(label, sizeof(label), "the serial socket %s", a->socket);
        return attach(label, a->socket);
    }
    return console_vm(ctx, a->vm);
}

const struct cli_cmd cli_cmd_console = {
    .name = "console",
    .help = "attach the terminal to a running machine's serial port 1",
    .args = console_args,
    .args_size = sizeof(struct console_args),
    .run = run_console,
    .detail = "Give either VM or --socket PATH.\n"
              "\n"
              "The terminal is in raw mode: every key goes to the guest. Detach with\n"
              "Ctrl-] then q (Ctrl-] twice sends one Ctrl-]); the VM keeps running.\n"
              "The console also ends when standard input ends or the VM closes the\n"
              "connection (it powered off, or another console took the port). The guest's\n"
              "output goes to stdout unchanged, messages to stderr.\n"
              "\n"
              "Exit status: 0 after a detach or the end of the connection, 1 if the\n"
              "machine is not running, its port is not a server socket, the socket\n"
              "cannot be reached or a signal ended the console, 2 on a usage error.\n",
};
