/*
 * vmm/pgm/pgm.h - PGM, the page manager: the guest-physical address map and
 * the one guest page-table walker.
 *
 * The map is a sorted array of non-overlapping ranges, each RAM, ROM or MMIO:
 *   RAM   host memory from the host-driver layer (hostdrivers/hostmem.h),
 *         guard pages around it, huge pages where the host offers them;
 *   ROM   the same kind of memory, read-only to the guest (writes ignored);
 *   MMIO  no memory: every access is handed to the owner's callbacks.
 * Addresses not covered by any range are unassigned: reads give all ones,
 * writes are dropped (as on a PC's bus).
 *
 * Engines learn about RAM and ROM through listeners (pgm_add_listener): hm
 * maps them into KVM memory slots; accesses to anything else come back as
 * MMIO exits and land in pgm_phys_read/write.
 *
 * Dirty tracking (a device's RAM shown to the guest, e.g. the VGA's linear
 * framebuffer as a PCI BAR): pgm_map_ram_external maps memory the caller
 * owns as RAM; with PGM_RAM_TRACK_DIRTY, PGM keeps a bitmap of the pages
 * the guest wrote (struct pgm_range.dirty), which every writer of guest RAM
 * marks: pgm_phys_write and device DMA (pgm_dirty_mark), rem when it hands
 * out a host pointer for writing (its TLB: see rem_mem.c for how JIT'd
 * stores are covered), hm through the hypervisor's dirty log (the
 * listener's dirty_log, KVM_GET_DIRTY_LOG). pgm_dirty_collect takes the
 * bits and clears them.
 *
 * The walker (pgm_walk) translates a linear address under the paging mode
 * given by CR0/CR4/EFER - none (real mode or paging off), 32-bit (with PSE
 * and PSE-36), PAE, 4-level long mode - checking present, reserved bits,
 * U/S, R/W (with CR0.WP), NX, and setting accessed/dirty bits as the CPU
 * would. A fault is a value: VMM_XCPT_PF with the error code and CR2 in the
 * result struct (or VMM_XCPT_GP for a non-canonical address). Every engine
 * and the debugger use this one walker.
 *
 * Threads: changing the map (map/unmap) is for the EMT during setup or with
 * all vCPUs stopped; reads of the map and the walker may run on any vCPU
 * thread concurrently (A/D updates to RAM are atomic).
 */
#ifndef VMM_PGM_H
#define VMM_PGM_H

#include <stddef.h>
#include <stdint.h>

#include <capsule/types.h>

#include "cpum/cpum.h"
#include "vmm_result.h"

#define PGM_PAGE_SIZE  4096u
#define PGM_PAGE_MASK  0xfffull
#define PGM_MAX_RANGES 64
#define PGM_MAX_LISTENERS 4

enum pgm_range_kind { PGM_RANGE_RAM, PGM_RANGE_ROM, PGM_RANGE_MMIO };

/*
 * MMIO callbacks of a range's owner. `off` is relative to the range start;
 * size is 1, 2, 4 or 8 (an access that straddles the range end is split).
 * Data is little-endian in `data`. A read callback must fill all `size`
 * bytes. Return CAP_OK; a failure is passed back to the caller of
 * pgm_phys_read/write (which stops the access, not the VM).
 */
struct pgm_mmio_ops {
    cap_result (*read)(void *opaque, uint64_t off, void *data, unsigned size);
    cap_result (*write)(void *opaque, uint64_t off, const void *data, unsigned size);
};

struct pgm_range {
    uint64_t gpa, size;
    enum pgm_range_kind kind;
    char name[32];
    uint8_t *hva; /* RAM/ROM: host address of gpa; NULL for MMIO */
    const struct pgm_mmio_ops *ops;
    void *opaque;
    /* RAM with PGM_RAM_TRACK_DIRTY: one bit per page (bit p % 64 of word
     * p / 64), set atomically by writers, taken by pgm_dirty_collect;
     * NULL otherwise. Freed with the range. */
    uint64_t *dirty;
    cap_bool external; /* hva is the caller's (pgm_map_ram_external) */
};

