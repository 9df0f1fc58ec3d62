/*
 * plugins/frontends/manage/cmd_getextradata.c - `capsule getextradata
 * VM|global KEY|enumerate`.
 *
 * Output, as VBoxManage's: "Value: VALUE" or "No value set!" for one key;
 * "Key: KEY, Value: VALUE" per item (sorted by key) for enumerate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capsule/mem.h>

#include "manage.h"

/* The extra data owner: the root (global) or a machine. */
struct owner {
    ICapsule *root;
    IMachine *m;
};

static cap_result get_value(struct owner *o, const char *key, char **value)
{
    return o->m ? IMachine_GetExtraData(o->m, key, value)
                : ICapsule_GetExtraData(o->root, key, value);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cap_result enumerate(struct owner *o)
{
    uint32_t n = 0;
    char **keys = NULL;
    cap_result rc = o->m ? IMachine_GetExtraDataKeys(o->m, &n, &keys)
                         : ICapsule_GetExtraDataKeys(o->root, &n, &keys);
    if (rc < 0)
        return rc;
    if (n > 1)
        qsort(keys, n, sizeof(keys[0]), cmp_str);
    for (uint32_t i = 0; i < n && rc >= 0; i++) {
        char *v = NULL;
        rc = get_value(o, keys[i], &v);
        if (rc >= 0)
            printf("Key: %s, Value: %s\n", keys[i], v ? v : "");
        cap_str_free(v);
    }
    cap_array_free(CAP_TLT_STRING, n, keys);
    return rc;
}

static int cmd_getextradata(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *target = NULL, *key = NULL, *val = NULL;
    struct cli_parser p;
    int r;
    cli_parser_init(&p, argc, argv);
    while ((r = cli_next(&p, NULL, &val)) != CLI_END) {
        if (r == CLI_BAD)
            return cli_usage(ctx, NULL);
        if (!target)
            target = val;
        else if (!key)
            key = val;
        else
            return cli_usage(ctx, "unexpected argument '%s'", val);
    }
    if (!target || !key)
        return cli_usage(ctx, "expected VM|global and KEY|enumerate");
    if (!*key)
        return cli_usage(ctx, "the KEY must not be empty");

    struct owner o = {NULL, NULL};
    const char *what = "connecting to capsule-svc";
    cap_result rc = cli_connect(ctx);
    if (rc >= 0 && strcmp(target, "global") != 0) {
        what = "ICapsule::findMachine";
        rc = ICapsule_FindMachine(ctx->root, target, &o.m);
    }
    o.root = ctx->root;
    if (rc >= 0 && strcmp(key, "enumerate") == 0) {
        what = "enumerating extra data";
        rc = enumerate(&o);
    } else if (rc >= 0) {
        char *v = NULL;
        what = "getExtraData";
        rc = get_value(&o, key, &v);
        if (rc >= 0) {
            if (v && *v)
                printf("Value: %s\n", v);
            else
                printf("No value set!\n");
        }
        cap_str_free(v);
    }
    int status = rc < 0 ? cli_fail(rc, what) : CLI_EXIT_OK;
    if (o.m)
        IMachine_Release(o.m);
    return status;
}

const struct cli_cmd cli_cmd_getextradata = {
    .name = "getextradata",
    .fn = cmd_getextradata,
    .usage = "capsule getextradata VM|global KEY|enumerate",
    .help = "read extra data of a machine or of the service",
    .detail = "Prints \"Value: VALUE\" (or \"No value set!\"); with enumerate, one\n"
              "\"Key: KEY, Value: VALUE\" line per item.\n",
};
