/*
 * kvm_bare.c - the limit column of `scons bench-vm`: the least a VMM can
 * do around KVM_RUN. It boots a multiboot v1 ELF32 (the same payloads
 * capsule-vm and QEMU boot) on /dev/kvm directly: one memory slot, the
 * supported CPUID, flat 32-bit protected mode at the entry with the
 * multiboot registers, and a loop that answers each exit inline - COM1
 * output to stdout (LSR always ready), OUT to port 0xf4 ends the process
 * with QEMU isa-debug-exit's status (V << 1) | 1, every other port is
 * ignored (reads give all ones), HLT sleeps until a signal ends it.
 *
 *   kvm_bare [--memory MB] [--stats] KERNEL.elf
 *   kvm_bare --tsc-khz          the guest TSC rate KVM gives a new vCPU
 *
 * --stats prints to stderr, when the guest exits: main() to the first
 * KVM_RUN, the number of exits, the time since the first KVM_RUN and the
 * part of it spent inside KVM_RUN.
 *
 * No device model, no register sync, no statistics on the hot path: a
 * benchmark tool, not part of Capsule (it never links the VMM), so it may
 * exit() on errors.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MB_HEADER_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC   0x2badb002u
#define MB_INFO_ADDR    0x9000u
#define COM1            0x3f8
#define DEBUG_EXIT      0xf4

struct bare {
    int kvm, vm, vcpu;
    struct kvm_run *run;
    uint8_t *ram;
    uint64_t ram_size;
};

static void die(const char *what)
{
    fprintf(stderr, "kvm_bare: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "kvm_bare: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void vm_open(struct bare *b, uint64_t ram_size)
{
    b->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (b->kvm < 0)
        die("/dev/kvm");
    b->vm = ioctl(b->kvm, KVM_CREATE_VM, 0);
    if (b->vm < 0)
        die("KVM_CREATE_VM");
    /* Needed on Intel without unrestricted guest; harmless elsewhere. */
    ioctl(b->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    b->ram_size = ram_size;
    b->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
    if (b->ram == MAP_FAILED)
        die("mmap guest RAM");
    struct kvm_userspace_memory_region r = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
        .userspace_addr = (uint64_t)(uintptr_t)b->ram,
    };
    if (ioctl(b->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        die("KVM_SET_USER_MEMORY_REGION");
    b->vcpu = ioctl(b->vm, KVM_CREATE_VCPU, 0);
    if (b->vcpu < 0)
        die("KVM_CREATE_VCPU");
    int size = ioctl(b->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0)
        die("KVM_GET_VCPU_MMAP_SIZE");
    b->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, b->vcpu, 0);
    if (b->run == MAP_FAILED)
        die("mmap kvm_run");

    /* Long mode needs CPUID.LM in the vCPU's CPUID (EFER.LME is refused
     * otherwise): give it what KVM supports. */
    int n = 256;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
    if (!c)
        die("calloc");
    c->nent = (uint32_t)n;
    if (ioctl(b->kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
        die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(b->vcpu, KVM_SET_CPUID2, c) < 0)
        die("KVM_SET_CPUID2");
    free(c);
}

/* Copies the PT_LOAD segments of a multiboot ELF32 into RAM; the entry. */
static uint32_t load_elf(struct bare *b, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        die(path);
    size_t len = (size_t)st.st_size;
    uint8_t *img = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (img == MAP_FAILED)
        die(path);
    close(fd);
    const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
    if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS32
        || eh->e_machine != EM_386 || eh->e_phentsize != sizeof(Elf32_Phdr)
        || eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len)
        fail("%s: not an ELF32 i386 image", path);
    int found = 0;
    for (size_t off = 0; off + 12 <= len && off < 8192; off += 4) {
        const uint32_t *h = (const uint32_t *)(img + off);
        if (h[0] == MB_HEADER_MAGIC && h[0] + h[1] + h[2] == 0) {
            found = 1;
            break;
        }
    }
    if (!found)
        fail("%s: no multiboot header in the first 8 KiB", path);
    const Elf32_Phdr *ph = (const Elf32_Phdr *)(img + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
            continue;
        if (ph[i].p_filesz > ph[i].p_memsz || (uint64_t)ph[i].p_offset + ph[i].p_filesz > len
            || (uint64_t)ph[i].p_paddr + ph[i].p_memsz > b->ram_size || ph[i].p_paddr < 0x100000)
            fail("%s: a segment is outside the file or guest RAM", path);
        memcpy(b->ram + ph[i].p_paddr, img + ph[i].p_offset, ph[i].p_filesz);
        memset(b->ram + ph[i].p_paddr + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
    }
    uint32_t entry = eh->e_entry;
    munmap(img, len);
    return entry;
}

/* The multiboot machine state: flat 32-bit protected mode, paging off,
 * EAX = boot magic, EBX = an info block with the memory sizes. */
static void set_boot_state(struct bare *b, uint32_t entry)
{
    uint32_t *mbi = (uint32_t *)(b->ram + MB_INFO_ADDR);
    memset(mbi, 0, 88);
    mbi[0] = 1; /* flags: mem_lower/mem_upper valid */
    mbi[1] = 639;
    mbi[2] = (uint32_t)((b->ram_size - 0x100000) / 1024);

    struct kvm_sregs s;
    if (ioctl(b->vcpu, KVM_GET_SREGS, &s) < 0)
        die("KVM_GET_SREGS");
    struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 0xb,
                               .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
    struct kvm_segment data = code;
    data.selector = 0x10;
    data.type = 0x3;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.cr0 = 0x11; /* PE | ET */
    s.cr4 = 0;
    s.efer = 0;
    if (ioctl(b->vcpu, KVM_SET_SREGS, &s) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs r = {.rip = entry, .rax = MB_BOOT_MAGIC, .rbx = MB_INFO_ADDR, .rflags = 2};
    if (ioctl(b->vcpu, KVM_SET_REGS, &r) < 0)
        die("KVM_SET_REGS");
}

static uint8_t port_in(uint16_t port)
{
    return port == COM1 + 5 ? 0x60 : 0xff; /* LSR: THR empty, idle */
}

/* Handles one I/O exit; returns >= 0 (the exit status) when the guest ends. */
static int io_exit(struct bare *b)
{
    struct kvm_run *run = b->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
        if (run->io.direction == KVM_EXIT_IO_IN) {
            memset(data, port_in(run->io.port), run->io.size);
            continue;
        }
        if (run->io.port == DEBUG_EXIT) {
            uint32_t v = 0;
            memcpy(&v, data, run->io.size);
            return (int)(((v << 1) | 1) & 0xff);
        }
        if (run->io.port == COM1) {
            putchar(data[0]);
            if (data[0] == '\n')
                fflush(stdout);
        }
    }
    return -1;
}

static int tsc_khz(void)
{
    struct bare b;
    vm_open(&b, 1 << 20);
    int khz = ioctl(b.vcpu, KVM_GET_TSC_KHZ, 0);
    if (khz <= 0)
        die("KVM_GET_TSC_KHZ");
    printf("%d\n", khz);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t t_main = now_ns();
    uint64_t mem_mb = 64;
    int stats = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--tsc-khz"))
            return tsc_khz();
        if (!strcmp(argv[i], "--stats"))
            stats = 1;
        else if (!strcmp(argv[i], "--memory") && i + 1 < argc)
            mem_mb = strtoull(argv[++i], NULL, 0);
        else
            fail("unknown option %s (usage: kvm_bare [--memory MB] [--stats] KERNEL)", argv[i]);
    }
    if (i + 1 != argc || mem_mb < 2 || mem_mb > 3072)
        fail("%s", "usage: kvm_bare [--memory MB (2..3072)] [--stats] KERNEL | kvm_bare --tsc-khz");

    struct bare b;
    vm_open(&b, mem_mb << 20);
    set_boot_state(&b, load_elf(&b, argv[i]));

    uint64_t first_run = 0, in_run = 0, exits = 0;
    int status = -1;
    while (status < 0) {
        uint64_t t0 = now_ns();
        if (!first_run)
            first_run = t0;
        int r = ioctl(b.vcpu, KVM_RUN, 0);
        in_run += now_ns() - t0;
        exits++;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            die("KVM_RUN");
        }
        switch (b.run->exit_reason) {
        case KVM_EXIT_IO:
            status = io_exit(&b);
            break;
        case KVM_EXIT_HLT:
            fflush(stdout);
            for (;;)
                pause(); /* idle until a signal ends the process */
        case KVM_EXIT_MMIO:
            if (!b.run->mmio.is_write)
                memset(b.run->mmio.data, 0xff, sizeof(b.run->mmio.data));
            break;
        default:
            fprintf(stderr, "kvm_bare: guest stopped: KVM exit reason %u\n", b.run->exit_reason);
            status = 3;
        }
    }
    fflush(stdout);
    if (stats)
        fprintf(stderr,
                "kvm_bare: start to first KVM_RUN %.3f ms (from main()); %llu exits in "
                "%.3f ms, %.3f ms of it in KVM_RUN\n",
                (first_run - t_main) / 1e6, (unsigned long long)exits,
                (now_ns() - first_run) / 1e6, in_run / 1e6);
    return status;
}