/*
 * Told about each RAM/ROM range added (added = true) or removed (an engine
 * maps it into the hypervisor, or drops host pointers it cached). Removal
 * is told while the range is still in the map, so marking its pages dirty
 * then is fine. Listeners run on the thread that changes the map.
 * dirty_log (optional): an engine that lets the guest write tracked RAM
 * without PGM seeing it (hm) ORs the pages written since its last call
 * into `bits` (the range's pages, bit layout of pgm_range.dirty) with
 * atomic ORs, and clears its own log; called by pgm_dirty_collect.
 */
struct pgm_listener {
    cap_result (*changed)(void *opaque, const struct pgm_range *range, cap_bool added);
    void *opaque;
    cap_result (*dirty_log)(void *opaque, const struct pgm_range *range, uint64_t *bits);
};

struct pgm;

/* Creates an empty map. Free with pgm_destroy (which frees all RAM/ROM). */
VMM_API cap_result pgm_create(struct pgm **out);
VMM_API void pgm_destroy(struct pgm *pgm);

/*
 * Adds RAM at [gpa, gpa+size): page-aligned, non-empty, not wrapping 2^52.
 * Memory is zeroed. VMM_E_RANGE_OVERLAP (message naming both ranges) if it
 * overlaps anything mapped; CAP_E_OUTOFMEMORY; a listener's failure undoes
 * the mapping.
 */
VMM_API cap_result pgm_map_ram(struct pgm *pgm, uint64_t gpa, uint64_t size, const char *name);

/* Adds ROM with `len` bytes of `data` at its start (rest zero); len <= size. */
VMM_API cap_result pgm_map_rom(struct pgm *pgm, uint64_t gpa, uint64_t size, const void *data,
                               size_t len, const char *name);

/*
 * Adds RAM at [gpa, gpa+size) backed by the caller's memory `hva` (size
 * bytes, page-aligned, kept alive and in place until the range is
 * unmapped; PGM never frees it and does not clear it). flags:
 * PGM_RAM_TRACK_DIRTY keeps a dirty bitmap (all pages dirty at first).
 * Errors as pgm_map_ram, CAP_E_POINTER for a NULL or misaligned hva.
 */
#define PGM_RAM_TRACK_DIRTY 0x1u
VMM_API cap_result pgm_map_ram_external(struct pgm *pgm, uint64_t gpa, uint64_t size, void *hva,
                                        unsigned flags, const char *name);

/*
 * Takes the dirty pages of the tracked RAM range that starts at gpa: asks
 * the listeners' dirty_log, then moves the range's bits into `bitmap`
 * (npages bits, range layout; pages past the range are left alone, bits
 * past npages stay in the range) and clears them. Any thread, concurrently
 * with guest writes (a write racing with the collect shows in this or the
 * next one), but not with changes of the map (the caller serialises: PDM's
 * device lock). VMM_E_RANGE_NOT_FOUND if no tracked RAM range starts at gpa.
 */
VMM_API cap_result pgm_dirty_collect(struct pgm *pgm, uint64_t gpa, uint64_t *bitmap,
                                     uint64_t npages);

/* Marks [gpa, gpa+len) dirty where it lies in tracked RAM (nothing
 * elsewhere). For writers that bypass pgm_phys_write: DMA, engines. Any
 * thread (atomic). */
VMM_API void pgm_dirty_mark(const struct pgm *pgm, uint64_t gpa, uint64_t len);

/* Adds an MMIO range; ops and opaque must outlive it. No alignment needed. */
VMM_API cap_result pgm_map_mmio(struct pgm *pgm, uint64_t gpa, uint64_t size,
                                const struct pgm_mmio_ops *ops, void *opaque, const char *name);

/* Removes the range that starts at gpa. VMM_E_RANGE_NOT_FOUND if none. */
VMM_API cap_result pgm_unmap(struct pgm *pgm, uint64_t gpa);

/* Range containing gpa or NULL. Valid until the map next changes. */
VMM_API const struct pgm_range *pgm_find(const struct pgm *pgm, uint64_t gpa);
VMM_API unsigned pgm_range_count(const struct pgm *pgm);
VMM_API const struct pgm_range *pgm_range_at(const struct pgm *pgm, unsigned i);

/*
 * Registers a listener and replays the existing RAM/ROM ranges to it.
 * Returns the listener's first failure (and keeps it unregistered).
 */
VMM_API cap_result pgm_add_listener(struct pgm *pgm, const struct pgm_listener *l);
VMM_API void pgm_remove_listener(struct pgm *pgm, const struct pgm_listener *l);

