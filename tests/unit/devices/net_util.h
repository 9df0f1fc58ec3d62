/*
 * tests/unit/devices/net_util.h - what the network adapters' tests
 * (test_virtionet.c, test_e1000.c) share: the ARP request the NAT answers,
 * a bounded wait for what its I/O thread delivers, and the configuration
 * every adapter refuses.
 */
#ifndef TESTS_DEVICES_NET_UTIL_H
#define TESTS_DEVICES_NET_UTIL_H

#include <stdint.h>
#include <unistd.h>

#include "harness.h"

/* An ARP request from 52:54:00:12:34:56 / 10.0.2.15 for 10.0.2.2 (42 bytes). */
extern const uint8_t net_arp_request[42];

/* Waits (a bound of 10 s, not a timing assertion) until `cond` holds. */
#define NET_WAIT_FOR(cond)                                                                         \
    do {                                                                                           \
        for (unsigned w_ = 0; !(cond) && w_ < 10000; w_++)                                         \
            usleep(1000);                                                                          \
    } while (0)

/* With the PCI bus in `h`: `device` refuses a multicast MAC, a malformed
 * one and the host bridge's slot (CAP_E_INVALIDARG each). */
void net_check_bad_config(struct harness *h, const char *device);

#endif
