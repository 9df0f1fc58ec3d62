/*
 * util.c - helpers of the capsule-idlc tests (see idlc_test.h): run the
 * compiler with its output captured, temporary directories, files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idlc_test.h"

char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            ck_assert_ptr_nonnull(b);
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;

    ck_assert_int_ge(asprintf(&path, "%s/idlc-test.XXXXXX", base ? base : "/tmp"), 0);
    ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp: %s", strerror(errno));
    return path;
}

void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = NULL;
        ck_assert_int_ge(asprintf(&p, "%s/%s", dir, e->d_name), 0);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

char *src_path(const char *rel)
{
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/%s", IDLC_SRCDIR, rel), 0);
    return p;
}

void idlc_run(struct idlc_run *r, const char *const *args)
{
    char *dir = make_temp_dir(), *out_path = NULL, *err_path = NULL;
    size_t n = 0;

    while (args[n])
        n++;
    const char **argv = calloc(n + 2, sizeof(*argv));
    ck_assert_ptr_nonnull(argv);
    argv[0] = IDLC_PATH;
    memcpy(argv + 1, args, n * sizeof(*argv));
    ck_assert_int_ge(asprintf(&out_path, "%s/stdout", dir), 0);
    ck_assert_int_ge(asprintf(&err_path, "%s/stderr", dir), 0);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        execv(IDLC_PATH, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r->out = read_text(out_path, NULL);
    r->err = read_text(err_path, NULL);
    ck_assert_ptr_nonnull(r->out);
    ck_assert_ptr_nonnull(r->err);
    free(argv);
    free(out_path);
    free(err_path);
    rm_tree(dir);
    free(dir);
}

void idlc_run_free(struct idlc_run *r)
{
    free(r->err);
    free(r->out);
    r->err = r->out = NULL;
}