/*
 * Host pointer for [gpa, gpa+len) when it lies inside a single RAM range
 * (or ROM when !writable); NULL otherwise.
 */
VMM_API void *pgm_gpa_to_hva(const struct pgm *pgm, uint64_t gpa, size_t len, cap_bool writable);

/*
 * Physical reads and writes that follow the map: RAM and ROM directly, ROM
 * writes ignored, MMIO through the owner's callbacks (in pieces of at most
 * 8 bytes, naturally aligned where possible), unassigned as all ones /
 * dropped. Accesses may span ranges. Returns CAP_OK or an MMIO callback's
 * failure.
 */
VMM_API cap_result pgm_phys_read(struct pgm *pgm, uint64_t gpa, void *buf, size_t len);
VMM_API cap_result pgm_phys_write(struct pgm *pgm, uint64_t gpa, const void *buf, size_t len);

/* ---- the guest page-table walker --------------------------------------- */

enum pgm_mode { PGM_MODE_NONE, PGM_MODE_32BIT, PGM_MODE_PAE, PGM_MODE_LONG };

/* Access kinds for pgm_walk (combine). */
#define PGM_ACC_READ   0u
#define PGM_ACC_WRITE  (1u << 0)
#define PGM_ACC_EXEC   (1u << 1)
#define PGM_ACC_USER   (1u << 2) /* a user-mode access (CPL 3, not an implicit supervisor access) */
#define PGM_ACC_NO_AD  (1u << 3) /* debugger: do not set accessed/dirty bits */
/* An explicit supervisor data access with EFLAGS.AC = 1: CR4.SMAP lets it
 * reach user pages (implicit accesses - descriptor tables, TSS - and those
 * with AC = 0 fault there). Without it, a supervisor data access to a user
 * page faults when CR4.SMAP is set; a supervisor fetch from one faults when
 * CR4.SMEP is set (SDM Vol. 3A, 4.6). */
#define PGM_ACC_AC     (1u << 4)

/* #PF error code bits. */
#define PGM_PF_P    (1u << 0)
#define PGM_PF_W    (1u << 1)
#define PGM_PF_U    (1u << 2)
#define PGM_PF_RSVD (1u << 3)
#define PGM_PF_ID   (1u << 4)

struct pgm_paging {
    uint64_t cr0, cr3, cr4, efer;
    unsigned phys_addr_bits; /* MAXPHYADDR of the policy */
    cap_bool pdpe1gb;        /* 1 GiB pages allowed */
};

struct pgm_walk {
    uint64_t gpa;          /* translated address (valid on CAP_OK) */
    uint64_t page_size;    /* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
    cap_bool writable, user, nx; /* effective rights of the translation */
    uint32_t error_code;   /* #PF error code (valid on VMM_XCPT_PF) */
    uint64_t cr2;          /* faulting linear address (valid on VMM_XCPT_PF) */
    unsigned level;        /* level of the entry that faulted or mapped (1 = PTE) */
};

/* Paging mode and inputs from a context and its policy. */
VMM_API void pgm_paging_from_ctx(struct pgm_paging *pg, const struct cpum_cpu *cpu);
VMM_API enum pgm_mode pgm_mode_of(const struct pgm_paging *pg);

/* Access kind flags for an access by code at the context's CPL. */
VMM_API unsigned pgm_access_for_cpl(unsigned cpl, unsigned access);

/*
 * Translates linear address `va` for an access of kind `access`. Returns
 * CAP_OK with the translation, VMM_XCPT_PF (error code and CR2 in *w), or
 * VMM_XCPT_GP for a non-canonical address in long mode. A/D bits are set
 * only on success (unless PGM_ACC_NO_AD). Never sets error info.
 */
VMM_API cap_result pgm_walk(struct pgm *pgm, const struct pgm_paging *pg, uint64_t va,
                            unsigned access, struct pgm_walk *w);

/*
 * Reads `len` bytes at linear address va (crossing pages as needed) with the
 * given access kind - what an emulator or debugger does. Faults as pgm_walk.
 */
VMM_API cap_result pgm_virt_read(struct pgm *pgm, const struct pgm_paging *pg, uint64_t va,
                                 void *buf, size_t len, unsigned access, struct pgm_walk *w);

#endif /* VMM_PGM_H */
