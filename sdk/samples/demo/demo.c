/*
 * sdk/samples/demo/demo.c - capsule-sdk-demo, the SDK's first main job.
 *
 * Shows the component model end to end, in one process:
 *   1. the default registry reads the component manifests of
 *      BUILD/lib/components and creates a Host object by contract ID
 *      (loading libcapsule-host.so on demand);
 *   2. the program calls IHost directly, through the generated inline
 *      helpers;
 *   3. it then reads every IHost attribute dynamically: the typelib says which
 *      vtable slots are getters and what they return, and cap_xpt_invoke()
 *      makes each call through libffi - the code knows nothing of IHost;
 *   4. finally it wraps the Host in a dynamic proxy whose every slot is a
 *      libffi closure routed to one handler, which logs the call and forwards
 *      it with cap_xpt_invoke() - what the IPC layer will do across processes.
 *
 * Exit status: 0 on success, 1 if any step fails (with the error info), 2 on
 * a usage error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>
#include <capsule/uuid.h>
#include <capsule/xptcall.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: capsule-sdk-demo [--components DIR]\n"
               "\n"
               "Creates a Host object through the component registry and calls it\n"
               "directly, dynamically (typelib + libffi) and through a dynamic proxy.\n"
               "\n"
               "  --components DIR  read component manifests from DIR\n"
               "                    (default: ../lib/components beside the program)\n"
               "  --help            show this help\n");
}

static int fail(const char *what, cap_result rc)
{
    const char *msg = cap_error_peek_message();
    fprintf(stderr, "capsule-sdk-demo: %s failed: %s (0x%08" PRIx32 ")%s%s\n", what,
            cap_result_name(rc), (uint32_t)rc, msg ? ": " : "", msg ? msg : "");
    return 1;
}

/* The enum constant's name for v, or NULL. */
static const char *enum_name(const struct cap_tl_enum *e, int32_t v)
{
    for (uint32_t i = 0; e && i < e->n_values; i++)
        if (e->values[i].value == v)
            return e->values[i].name;
    return NULL;
}

/* Prints one scalar (non-array) value as text, by its typelib type. */
static void print_value(const struct cap_tl_param *p, const struct cap_xpt_value *v)
{
    char u[CAP_UUID_BUFSIZE];
    const char *n;
    switch (p->type) {
    case CAP_TLT_BOOL: printf("%s", v->b ? "true" : "false"); break;
    case CAP_TLT_OCTET: printf("%u", v->u8); break;
    case CAP_TLT_SHORT: printf("%d", v->i16); break;
    case CAP_TLT_USHORT: printf("%u", v->u16); break;
    case CAP_TLT_LONG: printf("%" PRId32, v->i32); break;
    case CAP_TLT_ULONG: printf("%" PRIu32, v->u32); break;
    case CAP_TLT_LONGLONG: printf("%" PRId64, v->i64); break;
    case CAP_TLT_ULONGLONG: printf("%" PRIu64, v->u64); break;
    case CAP_TLT_DOUBLE: printf("%g", v->d); break;
    case CAP_TLT_STRING: printf("\"%s\"", v->str ? v->str : ""); break;
    case CAP_TLT_UUID: printf("{%s}", cap_uuid_format(&v->uuid, u)); break;
    case CAP_TLT_ENUM:
        n = enum_name(p->enm, v->enm);
        if (n)
            printf("%s", n);
        else
            printf("%" PRId32, v->enm);
        break;
    case CAP_TLT_IFACE: printf("<%s %p>", p->iface ? p->iface->name : "?", v->iface); break;
    default: printf("?"); break;
    }
}

/* Step 3: every getter of obj's interface, found and called from the typelib. */
static int read_attributes_dynamically(void *obj, const struct cap_tl_iface *tl)
{
    printf("dynamic calls (typelib + libffi), every attribute of %s:\n", tl->name);
    for (uint32_t slot = CAP_ISUPPORTS_SLOTS; slot < cap_tl_iface_slots(tl); slot++) {
        const struct cap_tl_method *m = cap_tl_method_at(tl, slot);
        if (!m || m->kind != CAP_TLM_GETTER || m->n_params != 1)
            continue;
        struct cap_xpt_value v;
        memset(&v, 0, sizeof(v));
        cap_result rc = cap_xpt_invoke(obj, tl, slot, &v, 1);
        if (CAP_FAILED(rc))
            return fail(m->name, rc);
        printf("  %-22s ", m->idl_name);
        if (m->params[0].flags & CAP_TLP_ARRAY)
            printf("[%" PRIu32 " items]", v.arr.count);
        else
            print_value(&m->params[0], &v);
        printf("\n");
        cap_xpt_value_clear(&m->params[0], &v);
    }
    return 0;
}

