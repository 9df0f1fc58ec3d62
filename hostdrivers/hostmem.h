/*
 * hostdrivers/hostmem.h - guest memory from the host, the contract every
 * host-driver backend implements (hostdrivers/linux/hostmem_linux.c now,
 * hostdrivers/windows/hostmem_windows.c in the mingw-w64 cross-build; the
 * build picks the file).
 *
 * PGM allocates guest RAM and ROM backing here and nowhere else, so that the
 * memory is laid out the way the host's hypervisor interface wants it
 * (page-aligned, hugepage-friendly) and is fenced by inaccessible guard
 * pages: a VMM bug that runs off either end of a block faults at once
 * instead of corrupting the heap.
 *
 * Thread-safety: the functions keep no global state; a block may be used from
 * any thread.
 */
#ifndef HOSTDRIVERS_HOSTMEM_H
#define HOSTDRIVERS_HOSTMEM_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/result.h>

#define HOSTMEM_GUARD_SIZE ((size_t)64 * 1024) /* inaccessible bytes at each end */

struct hostmem_block {
    void *base;     /* first usable byte, page-aligned; NULL when not allocated */
    size_t size;    /* usable bytes (a multiple of the host page size) */
    void *map_base; /* whole mapping including guards (backend-private) */
    size_t map_size;
    cap_bool huge;  /* the backend asked the host for huge pages */
};

/*
 * Allocates `size` bytes (rounded up to the host page size) of zeroed,
 * read-write memory with a guard region before and after it. On hosts that
 * offer transparent huge pages the block is aligned to 2 MiB and advised to
 * use them. Fills *blk; on failure *blk is left empty and the error is
 * CAP_E_INVALIDARG (size 0) or CAP_E_OUTOFMEMORY, with error info.
 */
cap_result hostmem_alloc(struct hostmem_block *blk, size_t size);

/* Releases a block; an empty or already-freed block is fine. */
void hostmem_free(struct hostmem_block *blk);

/* The host's physical memory in bytes (Linux: MemTotal; 0 if unknown).
 * vm_create refuses more guest RAM than this unless forced: blocks are
 * reserved lazily, so the limit is what the guest could touch. */
uint64_t hostmem_host_ram(void);

/* Host page size in bytes. */
size_t hostmem_page_size(void);

#endif /* HOSTDRIVERS_HOSTMEM_H */
