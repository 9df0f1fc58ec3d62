/*
 * plugins/frontends/manage/netargs.h - the values of the CLI's network
 * options, VBoxManage's spellings: `modifyvm --nicN nat|none`, `--nictypeN
 * 82540EM|virtio`, `--macaddressN auto|HEX12`, `--natpfN RULE` / `--natpfN
 * delete NAME`, and `controlvm natpfN` with the same rule, parsed into what
 * INetworkAdapter and INATEngine take.
 *
 * Pure, as opts.h and args.h: no IPC, no service, no output. Errors are
 * CAP_E_INVALIDARG with the thread's error info naming the option, the
 * value and what it should be (the CLI prints a usage error, exit 2). The
 * checks are the service's (settings_net.c) made before anything is
 * locked, so a bad value changes nothing.
 */
#ifndef CAPSULE_MANAGE_NETARGS_H
#define CAPSULE_MANAGE_NETARGS_H

#include <capsule/capsule.h>
#include <capsule/natrule.h>

#define CLI_NIC_SLOTS 4 /* --nic1 .. --nic4: ISystemProperties' networkAdapterCount */

/* The rule `text` of option `opt` (capsule/natrule.h's form and checks). */
cap_result cli_parse_natpf(const char *opt, const char *text, struct cap_nat_rule *out);
/* "auto" -> "" (the service generates one); 12 hex digits, with or
 * without colons, unicast -> upper case in out. */
cap_result cli_parse_mac(const char *opt, const char *val, char out[13]);
/* "82540EM" (also e1000) or "virtio"; VBoxManage's other models are
 * refused saying this build lacks them. */
cap_result cli_parse_nictype(const char *opt, const char *val, NetworkAdapterType *out);
/* VBoxManage's words back: "82540EM", "virtio"; "nat", "none", "null". */
const char *cli_nictype_name(NetworkAdapterType t);

#endif /* CAPSULE_MANAGE_NETARGS_H */
