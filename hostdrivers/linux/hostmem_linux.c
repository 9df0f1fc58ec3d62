/*
 * hostmem_linux.c - guest memory blocks on Linux (hostdrivers/hostmem.h).
 *
 * One anonymous private mapping per block: PROT_NONE for the whole span,
 * then the usable middle is made read-write. Blocks of 2 MiB and more are
 * placed on a 2 MiB boundary and advised MADV_HUGEPAGE, so that with THP the
 * guest's RAM is backed by huge pages and KVM can map it with large EPT/NPT
 * (or shadow) entries. MADV_DONTDUMP keeps guest RAM out of core dumps of
 * the VM process.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <capsule/errorinfo.h>

#include "hd_result.h"
#include "hostmem.h"

#define HUGE_2M ((size_t)2 * 1024 * 1024)

size_t hostmem_page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

uint64_t hostmem_host_ram(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
    return pages > 0 && ps > 0 ? (uint64_t)pages * (uint64_t)ps : 0;
}

cap_result hostmem_alloc(struct hostmem_block *blk, size_t size)
{
    memset(blk, 0, sizeof(*blk));
    size_t ps = hostmem_page_size();
    if (size == 0 || size > ((size_t)1 << 46))
        return cap_error_set(CAP_E_INVALIDARG, HD_COMPONENT, NULL, "hostmem: bad block size %zu",
                             size);
    size = (size + ps - 1) & ~(ps - 1);
    size_t align = size >= HUGE_2M ? HUGE_2M : ps;
    size_t span = size + 2 * HOSTMEM_GUARD_SIZE + align;
    uint8_t *map = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL,
                             "hostmem: cannot reserve %zu bytes: %s", span, strerror(errno));
    uintptr_t base = ((uintptr_t)map + HOSTMEM_GUARD_SIZE + align - 1) & ~(uintptr_t)(align - 1);
    if (mprotect((void *)base, size, PROT_READ | PROT_WRITE) != 0) {
        int err = errno;
        munmap(map, span);
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL,
                             "hostmem: cannot commit %zu bytes: %s", size, strerror(err));
    }
#ifdef MADV_HUGEPAGE
    if (align == HUGE_2M && madvise((void *)base, size, MADV_HUGEPAGE) == 0)
        blk->huge = CAP_TRUE;
#endif
#ifdef MADV_DONTDUMP
    (void)madvise((void *)base, size, MADV_DONTDUMP);
#endif
    blk->base = (void *)base;
    blk->size = size;
    blk->map_base = map;
    blk->map_size = span;
    return CAP_OK;
}

void hostmem_free(struct hostmem_block *blk)
{
    if (blk && blk->map_base)
        munmap(blk->map_base, blk->map_size);
    if (blk)
        memset(blk, 0, sizeof(*blk));
}
