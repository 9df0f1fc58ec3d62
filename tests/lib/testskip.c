/*
 * tests/lib/testskip.c - recording skipped test parts and deciding whether
 * KVM is usable, for the C test programs (contract in testskip.h; the
 * shell scripts' twin is tests/lib/skip.sh).
 */
#include "testskip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int env_on(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

void test_skip(const char *test, const char *reason)
{
    printf("SKIP: %s: %s\n", test, reason);
    fflush(stdout);
    const char *file = getenv("CAPSULE_SKIPS");
    if (!file || !*file)
        return;
    char line[1024];
    int len = snprintf(line, sizeof(line), "%s: %s\n", test, reason);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof(line)) {
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot record the skip in %s: %s\n", test, file, strerror(errno));
        return;
    }
    if (write(fd, line, (size_t)len) != len)
        fprintf(stderr, "%s: cannot record the skip in %s\n", test, file);
    close(fd);
}

int test_kvm_usable(char *why, size_t n)
{
    const char *dev = getenv("CAPSULE_KVM_DEVICE");
    struct stat st;
    if (!dev || !*dev)
        dev = "/dev/kvm";
    if (env_on("CAPSULE_SKIP_KVM")) {
        snprintf(why, n, "CAPSULE_SKIP_KVM=%s", getenv("CAPSULE_SKIP_KVM"));
        return 0;
    }
    if (stat(dev, &st) != 0) {
        if (errno == ENOENT)
            snprintf(why, n, "no %s on this host", dev);
        else
            snprintf(why, n, "%s: %s", dev, strerror(errno));
        return 0;
    }
    if (!S_ISCHR(st.st_mode)) {
        snprintf(why, n, "%s is not a character device", dev);
        return 0;
    }
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, n, "%s does not open read-write (uid %u): %s", dev, (unsigned)getuid(),
                 strerror(errno));
        return 0;
    }
    close(fd);
    return 1;
}

int test_need_kvm(const char *test)
{
    char why[512], reason[600];
    if (test_kvm_usable(why, sizeof(why)))
        return 1;
    if (env_on("CAPSULE_REQUIRE_KVM")) {
        fprintf(stderr, "FAIL: %s: needs KVM, and CAPSULE_REQUIRE_KVM=1 says this machine has "
                        "it: %s\n", test, why);
        return -1;
    }
    snprintf(reason, sizeof(reason), "no usable KVM (%s)", why);
    test_skip(test, reason);
    return 0;
}

int test_host_hw_virt(void)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    char line[8192];
    int found = 0;
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *w = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n"); w;
             w = strtok(NULL, " \t\n"))
            found |= !strcmp(w, "vmx") || !strcmp(w, "svm");
        break;
    }
    fclose(f);
    return found;
}
