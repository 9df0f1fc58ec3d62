/*
 * tests/unit/devices/net_util.c - shared by the network adapters' tests
 * (net_util.h).
 */
#include <check.h>

#include "net_util.h"

const uint8_t net_arp_request[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    10,   0,    2,    15,   0,    0,    0,    0,    0,    0,    10,   0,    2,    2};

void net_check_bad_config(struct harness *h, const char *device)
{
    struct pdm_cfg_kv multicast[] = {{"mac", "string:01:00:5e:00:00:01"}};
    ck_assert_int_eq(h_add(h, device, multicast, 1), CAP_E_INVALIDARG);
    struct pdm_cfg_kv junk[] = {{"mac", "string:52:54:00:12:34"}};
    ck_assert_int_eq(h_add(h, device, junk, 1), CAP_E_INVALIDARG);
    struct pdm_cfg_kv bridge[] = {{"devfn", "0"}};
    ck_assert_int_eq(h_add(h, device, bridge, 1), CAP_E_INVALIDARG);
    cap_error_clear();
}
