/* selectors.h - the runtime's GDT selectors, for C and assembler alike. */
#ifndef SELECTORS_H
#define SELECTORS_H
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18
#define SEL_CODE16 0x20
#define SEL_DATA16 0x28
#define SEL_UCODE32 0x33
#define SEL_UDATA 0x3b
#define SEL_UCODE64 0x43
#define SEL_TSS 0x48
#define SEL_SPARE 0x58
#endif
