/*
 * runtime.c - the payload runtime's core: serial console and printf,
 * pass/fail through the debug-exit port, the GDT/TSS/IDT, trap dispatch
 * with catchable exceptions, and the CPL3 entry.
 *
 * The entry (entry.S) calls runtime_start() in the final CPU mode of the
 * build (32-bit protected mode, or 64-bit long mode).
 */
#include "guest.h"

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

uint32_t mb_flags, mb_mem_lower, mb_mem_upper;
extern uint32_t mb_magic, mb_info_addr;
extern char trap_stubs[];
extern uint8_t boot_stack_top[];
void runtime_start(void);
void trap_dispatch(struct trap_frame *f);
void user_enter(ureg ip, ureg sp) __attribute__((noreturn));

/* The stack traps from CPL3 run on (TSS ring-0 stack). */
static uint8_t trap_stack[8192] __attribute__((aligned(16)));

/* ---- memory ---------------------------------------------------------- */

void *memset(void *d, int c, size_t n)
{
    void *r = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

void *memcpy(void *d, const void *s, size_t n)
{
    void *r = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* ---- serial and printf ----------------------------------------------- */

void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 0x01); /* 115200 */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xc7); /* FIFOs on, cleared */
    outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void serial_putc(char c)
{
    /* Bounded wait for THRE: an emulated UART is always ready, and a
     * broken one must not hang the payload silently. */
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        ;
    outb(COM1, (uint8_t)c);
}

static void put_str(const char *s, int width, int left)
{
    int n = 0;
    while (s[n])
        n++;
    for (; !left && width > n; width--)
        serial_putc(' ');
    for (int i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
    for (; left && width > n; width--)
        serial_putc(' ');
}

static void put_num(unsigned long long v, unsigned base, int neg, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d;
        if (base == 16) {
            d = (unsigned)(v & 15);
            v >>= 4;
        } else { /* decimal: only for values that fit a ureg (no libgcc) */
            ureg u = (ureg)v;
            d = (unsigned)(u % 10);
            v = u / 10;
        }
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    } while (v && n < 22);
    if (neg)
        buf[n++] = '-';
    for (; width > n; width--)
        serial_putc(pad);
    while (n)
        serial_putc(buf[--n]);
}

void gvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            if (*fmt == '\n')
                serial_putc('\r');
            serial_putc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0, longs = 0, left = 0;
        fmt++;
        if (*fmt == '-') {
            left = 1;
            fmt++;
        }
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        unsigned long long v;
        switch (*fmt) {
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 's':
            put_str(va_arg(ap, const char *), width, left);
            break;
        case 'd': {
            long s = longs ? va_arg(ap, long) : va_arg(ap, int);
            put_num(s < 0 ? (unsigned long)-s : (unsigned long)s, 10, s < 0, width, pad);
            break;
        }
        case 'u':
        case 'x':
            if (longs >= 2)
                v = va_arg(ap, unsigned long long);
            else if (longs == 1)
                v = va_arg(ap, unsigned long);
            else
                v = va_arg(ap, unsigned);
            put_num(v, *fmt == 'x' ? 16 : 10, 0, width, pad);
            break;
        case 'p':
            put_str("0x", 0, 0);
            put_num((ureg)va_arg(ap, void *), 16, 0, width, pad);
            break;
        case '%':
            serial_putc('%');
            break;
        default:
            serial_putc('?');
            break;
        }
        if (!*fmt)
            break;
    }
}

void gprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gvprintf(fmt, ap);
    va_end(ap);
}

/* ---- pass / fail ----------------------------------------------------- */

void guest_exit(uint32_t v)
{
    outl(DEBUG_EXIT_PORT, v);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void guest_pass(void)
{
    gprintf("PASS %s\n", guest_name);
    guest_exit(GUEST_EXIT_PASS);
}

void guest_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gprintf("FAIL %s: ", guest_name);
    gvprintf(fmt, ap);
    va_end(ap);
    gprintf("\n");
    guest_exit(GUEST_EXIT_FAIL);
}

/* ---- descriptors ----------------------------------------------------- */

