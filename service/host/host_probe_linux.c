/*
 * service/host/host_probe_linux.c - the host description on Linux.
 *
 * Sources: sysconf for the processor count, /proc/cpuinfo for the model
 * string, speed and the vmx/svm flags, /proc/meminfo for memory, uname for
 * the OS, /dev/kvm (KVM_GET_API_VERSION) for the host driver. Files are read
 * with plain stdio; a missing line leaves the value unknown rather than
 * failing, since containers and odd kernels hide some of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <capsule/errorinfo.h>

#include "host_probe.h"

#define KVM_DEVICE "/dev/kvm"
#define KVM_STABLE_API 12 /* the only API version KVM has ever reported */

/* The value part of a "key<tabs>: value" line of a /proc file, or NULL. */
static const char *proc_value(const char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0)
        return NULL;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != ':')
        return NULL;
    line++;
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
        int start = p == list || p[-1] == ' ' || p[-1] == '\t';
        int end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
        if (start && end)
            return 1;
    }
    return 0;
}

static void copy_trimmed(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src);
    size_t n = strlen(dst);
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
}

void host_probe_cpu(struct host_cpu *cpu)
{
    memset(cpu, 0, sizeof(*cpu));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu->count = n > 0 ? (uint32_t)n : 1;

    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return;
    char line[4096];
    int seen_model = 0, seen_mhz = 0, seen_flags = 0;
    while (fgets(line, sizeof(line), f) && !(seen_model && seen_mhz && seen_flags)) {
        const char *v;
        if (!seen_model && (v = proc_value(line, "model name"))) {
            copy_trimmed(cpu->description, sizeof(cpu->description), v);
            seen_model = 1;
        } else if (!seen_mhz && (v = proc_value(line, "cpu MHz"))) {
            cpu->mhz = (uint32_t)(strtod(v, NULL) + 0.5);
            seen_mhz = 1;
        } else if (!seen_flags && (v = proc_value(line, "flags"))) {
            cpu->hw_virt = has_word(v, "vmx") || has_word(v, "svm");
            seen_flags = 1;
        }
    }
    fclose(f);

    /* The nominal (maximum) frequency is better than the current one. */
    f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "re");
    if (f) {
        unsigned long khz;
        if (fscanf(f, "%lu", &khz) == 1 && khz > 0)
            cpu->mhz = (uint32_t)(khz / 1000);
        fclose(f);
    }
}

cap_result host_probe_memory(uint32_t *total_mb, uint32_t *avail_mb)
{
    *total_mb = *avail_mb = 0;
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return cap_error_set(CAP_E_HOST_ERROR, "capsule-host", "IHost",
                             "cannot read /proc/meminfo: %s", strerror(errno));
    char line[256];
    int got = 0;
    while (fgets(line, sizeof(line), f)) {
        const char *v;
        if ((v = proc_value(line, "MemTotal"))) {
            *total_mb = (uint32_t)(strtoull(v, NULL, 10) / 1024);
            got |= 1;
        } else if ((v = proc_value(line, "MemAvailable"))) {
            *avail_mb = (uint32_t)(strtoull(v, NULL, 10) / 1024);
            got |= 2;
        }
    }
    fclose(f);
    if (got != 3)
        return cap_error_set(CAP_E_HOST_ERROR, "capsule-host", "IHost",
                             "/proc/meminfo lacks MemTotal or MemAvailable");
    return CAP_OK;
}

cap_result host_probe_os(char *name, size_t name_len, char *version, size_t version_len)
{
    struct utsname u;
    if (uname(&u) != 0)
        return cap_error_set(CAP_E_HOST_ERROR, "capsule-host", "IHost", "uname: %s",
                             strerror(errno));
    snprintf(name, name_len, "%s", u.sysname);
    snprintf(version, version_len, "%s", u.release);
    return CAP_OK;
}

void host_probe_driver(struct host_driver *drv)
{
    memset(drv, 0, sizeof(*drv));
    drv->kind = HostDriverKind_Kvm;
    int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(drv->status, sizeof(drv->status), "%s: %s", KVM_DEVICE, strerror(errno));
        return;
    }
    int api = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_STABLE_API) {
        snprintf(drv->status, sizeof(drv->status), "%s: unsupported KVM API version %d",
                 KVM_DEVICE, api);
        close(fd);
        return;
    }
    int max_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    close(fd);

    struct host_cpu cpu;
    host_probe_cpu(&cpu);
    drv->available = CAP_TRUE;
    snprintf(drv->status, sizeof(drv->status), "KVM API %d on %s, up to %d vCPUs%s", api,
             KVM_DEVICE, max_vcpus > 0 ? max_vcpus : 1,
             cpu.hw_virt ? ""
                         : "; no VT-x/AMD-V reported: guest kernel code may be emulated slowly");
}

void host_probe_time(int64_t *utc_ms, int16_t *offset_min)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *utc_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    struct tm tm;
    time_t now = ts.tv_sec;
    *offset_min = localtime_r(&now, &tm) ? (int16_t)(tm.tm_gmtoff / 60) : 0;
}
