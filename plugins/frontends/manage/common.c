/*
 * plugins/frontends/manage/common.c - what every subcommand of the capsule
 * CLI shares: reporting errors the way scripts and people expect them,
 * reaching the service, sessions, progress objects, machine-readable lines.
 *
 * Failures are reported once, at the top of a subcommand, from the calling
 * thread's error info - which IPC fills with the service's own message - so
 * that `capsule` says exactly what capsule-svc said.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <capsule/client.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>

#include "manage.h"

/* ---- errors -------------------------------------------------------------- */

int cli_usage(struct cli_ctx *ctx, const char *fmt, ...)
{
    const char *name = ctx && ctx->cmd ? ctx->cmd->name : NULL;
    fprintf(stderr, "capsule: error: ");
    if (name)
        fprintf(stderr, "%s: ", name);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    } else {
        const char *msg = cap_error_peek_message();
        fprintf(stderr, "%s", msg ? msg : "invalid arguments");
    }
    fprintf(stderr, "\n");
    if (name)
        fprintf(stderr, "Try 'capsule help %s' for more information.\n", name);
    else
        fprintf(stderr, "Try 'capsule --help' for more information.\n");
    cap_error_clear();
    return CLI_EXIT_USAGE;
}

int cli_fail(cap_result rc, const char *what)
{
    struct cap_error_info info;
    memset(&info, 0, sizeof(info));
    cap_error_take(&info);
    if (info.message && *info.message)
        fprintf(stderr, "capsule: error: %s\n", info.message);
    else
        fprintf(stderr, "capsule: error: %s failed\n", what);
    fprintf(stderr, "capsule: error: details: code %s (0x%08" PRIx32 ")", cap_result_name(rc),
            (uint32_t)rc);
    if (info.component && *info.component)
        fprintf(stderr, ", component %s", info.component);
    if (info.iface && *info.iface)
        fprintf(stderr, ", interface %s", info.iface);
    fprintf(stderr, ", in %s\n", what);
    cap_error_info_clear(&info);
    return CLI_EXIT_FAIL;
}

cap_result cli_error_from_info(IErrorInfo *ei)
{
    int32_t code = CAP_E_FAIL;
    char *msg = NULL, *comp = NULL, *iface = NULL;
    if (!ei)
        return CAP_E_FAIL;
    IErrorInfo_GetResultCode(ei, &code);
    IErrorInfo_GetMessage(ei, &msg);
    IErrorInfo_GetComponent(ei, &comp);
    IErrorInfo_GetInterfaceName(ei, &iface);
    if (CAP_SUCCEEDED(code))
        code = CAP_E_FAIL;
    struct cap_error_info info = {
        .result = code,
        .message = msg ? msg : (char *)"",
        .component = comp && *comp ? comp : NULL,
        .iface = iface && *iface ? iface : NULL,
    };
    cap_error_set_info(&info);
    cap_str_free(msg);
    cap_str_free(comp);
    cap_str_free(iface);
    return code;
}

void cli_error_keep(struct cli_kept_error *k)
{
    k->had = cap_error_take(&k->info) == CAP_OK;
}

void cli_error_restore(struct cli_kept_error *k)
{
    if (k->had)
        cap_error_set_info(&k->info);
    cap_error_info_clear(&k->info);
}

void cli_release(void *obj)
{
    struct cli_kept_error k;
    if (!obj)
        return;
    cli_error_keep(&k);
    CAP_RELEASE(obj);
    cli_error_restore(&k);
}

void cli_release_array(uint32_t n, void *array)
{
    struct cli_kept_error k;
    cli_error_keep(&k);
    cap_array_free(CAP_TLT_IFACE, n, array);
    cli_error_restore(&k);
}

/* ---- the service ---------------------------------------------------------- */

cap_result cli_connect(struct cli_ctx *ctx)
{
    if (ctx->root)
        return CAP_OK;
    struct cap_client_options opts;
    memset(&opts, 0, sizeof(opts));
    cap_result rc = cap_client_connect(&opts, &ctx->client);
    if (CAP_FAILED(rc))
        return rc;
    rc = cap_client_get_root(ctx->client, &ctx->root);
    if (CAP_FAILED(rc)) {
        ctx->root = NULL;
        return rc;
    }
    return CAP_OK;
}

void cli_disconnect(struct cli_ctx *ctx)
{
    if (ctx->root)
        ICapsule_Release(ctx->root);
    ctx->root = NULL;
    cap_client_close(ctx->client);
    ctx->client = NULL;
    cap_registry_shutdown_default();
}

cap_result cli_session_create(ISession **out)
{
    *out = NULL;
    if (!cap_registry_default()) {
        cap_result rc = cap_registry_init_default(NULL);
        /* Skipped manifests matter only if Session's is among them, which
         * creating the session then reports. */
        if (CAP_FAILED(rc) && rc != CAP_E_BAD_MANIFEST)
            return rc;
    }
    struct cap_registry *reg = cap_registry_default();
    return cap_registry_create_instance_by_contract(reg, CAP_CONTRACT_Session, &IID_ISession,
                                                    (void **)out);
}

cap_result cli_progress_wait(IProgress *progress, int32_t timeout_ms)
{
    cap_result rc = IProgress_WaitForCompletion(progress, timeout_ms);
    if (CAP_FAILED(rc))
        return rc;
    cap_bool done = 0;
    rc = IProgress_GetCompleted(progress, &done);
    if (CAP_FAILED(rc))
        return rc;
    if (!done)
        return cap_error_set(CAP_E_TIMEOUT, "capsule", "IProgress",
                             "the operation did not complete within %d ms", (int)timeout_ms);
    int32_t result = CAP_E_FAIL;
    rc = IProgress_GetResultCode(progress, &result);
    if (CAP_FAILED(rc))
        return rc;
    if (CAP_SUCCEEDED(result))
        return CAP_OK;
    IErrorInfo *ei = NULL;
    if (CAP_SUCCEEDED(IProgress_GetErrorInfo(progress, &ei)) && ei) {
        cli_error_from_info(ei);
        cli_release(ei);
    } else {
        cap_error_set(result, "capsule", "IProgress", "the operation failed");
    }
    return result;
}

/* ---- output --------------------------------------------------------------- */

static int print_line(FILE *f, char *line)
{
    if (!line)
        return -1;
    fprintf(f, "%s\n", line);
    cap_str_free(line);
    return 0;
}

int cli_mr_print_str(FILE *f, const char *key, const char *value)
{
    return print_line(f, cli_mr_str(key, value));
}

int cli_mr_print_num(FILE *f, const char *key, int64_t value)
{
    return print_line(f, cli_mr_num(key, value));
}

void cli_print_cmd_help(FILE *f, const struct cli_cmd *cmd)
{
    fprintf(f, "Usage:\n");
    cli_args_synopsis(f, cmd->name, cmd->args);
    fprintf(f, "\n%s\n", cmd->help);
    cli_args_help(f, cmd->args);
    if (cmd->detail)
        fprintf(f, "\n%s", cmd->detail);
}