void gdt_set(unsigned sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    gdt[sel >> 3] = (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
                    ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
                    ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

static struct {
    uint32_t w[26]; /* 104 bytes: the 32-bit and the 64-bit layouts */
} tss __attribute__((aligned(16)));

static void tss_init(void)
{
    ureg top = (ureg)(trap_stack + sizeof(trap_stack));
#ifdef __x86_64__
    tss.w[1] = (uint32_t)top; /* rsp0 */
    tss.w[2] = (uint32_t)((uint64_t)top >> 32);
    gdt[(SEL_TSS >> 3) + 1] = (uint64_t)(ureg)&tss >> 32;
#else
    tss.w[1] = top;      /* esp0 */
    tss.w[2] = SEL_DATA; /* ss0 */
#endif
    tss.w[25] = (uint32_t)sizeof(tss) << 16; /* I/O map base past the limit: no bitmap */
    gdt_set(SEL_TSS, (uint32_t)(ureg)&tss, sizeof(tss) - 1, 0x89, 0);
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

#ifdef __x86_64__
static uint64_t idt[256 * 2] __attribute__((aligned(16)));
#else
static uint64_t idt[256] __attribute__((aligned(16)));
#endif
static trap_handler handlers[256];

static void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        ureg a = (ureg)(trap_stubs + 16 * v);
        uint64_t lo = (a & 0xffff) | ((uint64_t)SEL_KCODE << 16) | (0x8eull << 40) |
                      ((uint64_t)((a >> 16) & 0xffff) << 48);
#ifdef __x86_64__
        idt[2 * v] = lo;
        idt[2 * v + 1] = a >> 32;
#else
        idt[v] = lo;
#endif
    }
    struct __attribute__((packed)) {
        uint16_t limit;
        ureg base;
    } p = {sizeof(idt) - 1, (ureg)idt};
    __asm__ volatile("lidt %0" : : "m"(p));
}

void trap_set(unsigned vector, trap_handler h)
{
    handlers[vector & 255] = h;
}

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "?15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

const char *trap_name(unsigned v)
{
    if (v < 32 && names[v])
        return names[v];
    return v < 32 ? "reserved" : "interrupt";
}

/* ---- trap dispatch ---------------------------------------------------- */

static struct gjmp *catch_jb;
static struct trap_info caught;

void trap_dispatch(struct trap_frame *f)
{
    unsigned v = (unsigned)f->vector;
    if (handlers[v]) {
        handlers[v](f);
        return;
    }
    if (v < 32 && catch_jb) {
        struct gjmp *j = catch_jb;
        catch_jb = NULL;
        caught = (struct trap_info){.vector = v, .cpl = (unsigned)(f->cs & 3),
                                    .error = f->error, .ip = f->ip, .cr2 = read_cr2(),
                                    .ax = f->ax};
        glongjmp(j, 1);
    }
    guest_fail("unexpected %s (vector %u) error 0x%lx at %lx:%lx cr2 0x%lx flags 0x%lx", trap_name(v),
               v, (unsigned long)f->error, (unsigned long)f->cs, (unsigned long)f->ip,
               (unsigned long)read_cr2(), (unsigned long)f->flags);
}

int trap_run(void (*fn)(void *), void *arg, struct trap_info *ti)
{
    struct gjmp jb;
    if (gsetjmp(&jb)) {
        *ti = caught;
        return (int)ti->vector;
    }
    catch_jb = &jb;
    fn(arg);
    catch_jb = NULL;
    return -1;
}

int user_run(ureg ip, ureg sp, struct trap_info *ti)
{
    struct gjmp jb;
    if (gsetjmp(&jb)) {
#ifndef __x86_64__
        __asm__ volatile("mov %w0,%%ds; mov %w0,%%es; mov %w0,%%fs; mov %w0,%%gs"
                         : : "r"(SEL_DATA));
#endif
        *ti = caught;
        return (int)ti->vector;
    }
    catch_jb = &jb;
    user_enter(ip, sp);
}

/* ---- environment -------------------------------------------------------- */

const char *guest_hypervisor(void)
{
    static uint32_t sig[4];
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 31)))
        return "";
    cpuid(0x40000000, 0, r);
    sig[0] = r[1];
    sig[1] = r[2];
    sig[2] = r[3];
    sig[3] = 0;
    return (const char *)sig;
}

int guest_on_tcg(void)
{
    return memcmp(guest_hypervisor(), "TCGTCGTCGTCG", 12) == 0;
}

/* ---- start ------------------------------------------------------------ */

void runtime_start(void)
{
    serial_init();
    tss_init();
    idt_init();
    pic_init(PIC_VECTOR_BASE, PIC_VECTOR_BASE + 8);
    gprintf("START %s (%d-bit, hypervisor \"%s\")\n", guest_name, (int)sizeof(ureg) * 8,
            guest_hypervisor());
    if (mb_magic != MB_BOOT_MAGIC)
        guest_fail("multiboot magic is 0x%x, expected 0x%x", mb_magic, MB_BOOT_MAGIC);
    const struct mb_info *mi = (const struct mb_info *)(ureg)mb_info_addr;
    mb_flags = mi->flags;
    mb_mem_lower = mi->mem_lower;
    mb_mem_upper = mi->mem_upper;
    guest_main();
    guest_pass();
}
