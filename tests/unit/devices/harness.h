/*
 * tests/unit/devices/harness.h - a fake VMM for device tests.
 *
 * Builds what a VM process builds around its devices - a registry reading
 * BUILD/lib/components, an IOM, a TM on a fake clock, a PDM - and records
 * what devices do to the rest of the machine: IRQ lines (the fake IRQ sink,
 * used while no interrupt controller is configured), the CPU's INTR pin,
 * power-off and reset requests, A20, NMIs, log lines. Guest memory is a flat
 * buffer of HARNESS_RAM bytes for DMA. RAM-backed BARs (pdmpci.h) land in a
 * real PGM (h->pgm), which h_mmio_in/out read and write first; with
 * h_mirror_mmio, IOM's MMIO ranges are PGM ranges too (as in a VM), so
 * overlaps between the two are refused.
 */
#ifndef TESTS_DEVICES_HARNESS_H
#define TESTS_DEVICES_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <capsule/errorinfo.h>
#include <capsule/registry.h>

#include "../../../vmm/iom/iom.h"
#include "../../../vmm/pdm/pdm.h"
#include "../../../vmm/pgm/pgm.h"
#include "../../../vmm/tm/tm.h"

#define HARNESS_RAM (1u << 20)

struct harness {
    struct cap_registry *reg;
    struct iom *iom;
    struct tm_clock *tm;
    struct pdm *pdm;
    uint64_t host_ns; /* the fake host clock */
    int irq_level[24];
    unsigned irq_raises[24]; /* 0 -> 1 transitions */
    int intr;
    int power_offs, exit_code, resets, a20;
    int nmis;
    uint64_t apic_base; /* what the CPU's IA32_APIC_BASE says (cpu_apic_base) */
    char log[8192]; /* every log line, '\n'-separated */
    uint8_t *ram;
    struct pgm *pgm; /* RAM-backed BARs (map_ram), and MMIO after h_mirror_mmio */
};

/* Runs a suite of one test case (the fixture set up here) and frees it:
 * main()'s exit status. */
int h_run_case(const char *suite, TCase *tc);

/* Sets up the machine and starts the clock. Fails the test on error. */
void h_setup(struct harness *h);
void h_teardown(struct harness *h);
/* A configuration value as text, as on capsule-vm's command line: h_add
 * parses it with pdm_cfg_parse (the command line's parser, so "0x3f8" is an
 * integer, "true" a boolean, "string:0" a string). */
struct pdm_cfg_kv {
    const char *key;
    const char *value;
};

/* Instantiates the device; returns the result (error info on failure). */
cap_result h_add(struct harness *h, const char *device, const struct pdm_cfg_kv *kv, size_t n);
/* The device's row of vmm/platform's table for a machine of `ram_mb` MiB
 * with `firmware` (platform.h), as capsule-vm builds it. */
cap_result h_add_platform(struct harness *h, const char *device, uint64_t ram_mb,
                          unsigned firmware);
/* The same with typed values (PDM_CFG_I, ... of pdm.h). */
cap_result h_add_values(struct harness *h, const char *device, const struct pdm_cfg_value *v,
                        size_t n);
/* From now on IOM's MMIO ranges are mapped in h->pgm as well. */
void h_mirror_mmio(struct harness *h);
/* Port access, failing the test if IOM fails. */
uint32_t h_in(struct harness *h, uint16_t port, unsigned size);
void h_out(struct harness *h, uint16_t port, unsigned size, uint32_t val);
/* MMIO access (PGM RAM first, else IOM), failing the test if IOM fails. */
uint64_t h_mmio_in(struct harness *h, uint64_t addr, unsigned size);
void h_mmio_out(struct harness *h, uint64_t addr, unsigned size, uint64_t val);
/* Moves the fake clock forward by ns and runs the due timers. */
void h_advance(struct harness *h, uint64_t ns);
bool h_logged(struct harness *h, const char *needle);
/* Saved state through an SSM stream: h_ssm_save writes every device's unit
 * (pdm_save_units) to a file of its own (failing the test on an error);
 * h_ssm_load opens it, loads the devices (pdm_load_units) and removes it,
 * returning pdm_load_units's result. */
void h_ssm_save(struct harness *h);
cap_result h_ssm_load(struct harness *h);

#endif
