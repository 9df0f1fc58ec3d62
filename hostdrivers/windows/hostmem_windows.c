/*
 * hostmem_windows.c - guest memory blocks on Windows (hostdrivers/hostmem.h).
 *
 * The usual block is one reservation: the whole span PAGE_NOACCESS, then the
 * usable middle committed read-write, so the guard regions at either end
 * fault on any access. Blocks of at least the large-page minimum (2 MiB) are
 * first tried as large pages - which Windows allocates only reserved and
 * committed at once (MEM_LARGE_PAGES) and only to a process holding
 * SeLockMemoryPrivilege - with the two guards reserved separately right
 * against them; if either guard address is taken, or the privilege is
 * missing, the block falls back to normal pages. Large-page blocks are
 * non-pageable and let WHP map guest RAM with 2 MiB second-level entries.
 *
 * Compile-only: cross-built with mingw-w64 and never run (README.md).
 */
#include <stdint.h>
#include <string.h>

#include <windows.h>

#include <capsule/errorinfo.h>

#include "hd_result.h"
#include "hostmem.h"

size_t hostmem_page_size(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize ? si.dwPageSize : 4096;
}

/* Enables SeLockMemoryPrivilege in the process token if the account has it
 * (an administrator grants it in "Lock pages in memory"). */
static cap_bool enable_lock_memory(void)
{
    HANDLE tok;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok))
        return CAP_FALSE;
    TOKEN_PRIVILEGES tp = {.PrivilegeCount = 1};
    cap_bool ok = CAP_FALSE;
    if (LookupPrivilegeValueA(NULL, "SeLockMemoryPrivilege", &tp.Privileges[0].Luid)) {
        tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
        ok = AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL) &&
             GetLastError() == ERROR_SUCCESS; /* ERROR_NOT_ALL_ASSIGNED: not held */
    }
    CloseHandle(tok);
    return ok;
}

/* Large pages with separately reserved guards; CAP_FALSE to fall back. */
static cap_bool alloc_large(struct hostmem_block *blk, size_t size)
{
    size_t large = GetLargePageMinimum();
    if (!large || size < large || size % large || !enable_lock_memory())
        return CAP_FALSE;
    uint8_t *base = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES,
                                 PAGE_READWRITE);
    if (!base)
        return CAP_FALSE;
    void *lo = VirtualAlloc(base - HOSTMEM_GUARD_SIZE, HOSTMEM_GUARD_SIZE, MEM_RESERVE,
                            PAGE_NOACCESS);
    void *hi = VirtualAlloc(base + size, HOSTMEM_GUARD_SIZE, MEM_RESERVE, PAGE_NOACCESS);
    if (lo != base - HOSTMEM_GUARD_SIZE || hi != base + size) {
        if (lo)
            VirtualFree(lo, 0, MEM_RELEASE);
        if (hi)
            VirtualFree(hi, 0, MEM_RELEASE);
        VirtualFree(base, 0, MEM_RELEASE);
        return CAP_FALSE;
    }
    blk->base = base;
    blk->size = size;
    blk->map_base = base - HOSTMEM_GUARD_SIZE;
    blk->map_size = size + 2 * HOSTMEM_GUARD_SIZE;
    blk->huge = CAP_TRUE;
    return CAP_TRUE;
}

uint64_t hostmem_host_ram(void)
{
    MEMORYSTATUSEX ms = {.dwLength = sizeof(ms)};
    return GlobalMemoryStatusEx(&ms) ? (uint64_t)ms.ullTotalPhys : 0;
}

cap_result hostmem_alloc(struct hostmem_block *blk, size_t size)
{
    memset(blk, 0, sizeof(*blk));
    size_t ps = hostmem_page_size();
    if (size == 0 || size > ((size_t)1 << 46))
        return cap_error_set(CAP_E_INVALIDARG, HD_COMPONENT, NULL, "hostmem: bad block size %llu",
                             (unsigned long long)size);
    size = (size + ps - 1) & ~(ps - 1);
    if (alloc_large(blk, size))
        return CAP_OK;
    /* HOSTMEM_GUARD_SIZE is the 64 KiB allocation granularity: the block
     * starts on a reservation boundary inside the span. */
    size_t span = size + 2 * HOSTMEM_GUARD_SIZE;
    uint8_t *map = VirtualAlloc(NULL, span, MEM_RESERVE, PAGE_NOACCESS);
    if (!map)
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL,
                             "hostmem: cannot reserve %llu bytes: error %lu",
                             (unsigned long long)span, (unsigned long)GetLastError());
    uint8_t *base = map + HOSTMEM_GUARD_SIZE;
    if (!VirtualAlloc(base, size, MEM_COMMIT, PAGE_READWRITE)) {
        DWORD err = GetLastError();
        VirtualFree(map, 0, MEM_RELEASE);
        return cap_error_set(CAP_E_OUTOFMEMORY, HD_COMPONENT, NULL,
                             "hostmem: cannot commit %llu bytes: error %lu",
                             (unsigned long long)size, (unsigned long)err);
    }
    blk->base = base;
    blk->size = size;
    blk->map_base = map;
    blk->map_size = span;
    return CAP_OK;
}

void hostmem_free(struct hostmem_block *blk)
{
    if (!blk)
        return;
    if (blk->map_base && blk->huge) { /* three allocations: guard, block, guard */
        uint8_t *base = blk->base;
        VirtualFree(base - HOSTMEM_GUARD_SIZE, 0, MEM_RELEASE);
        VirtualFree(base + blk->size, 0, MEM_RELEASE);
        VirtualFree(base, 0, MEM_RELEASE);
    } else if (blk->map_base)
        VirtualFree(blk->map_base, 0, MEM_RELEASE);
    memset(blk, 0, sizeof(*blk));
}