/* Step 4: a proxy handler that logs each call and forwards it. */
struct logging_proxy {
    void *target; /* the real object, one reference held */
    unsigned calls;
};

static cap_result logging_call(void *ctx, const struct cap_tl_iface *tl, uint32_t slot,
                               const struct cap_tl_method *method, struct cap_xpt_value *values)
{
    struct logging_proxy *lp = ctx;
    lp->calls++;
    printf("  proxy handler: %s slot %" PRIu32 " (%s), forwarding\n", tl->name, slot, method->name);
    return cap_xpt_invoke(lp->target, tl, slot, values, method->n_params);
}

static void logging_destroy(void *ctx)
{
    struct logging_proxy *lp = ctx;
    CAP_RELEASE(lp->target);
    lp->target = NULL;
}

static const struct cap_proxy_handler logging_handler = {
    .call = logging_call,
    .destroy = logging_destroy,
};

static int call_through_proxy(IHost *host)
{
    struct logging_proxy lp = {.target = host, .calls = 0};
    ISupports *proxy = NULL;
    CAP_ADDREF(host);
    cap_result rc = cap_proxy_create(&cap_tl_IHost, &logging_handler, &lp, &proxy);
    if (CAP_FAILED(rc)) {
        CAP_RELEASE(host);
        return fail("cap_proxy_create", rc);
    }
    printf("dynamic proxy (libffi closures), called through the IHost vtable:\n");
    IHost *ph = (IHost *)proxy;
    char *os = NULL;
    uint32_t cpus = 0;
    rc = IHost_GetOperatingSystem(ph, &os);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetProcessorCount(ph, &cpus);
    if (CAP_SUCCEEDED(rc))
        printf("  -> operatingSystem \"%s\", processorCount %" PRIu32 " (%u calls handled)\n", os,
               cpus, lp.calls);
    cap_str_free(os);
    IHost_Release(ph); /* runs logging_destroy, which releases the host */
    return CAP_FAILED(rc) ? fail("call through proxy", rc) : 0;
}

/* Step 2: direct calls through the generated helpers. */
static int call_directly(IHost *host)
{
    uint32_t cpus = 0, mem = 0;
    char *cpu = NULL;
    cap_result rc = IHost_GetProcessorCount(host, &cpus);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetMemorySize(host, &mem);
    if (CAP_SUCCEEDED(rc))
        rc = IHost_GetProcessorDescription(host, &cpu);
    if (CAP_FAILED(rc))
        return fail("direct call", rc);
    printf("direct calls: %" PRIu32 " x \"%s\", %" PRIu32 " MB of memory\n", cpus, cpu, mem);
    cap_str_free(cpu);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--components") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "capsule-sdk-demo: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    /* Bad manifests are skipped, not fatal: say so and go on with the rest. */
    cap_result rc = cap_registry_init_default(dir);
    if (rc == CAP_E_BAD_MANIFEST)
        fprintf(stderr, "capsule-sdk-demo: warning: skipped component manifests:\n%s\n",
                cap_error_peek_message());
    else if (CAP_FAILED(rc))
        return fail("loading the component registry", rc);
    cap_typelib_register(&capsule_typelib);

    IHost *host = NULL;
    int status = 1;
    rc = cap_registry_create_instance_by_contract(cap_registry_default(), CAP_CONTRACT_Host,
                                                  &IID_IHost, (void **)&host);
    if (CAP_FAILED(rc)) {
        fail("creating " CAP_CONTRACT_Host, rc);
        goto out;
    }
    printf("registry: created %s through its manifest\n", CAP_CONTRACT_Host);
    status = call_directly(host);
    if (!status)
        status = read_attributes_dynamically(host, &cap_tl_IHost);
    if (!status)
        status = call_through_proxy(host);
    IHost_Release(host);
    if (!status)
        printf("capsule-sdk-demo: ok\n");
out:
    cap_xpt_shutdown();
    cap_registry_shutdown_default();
    return status;
}
