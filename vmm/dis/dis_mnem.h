/*
 * dis_mnem.h - the decoder's mnemonic list, one X() per instruction class:
 *   X(id, "text", flags-profile, attributes)
 * dis.h turns the ids into `enum dis_mnem` (DIS_<id>); dis_tables.c turns the
 * whole row into the per-mnemonic attribute table (RFLAGS read/written/undefined,
 * privileged/sensitive, control-flow kind, string, LOCK-able). The opcode
 * tables refer to these ids. New rows may be added anywhere (ids are names,
 * not stable numbers). Size-dependent names (cbw/cwde/cdqe, iret/iretd/iretq,
 * pushf/pushfq, jcxz/jecxz/jrcxz, ...) are ONE id; the printer picks the text
 * from the operand or address size.
 */
/* clang-format off */
#define DIS_MNEMONICS(X) \
    X(invalid, "(bad)", F_N, 0) \
    /* one-byte map: arithmetic and logic */ \
    X(add, "add", F_ARITH, A_LK) X(or, "or", F_LOGIC, A_LK) X(adc, "adc", F_ADC, A_LK) \
    X(sbb, "sbb", F_ADC, A_LK) X(and, "and", F_LOGIC, A_LK) X(sub, "sub", F_ARITH, A_LK) \
    X(xor, "xor", F_LOGIC, A_LK) X(cmp, "cmp", F_ARITH, 0) X(test, "test", F_LOGIC, 0) \
    X(inc, "inc", F_INC, A_LK) X(dec, "dec", F_INC, A_LK) X(not, "not", F_N, A_LK) \
    X(neg, "neg", F_ARITH, A_LK) X(mul, "mul", F_MUL, 0) X(imul, "imul", F_MUL, 0) \
    X(div, "div", F_DIV, 0) X(idiv, "idiv", F_DIV, 0) \
    X(rol, "rol", F_ROT, 0) X(ror, "ror", F_ROT, 0) X(rcl, "rcl", F_RCX, 0) X(rcr, "rcr", F_RCX, 0) \
    X(shl, "shl", F_SHIFT, 0) X(shr, "shr", F_SHIFT, 0) X(sal, "sal", F_SHIFT, 0) X(sar, "sar", F_SHIFT, 0) \
    X(shld, "shld", F_SHIFT, 0) X(shrd, "shrd", F_SHIFT, 0) \
    X(daa, "daa", F_DAA, 0) X(das, "das", F_DAA, 0) X(aaa, "aaa", F_AAA, 0) X(aas, "aas", F_AAA, 0) \
    X(aam, "aam", F_AAM, 0) X(aad, "aad", F_AAM, 0) X(salc, "salc", F_RCF, 0) \
    /* data movement */ \
    X(mov, "mov", F_N, 0) X(movabs, "movabs", F_N, 0) X(movsx, "movsx", F_N, 0) \
    X(movzx, "movzx", F_N, 0) X(movsxd, "movsxd", F_N, 0) X(lea, "lea", F_N, 0) \
    X(xchg, "xchg", F_N, A_LK) X(xadd, "xadd", F_ARITH, A_LK) X(cmpxchg, "cmpxchg", F_ARITH, A_LK) \
    X(cmpxchg8b, "cmpxchg8b", F_ZF, A_LK) X(cmpxchg16b, "cmpxchg16b", F_ZF, A_LK) \
    X(bswap, "bswap", F_N, 0) X(movbe, "movbe", F_N, 0) X(xlat, "xlat", F_N, 0) \
    X(cbw, "cbw", F_N, 0) /* cbw/cwde/cdqe by operand size */ \
    X(cwd, "cwd", F_N, 0) /* cwd/cdq/cqo */ \
    X(push, "push", F_N, 0) X(pop, "pop", F_N, 0) \
    X(pusha, "pusha", F_N, 0) X(popa, "popa", F_N, 0) \
    X(pushf, "pushf", F_RALL, A_SENS) X(popf, "popf", F_WALL, A_SENS) \
    X(sahf, "sahf", F_SAHF, 0) X(lahf, "lahf", F_LAHF, 0) \
    X(enter, "enter", F_N, 0) X(leave, "leave", F_N, 0) \
    X(les, "les", F_N, 0) X(lds, "lds", F_N, 0) X(lss, "lss", F_N, 0) X(lfs, "lfs", F_N, 0) \
    X(lgs, "lgs", F_N, 0) X(bound, "bound", F_N, 0) X(arpl, "arpl", F_ZF, A_SENS) \
    X(nop, "nop", F_N, 0) X(pause, "pause", F_N, 0) \
    /* flags */ \
    X(clc, "clc", F_CF, 0) X(stc, "stc", F_CF, 0) X(cmc, "cmc", F_RWCF, 0) \
    X(cld, "cld", F_DF, 0) X(std, "std", F_DF, 0) \
    X(cli, "cli", F_IF, A_SENS) X(sti, "sti", F_IF, A_SENS) \
    /* bits */ \
    X(bt, "bt", F_BT, 0) X(bts, "bts", F_BT, A_LK) X(btr, "btr", F_BT, A_LK) X(btc, "btc", F_BT, A_LK) \
    X(bsf, "bsf", F_BS, 0) X(bsr, "bsr", F_BS, 0) X(tzcnt, "tzcnt", F_CNT, 0) \
    X(lzcnt, "lzcnt", F_CNT, 0) X(popcnt, "popcnt", F_POPCNT, 0) \
    X(adcx, "adcx", F_RWCF, 0) X(adox, "adox", F_RWOF, 0) \
    X(andn, "andn", F_BMI, 0) X(bextr, "bextr", F_BMI, 0) X(blsi, "blsi", F_BMI, 0) \
    X(blsmsk, "blsmsk", F_BMI, 0) X(blsr, "blsr", F_BMI, 0) X(bzhi, "bzhi", F_BMI, 0) \
    X(mulx, "mulx", F_N, 0) X(pdep, "pdep", F_N, 0) X(pext, "pext", F_N, 0) X(rorx, "rorx", F_N, 0) \
    X(sarx, "sarx", F_N, 0) X(shlx, "shlx", F_N, 0) X(shrx, "shrx", F_N, 0) \
    X(crc32, "crc32", F_N, 0) \
    /* conditionals: 16 each, in condition-code order (insn.cond = 0..15) */ \
    X(jo, "jo", F_CC, CF_JCC) X(jno, "jno", F_CC, CF_JCC) X(jb, "jb", F_CC, CF_JCC) \
    X(jae, "jae", F_CC, CF_JCC) X(je, "je", F_CC, CF_JCC) X(jne, "jne", F_CC, CF_JCC) \
    X(jbe, "jbe", F_CC, CF_JCC) X(ja, "ja", F_CC, CF_JCC) X(js, "js", F_CC, CF_JCC) \
    X(jns, "jns", F_CC, CF_JCC) X(jp, "jp", F_CC, CF_JCC) X(jnp, "jnp", F_CC, CF_JCC) \
    X(jl, "jl", F_CC, CF_JCC) X(jge, "jge", F_CC, CF_JCC) X(jle, "jle", F_CC, CF_JCC) \
    X(jg, "jg", F_CC, CF_JCC) \
    X(seto, "seto", F_CC, 0) X(setno, "setno", F_CC, 0) X(setb, "setb", F_CC, 0) \
    X(setae, "setae", F_CC, 0) X(sete, "sete", F_CC, 0) X(setne, "setne", F_CC, 0) \
    X(setbe, "setbe", F_CC, 0) X(seta, "seta", F_CC, 0) X(sets, "sets", F_CC, 0) \
    X(setns, "setns", F_CC, 0) X(setp, "setp", F_CC, 0) X(setnp, "setnp", F_CC, 0) \
    X(setl, "setl", F_CC, 0) X(setge, "setge", F_CC, 0) X(setle, "setle", F_CC, 0) \
    X(setg, "setg", F_CC, 0) \
    X(cmovo, "cmovo", F_CC, 0) X(cmovno, "cmovno", F_CC, 0) X(cmovb, "cmovb", F_CC, 0) \
    X(cmovae, "cmovae", F_CC, 0) X(cmove, "cmove", F_CC, 0) X(cmovne, "cmovne", F_CC, 0) \
    X(cmovbe, "cmovbe", F_CC, 0) X(cmova, "cmova", F_CC, 0) X(cmovs, "cmovs", F_CC, 0) \
    X(cmovns, "cmovns", F_CC, 0) X(cmovp, "cmovp", F_CC, 0) X(cmovnp, "cmovnp", F_CC, 0) \
    X(cmovl, "cmovl", F_CC, 0) X(cmovge, "cmovge", F_CC, 0) X(cmovle, "cmovle", F_CC, 0) \
    X(cmovg, "cmovg", F_CC, 0) \
    /* control flow */ \
    X(jmp, "jmp", F_N, CF_JMP) X(jmpf, "jmp", F_N, CF_JMPF | A_SENS) \
    X(call, "call", F_N, CF_CALL) X(callf, "call", F_N, CF_CALLF | A_SENS) \
    X(ret, "ret", F_N, CF_RET) X(retf, "retf", F_N, CF_RETF | A_SENS) \
    X(iret, "iret", F_WALL, CF_IRET | A_SENS) /* iret/iretd/iretq */ \
    X(int3, "int3", F_INT, CF_INT) X(int, "int", F_INT, CF_INT) X(into, "into", F_INT, CF_INT) \
    X(int1, "int1", F_INT, CF_INT) \
    X(loopne, "loopne", F_RZF, CF_LOOP) X(loope, "loope", F_RZF, CF_LOOP) X(loop, "loop", F_N, CF_LOOP) \
    X(jcxz, "jcxz", F_N, CF_LOOP) /* jcxz/jecxz/jrcxz by address size */ \
    X(syscall, "syscall", F_WALL, CF_SYSCALL) X(sysret, "sysret", F_WALL, CF_SYSRET | A_PRIV) \
    X(sysenter, "sysenter", F_WALL, CF_SYSCALL) X(sysexit, "sysexit", F_WALL, CF_SYSRET | A_PRIV) \
    X(ud2, "ud2", F_N, CF_UD) X(ud1, "ud1", F_N, CF_UD) X(ud0, "ud0", F_N, CF_UD) \
    X(hlt, "hlt", F_N, A_PRIV | CF_HLT) \
    /* strings (operands carry the segment/rSI/rDI; insn.addrsize picks the counter) */ \
    X(movs, "movs", F_RDF, A_STR | A_REP) X(cmps, "cmps", F_CMPS, A_STR | A_REPE) \
    X(stos, "stos", F_RDF, A_STR | A_REP) X(lods, "lods", F_RDF, A_STR | A_REP) \
    X(scas, "scas", F_CMPS, A_STR | A_REPE) X(ins, "ins", F_RDF, A_STR | A_REP | A_IO) \
    X(outs, "outs", F_RDF, A_STR | A_REP | A_IO) \
    X(in, "in", F_N, A_IO) X(out, "out", F_N, A_IO) \
    /* system */ \
    X(sldt, "sldt", F_N, A_SENS) X(str, "str", F_N, A_SENS) X(lldt, "lldt", F_N, A_PRIV) \
    X(ltr, "ltr", F_N, A_PRIV) X(verr, "verr", F_ZF, A_SENS) X(verw, "verw", F_ZF, A_SENS) \
    X(sgdt, "sgdt", F_N, A_SENS) X(sidt, "sidt", F_N, A_SENS) X(lgdt, "lgdt", F_N, A_PRIV) \
    X(lidt, "lidt", F_N, A_PRIV) X(smsw, "smsw", F_N, A_SENS) X(lmsw, "lmsw", F_N, A_PRIV) \
    X(invlpg, "invlpg", F_N, A_PRIV) X(swapgs, "swapgs", F_N, A_PRIV) X(rdtscp, "rdtscp", F_N, A_SENS) \
    X(vmcall, "vmcall", F_N, A_SENS) X(vmlaunch, "vmlaunch", F_N, A_PRIV) \
    X(vmresume, "vmresume", F_N, A_PRIV) X(vmxoff, "vmxoff", F_N, A_PRIV) \
    X(vmrun, "vmrun", F_N, A_PRIV) X(vmmcall, "vmmcall", F_N, A_SENS) X(vmload, "vmload", F_N, A_PRIV) \
    X(vmsave, "vmsave", F_N, A_PRIV) X(stgi, "stgi", F_N, A_PRIV) X(clgi, "clgi", F_N, A_PRIV) \
    X(skinit, "skinit", F_N, A_PRIV) X(invlpga, "invlpga", F_N, A_PRIV) \
    X(monitor, "monitor", F_N, A_PRIV) X(mwait, "mwait", F_N, A_PRIV) \
    X(clac, "clac", F_AC, A_PRIV) X(stac, "stac", F_AC, A_PRIV) X(encls, "encls", F_N, A_PRIV) \
    X(xgetbv, "xgetbv", F_N, 0) X(xsetbv, "xsetbv", F_N, A_PRIV) X(vmfunc, "vmfunc", F_N, 0) \
    X(xend, "xend", F_N, 0) X(xtest, "xtest", F_ARITH, 0) X(enclu, "enclu", F_N, 0) \
    X(rdpkru, "rdpkru", F_N, 0) X(wrpkru, "wrpkru", F_N, 0) X(serialize, "serialize", F_N, 0) \
    X(lar, "lar", F_ZF, A_SENS) X(lsl, "lsl", F_ZF, A_SENS) X(clts, "clts", F_N, A_PRIV) \
    X(invd, "invd", F_N, A_PRIV) X(wbinvd, "wbinvd", F_N, A_PRIV) X(wbnoinvd, "wbnoinvd", F_N, A_PRIV) \
    X(prefetch, "prefetch", F_N, 0) X(prefetchw, "prefetchw", F_N, 0) \
    X(prefetchnta, "prefetchnta", F_N, 0) X(prefetcht0, "prefetcht0", F_N, 0) \
    X(prefetcht1, "prefetcht1", F_N, 0) X(prefetcht2, "prefetcht2", F_N, 0) \
    X(movcr, "mov", F_N, A_PRIV) X(movdr, "mov", F_N, A_PRIV) X(movseg, "mov", F_N, A_SENS) \
    X(wrmsr, "wrmsr", F_N, A_PRIV) X(rdtsc, "rdtsc", F_N, A_SENS) X(rdmsr, "rdmsr", F_N, A_PRIV) \
    X(rdpmc, "rdpmc", F_N, A_SENS) X(getsec, "getsec", F_N, A_PRIV) X(cpuid, "cpuid", F_N, A_SENS) \
    X(rsm, "rsm", F_WALL, A_PRIV) X(emms, "emms", F_N, 0) \
    X(vmread, "vmread", F_ARITH, A_PRIV) X(vmwrite, "vmwrite", F_ARITH, A_PRIV) \
    X(vmptrld, "vmptrld", F_ARITH, A_PRIV) X(vmptrst, "vmptrst", F_ARITH, A_PRIV) \
    X(vmclear, "vmclear", F_ARITH, A_PRIV) X(vmxon, "vmxon", F_ARITH, A_PRIV) \
    X(rdrand, "rdrand", F_ARITH, 0) X(rdseed, "rdseed", F_ARITH, 0) X(rdpid, "rdpid", F_N, 0) \
    X(fxsave, "fxsave", F_N, 0) X(fxrstor, "fxrstor", F_N, 0) X(ldmxcsr, "ldmxcsr", F_N, 0) \
    X(stmxcsr, "stmxcsr", F_N, 0) X(xsave, "xsave", F_N, 0) X(xrstor, "xrstor", F_N, 0) \
    X(xsaveopt, "xsaveopt", F_N, 0) X(xsavec, "xsavec", F_N, 0) X(xsaves, "xsaves", F_N, A_PRIV) \
    X(xrstors, "xrstors", F_N, A_PRIV) X(clflush, "clflush", F_N, 0) X(clflushopt, "clflushopt", F_N, 0) \
    X(clwb, "clwb", F_N, 0) X(lfence, "lfence", F_N, 0) X(mfence, "mfence", F_N, 0) \
    X(sfence, "sfence", F_N, 0) X(rdfsbase, "rdfsbase", F_N, 0) X(rdgsbase, "rdgsbase", F_N, 0) \
    X(wrfsbase, "wrfsbase", F_N, 0) X(wrgsbase, "wrgsbase", F_N, 0) X(ptwrite, "ptwrite", F_N, 0) \
    X(endbr64, "endbr64", F_N, 0) X(endbr32, "endbr32", F_N, 0) X(rdsspd, "rdsspd", F_N, 0) \
    X(rdsspq, "rdsspq", F_N, 0) X(incsspd, "incsspd", F_N, 0) X(incsspq, "incsspq", F_N, 0) \
    X(invept, "invept", F_ARITH, A_PRIV) X(invvpid, "invvpid", F_ARITH, A_PRIV) \
    X(invpcid, "invpcid", F_N, A_PRIV) \
    X(rmpadjust, "rmpadjust", F_ARITH, A_PRIV) X(pvalidate, "pvalidate", F_ARITH, A_PRIV) \
    /* x87 */ \
    X(fadd, "fadd", F_N, 0) X(fmul, "fmul", F_N, 0) X(fcom, "fcom", F_N, 0) X(fcomp, "fcomp", F_N, 0) \
    X(fsub, "fsub", F_N, 0) X(fsubr, "fsubr", F_N, 0) X(fdiv, "fdiv", F_N, 0) X(fdivr, "fdivr", F_N, 0) \
    X(fld, "fld", F_N, 0) X(fst, "fst", F_N, 0) X(fstp, "fstp", F_N, 0) X(fldenv, "fldenv", F_N, 0) \
    X(fldcw, "fldcw", F_N, 0) X(fnstenv, "fnstenv", F_N, 0) X(fnstcw, "fnstcw", F_N, 0) \
    X(fxch, "fxch", F_N, 0) X(fnop, "fnop", F_N, 0) X(fchs, "fchs", F_N, 0) X(fabs, "fabs", F_N, 0) \
    X(ftst, "ftst", F_N, 0) X(fxam, "fxam", F_N, 0) X(fld1, "fld1", F_N, 0) X(fldl2t, "fldl2t", F_N, 0) \
    X(fldl2e, "fldl2e", F_N, 0) X(fldpi, "fldpi", F_N, 0) X(fldlg2, "fldlg2", F_N, 0) \
    X(fldln2, "fldln2", F_N, 0) X(fldz, "fldz", F_N, 0) X(f2xm1, "f2xm1", F_N, 0) \
    X(fyl2x, "fyl2x", F_N, 0) X(fptan, "fptan", F_N, 0) X(fpatan, "fpatan", F_N, 0) \
    X(fxtract, "fxtract", F_N, 0) X(fprem1, "fprem1", F_N, 0) X(fdecstp, "fdecstp", F_N, 0) \
    X(fincstp, "fincstp", F_N, 0) X(fprem, "fprem", F_N, 0) X(fyl2xp1, "fyl2xp1", F_N, 0) \
    X(fsqrt, "fsqrt", F_N, 0) X(fsincos, "fsincos", F_N, 0) X(frndint, "frndint", F_N, 0) \
    X(fscale, "fscale", F_N, 0) X(fsin, "fsin", F_N, 0) X(fcos, "fcos", F_N, 0) \
    X(fiadd, "fiadd", F_N, 0) X(fimul, "fimul", F_N, 0) X(ficom, "ficom", F_N, 0) \
    X(ficomp, "ficomp", F_N, 0) X(fisub, "fisub", F_N, 0) X(fisubr, "fisubr", F_N, 0) \
    X(fidiv, "fidiv", F_N, 0) X(fidivr, "fidivr", F_N, 0) \
    X(fcmovb, "fcmovb", F_FCMOV, 0) X(fcmove, "fcmove", F_FCMOV, 0) X(fcmovbe, "fcmovbe", F_FCMOV, 0) \
    X(fcmovu, "fcmovu", F_FCMOV, 0) X(fcmovnb, "fcmovnb", F_FCMOV, 0) X(fcmovne, "fcmovne", F_FCMOV, 0) \
    X(fcmovnbe, "fcmovnbe", F_FCMOV, 0) X(fcmovnu, "fcmovnu", F_FCMOV, 0) \
    X(fucompp, "fucompp", F_N, 0) X(fild, "fild", F_N, 0) X(fisttp, "fisttp", F_N, 0) \
    X(fist, "fist", F_N, 0) X(fistp, "fistp", F_N, 0) X(fnclex, "fnclex", F_N, 0) \
    X(fninit, "fninit", F_N, 0) X(fucomi, "fucomi", F_COMI, 0) X(fcomi, "fcomi", F_COMI, 0) \
    X(frstor, "frstor", F_N, 0) X(fnsave, "fnsave", F_N, 0) X(fnstsw, "fnstsw", F_N, 0) \
    X(ffree, "ffree", F_N, 0) X(fucom, "fucom", F_N, 0) X(fucomp, "fucomp", F_N, 0) \
    X(faddp, "faddp", F_N, 0) X(fmulp, "fmulp", F_N, 0) X(fsubrp, "fsubrp", F_N, 0) \
    X(fsubp, "fsubp", F_N, 0) X(fdivrp, "fdivrp", F_N, 0) X(fdivp, "fdivp", F_N, 0) \
    X(fbld, "fbld", F_N, 0) X(fbstp, "fbstp", F_N, 0) X(fucomip, "fucomip", F_COMI, 0) \
    X(fcomip, "fcomip", F_COMI, 0) X(ffreep, "ffreep", F_N, 0) X(fcompp, "fcompp", F_N, 0) \
    X(fwait, "fwait", F_N, 0) X(fneni, "fneni8087_only", F_N, 0) X(fndisi, "fndisi8087_only", F_N, 0) \
    X(fnsetpm, "fnsetpm287_dummy", F_N, 0) X(frstpm, "frstpm", F_N, 0) \
    /* SSE/SSE2/SSE3 (VEX forms: same id, insn.prefixes & DIS_PFX_VEX; printed with a 'v') */ \
    X(movups, "movups", F_N, 0) X(movupd, "movupd", F_N, 0) X(movss, "movss", F_N, 0) \
    X(movsd, "movsd", F_N, 0) X(movlps, "movlps", F_N, 0) X(movlpd, "movlpd", F_N, 0) \
    X(movhlps, "movhlps", F_N, 0) X(movsldup, "movsldup", F_N, 0) X(movddup, "movddup", F_N, 0) \
    X(unpcklps, "unpcklps", F_N, 0) X(unpcklpd, "unpcklpd", F_N, 0) X(unpckhps, "unpckhps", F_N, 0) \
    X(unpckhpd, "unpckhpd", F_N, 0) X(movhps, "movhps", F_N, 0) X(movhpd, "movhpd", F_N, 0) \
    X(movlhps, "movlhps", F_N, 0) X(movshdup, "movshdup", F_N, 0) \
    X(movaps, "movaps", F_N, 0) X(movapd, "movapd", F_N, 0) X(cvtpi2ps, "cvtpi2ps", F_N, 0) \
    X(cvtpi2pd, "cvtpi2pd", F_N, 0) X(cvtsi2ss, "cvtsi2ss", F_N, 0) X(cvtsi2sd, "cvtsi2sd", F_N, 0) \
    X(movntps, "movntps", F_N, 0) X(movntpd, "movntpd", F_N, 0) X(cvttps2pi, "cvttps2pi", F_N, 0) \
    X(cvttpd2pi, "cvttpd2pi", F_N, 0) X(cvttss2si, "cvttss2si", F_N, 0) \
    X(cvttsd2si, "cvttsd2si", F_N, 0) X(cvtps2pi, "cvtps2pi", F_N, 0) X(cvtpd2pi, "cvtpd2pi", F_N, 0) \
    X(cvtss2si, "cvtss2si", F_N, 0) X(cvtsd2si, "cvtsd2si", F_N, 0) X(ucomiss, "ucomiss", F_COMI, 0) \
    X(ucomisd, "ucomisd", F_COMI, 0) X(comiss, "comiss", F_COMI, 0) X(comisd, "comisd", F_COMI, 0) \
    X(movmskps, "movmskps", F_N, 0) X(movmskpd, "movmskpd", F_N, 0) \
    X(sqrtps, "sqrtps", F_N, 0) X(sqrtpd, "sqrtpd", F_N, 0) X(sqrtss, "sqrtss", F_N, 0) \
    X(sqrtsd, "sqrtsd", F_N, 0) X(rsqrtps, "rsqrtps", F_N, 0) X(rsqrtss, "rsqrtss", F_N, 0) \
    X(rcpps, "rcpps", F_N, 0) X(rcpss, "rcpss", F_N, 0) X(andps, "andps", F_N, 0) \
    X(andpd, "andpd", F_N, 0) X(andnps, "andnps", F_N, 0) X(andnpd, "andnpd", F_N, 0) \
    X(orps, "orps", F_N, 0) X(orpd, "orpd", F_N, 0) X(xorps, "xorps", F_N, 0) X(xorpd, "xorpd", F_N, 0) \
    X(addps, "addps", F_N, 0) X(addpd, "addpd", F_N, 0) X(addss, "addss", F_N, 0) X(addsd, "addsd", F_N, 0) \
    X(mulps, "mulps", F_N, 0) X(mulpd, "mulpd", F_N, 0) X(mulss, "mulss", F_N, 0) X(mulsd, "mulsd", F_N, 0) \
    X(subps, "subps", F_N, 0) X(subpd, "subpd", F_N, 0) X(subss, "subss", F_N, 0) X(subsd, "subsd", F_N, 0) \
    X(minps, "minps", F_N, 0) X(minpd, "minpd", F_N, 0) X(minss, "minss", F_N, 0) X(minsd, "minsd", F_N, 0) \
    X(divps, "divps", F_N, 0) X(divpd, "divpd", F_N, 0) X(divss, "divss", F_N, 0) X(divsd, "divsd", F_N, 0) \
    X(maxps, "maxps", F_N, 0) X(maxpd, "maxpd", F_N, 0) X(maxss, "maxss", F_N, 0) X(maxsd, "maxsd", F_N, 0) \
    X(cvtps2pd, "cvtps2pd", F_N, 0) X(cvtpd2ps, "cvtpd2ps", F_N, 0) X(cvtss2sd, "cvtss2sd", F_N, 0) \
    X(cvtsd2ss, "cvtsd2ss", F_N, 0) X(cvtdq2ps, "cvtdq2ps", F_N, 0) X(cvtps2dq, "cvtps2dq", F_N, 0) \
    X(cvttps2dq, "cvttps2dq", F_N, 0) X(cvttpd2dq, "cvttpd2dq", F_N, 0) X(cvtdq2pd, "cvtdq2pd", F_N, 0) \
    X(cvtpd2dq, "cvtpd2dq", F_N, 0) \
    X(punpcklbw, "punpcklbw", F_N, 0) X(punpcklwd, "punpcklwd", F_N, 0) X(punpckldq, "punpckldq", F_N, 0) \
    X(packsswb, "packsswb", F_N, 0) X(pcmpgtb, "pcmpgtb", F_N, 0) X(pcmpgtw, "pcmpgtw", F_N, 0) \
    X(pcmpgtd, "pcmpgtd", F_N, 0) X(packuswb, "packuswb", F_N, 0) X(punpckhbw, "punpckhbw", F_N, 0) \
    X(punpckhwd, "punpckhwd", F_N, 0) X(punpckhdq, "punpckhdq", F_N, 0) X(packssdw, "packssdw", F_N, 0) \
    X(punpcklqdq, "punpcklqdq", F_N, 0) X(punpckhqdq, "punpckhqdq", F_N, 0) X(movd, "movd", F_N, 0) \
    X(movq, "movq", F_N, 0) X(movdqa, "movdqa", F_N, 0) X(movdqu, "movdqu", F_N, 0) \
    X(pshufw, "pshufw", F_N, 0) X(pshufd, "pshufd", F_N, 0) X(pshufhw, "pshufhw", F_N, 0) \
    X(pshuflw, "pshuflw", F_N, 0) X(psrlw, "psrlw", F_N, 0) X(psraw, "psraw", F_N, 0) \
    X(psllw, "psllw", F_N, 0) X(psrld, "psrld", F_N, 0) X(psrad, "psrad", F_N, 0) X(pslld, "pslld", F_N, 0) \
    X(psrlq, "psrlq", F_N, 0) X(psrldq, "psrldq", F_N, 0) X(psllq, "psllq", F_N, 0) \
    X(pslldq, "pslldq", F_N, 0) X(pcmpeqb, "pcmpeqb", F_N, 0) X(pcmpeqw, "pcmpeqw", F_N, 0) \
    X(pcmpeqd, "pcmpeqd", F_N, 0) X(haddpd, "haddpd", F_N, 0) X(haddps, "haddps", F_N, 0) \
    X(hsubpd, "hsubpd", F_N, 0) X(hsubps, "hsubps", F_N, 0) \
    X(cmpps, "cmpps", F_N, 0) X(cmppd, "cmppd", F_N, 0) X(cmpss, "cmpss", F_N, 0) X(cmpsd, "cmpsd", F_N, 0) \
    X(movnti, "movnti", F_N, 0) X(pinsrw, "pinsrw", F_N, 0) X(pextrw, "pextrw", F_N, 0) \
    X(shufps, "shufps", F_N, 0) X(shufpd, "shufpd", F_N, 0) X(addsubpd, "addsubpd", F_N, 0) \
    X(addsubps, "addsubps", F_N, 0) X(paddq, "paddq", F_N, 0) X(pmullw, "pmullw", F_N, 0) \
    X(movq2dq, "movq2dq", F_N, 0) X(movdq2q, "movdq2q", F_N, 0) X(pmovmskb, "pmovmskb", F_N, 0) \
    X(psubusb, "psubusb", F_N, 0) X(psubusw, "psubusw", F_N, 0) X(pminub, "pminub", F_N, 0) \
    X(pand, "pand", F_N, 0) X(paddusb, "paddusb", F_N, 0) X(paddusw, "paddusw", F_N, 0) \
    X(pmaxub, "pmaxub", F_N, 0) X(pandn, "pandn", F_N, 0) X(pavgb, "pavgb", F_N, 0) \
    X(pavgw, "pavgw", F_N, 0) X(pmulhuw, "pmulhuw", F_N, 0) X(pmulhw, "pmulhw", F_N, 0) \
    X(movntq, "movntq", F_N, 0) X(movntdq, "movntdq", F_N, 0) X(psubsb, "psubsb", F_N, 0) \
    X(psubsw, "psubsw", F_N, 0) X(pminsw, "pminsw", F_N, 0) X(por, "por", F_N, 0) \
    X(paddsb, "paddsb", F_N, 0) X(paddsw, "paddsw", F_N, 0) X(pmaxsw, "pmaxsw", F_N, 0) \
    X(pxor, "pxor", F_N, 0) X(lddqu, "lddqu", F_N, 0) X(pmuludq, "pmuludq", F_N, 0) \
    X(pmaddwd, "pmaddwd", F_N, 0) X(psadbw, "psadbw", F_N, 0) X(maskmovq, "maskmovq", F_N, 0) \
    X(maskmovdqu, "maskmovdqu", F_N, 0) X(psubb, "psubb", F_N, 0) X(psubw, "psubw", F_N, 0) \
    X(psubd, "psubd", F_N, 0) X(psubq, "psubq", F_N, 0) X(paddb, "paddb", F_N, 0) \
    X(paddw, "paddw", F_N, 0) X(paddd, "paddd", F_N, 0) \
    /* SSSE3 / SSE4.1 / SSE4.2 / AES / CLMUL (0F38, 0F3A) */ \
    X(pshufb, "pshufb", F_N, 0) X(phaddw, "phaddw", F_N, 0) X(phaddd, "phaddd", F_N, 0) \
    X(phaddsw, "phaddsw", F_N, 0) X(pmaddubsw, "pmaddubsw", F_N, 0) X(phsubw, "phsubw", F_N, 0) \
    X(phsubd, "phsubd", F_N, 0) X(phsubsw, "phsubsw", F_N, 0) X(psignb, "psignb", F_N, 0) \
    X(psignw, "psignw", F_N, 0) X(psignd, "psignd", F_N, 0) X(pmulhrsw, "pmulhrsw", F_N, 0) \
    X(pblendvb, "pblendvb", F_N, 0) X(blendvps, "blendvps", F_N, 0) X(blendvpd, "blendvpd", F_N, 0) \
    X(ptest, "ptest", F_ARITH, 0) X(pabsb, "pabsb", F_N, 0) X(pabsw, "pabsw", F_N, 0) \
    X(pabsd, "pabsd", F_N, 0) X(pmovsxbw, "pmovsxbw", F_N, 0) X(pmovsxbd, "pmovsxbd", F_N, 0) \
    X(pmovsxbq, "pmovsxbq", F_N, 0) X(pmovsxwd, "pmovsxwd", F_N, 0) X(pmovsxwq, "pmovsxwq", F_N, 0) \
    X(pmovsxdq, "pmovsxdq", F_N, 0) X(pmuldq, "pmuldq", F_N, 0) X(pcmpeqq, "pcmpeqq", F_N, 0) \
    X(movntdqa, "movntdqa", F_N, 0) X(packusdw, "packusdw", F_N, 0) X(pmovzxbw, "pmovzxbw", F_N, 0) \
    X(pmovzxbd, "pmovzxbd", F_N, 0) X(pmovzxbq, "pmovzxbq", F_N, 0) X(pmovzxwd, "pmovzxwd", F_N, 0) \
    X(pmovzxwq, "pmovzxwq", F_N, 0) X(pmovzxdq, "pmovzxdq", F_N, 0) X(pcmpgtq, "pcmpgtq", F_N, 0) \
    X(pminsb, "pminsb", F_N, 0) X(pminsd, "pminsd", F_N, 0) X(pminuw, "pminuw", F_N, 0) \
    X(pminud, "pminud", F_N, 0) X(pmaxsb, "pmaxsb", F_N, 0) X(pmaxsd, "pmaxsd", F_N, 0) \
    X(pmaxuw, "pmaxuw", F_N, 0) X(pmaxud, "pmaxud", F_N, 0) X(pmulld, "pmulld", F_N, 0) \
    X(phminposuw, "phminposuw", F_N, 0) X(aesimc, "aesimc", F_N, 0) X(aesenc, "aesenc", F_N, 0) \
    X(aesenclast, "aesenclast", F_N, 0) X(aesdec, "aesdec", F_N, 0) X(aesdeclast, "aesdeclast", F_N, 0) \
    X(roundps, "roundps", F_N, 0) X(roundpd, "roundpd", F_N, 0) X(roundss, "roundss", F_N, 0) \
    X(roundsd, "roundsd", F_N, 0) X(blendps, "blendps", F_N, 0) X(blendpd, "blendpd", F_N, 0) \
    X(pblendw, "pblendw", F_N, 0) X(palignr, "palignr", F_N, 0) X(pextrb, "pextrb", F_N, 0) \
    X(pextrd, "pextrd", F_N, 0) /* pextrd/pextrq by REX.W */ X(extractps, "extractps", F_N, 0) \
    X(pinsrb, "pinsrb", F_N, 0) X(insertps, "insertps", F_N, 0) X(pinsrd, "pinsrd", F_N, 0) \
    X(dpps, "dpps", F_N, 0) X(dppd, "dppd", F_N, 0) X(mpsadbw, "mpsadbw", F_N, 0) \
    X(pclmulqdq, "pclmulqdq", F_N, 0) X(pcmpestrm, "pcmpestrm", F_ARITH, 0) \
    X(pcmpestri, "pcmpestri", F_ARITH, 0) X(pcmpistrm, "pcmpistrm", F_ARITH, 0) \
    X(pcmpistri, "pcmpistri", F_ARITH, 0) X(aeskeygenassist, "aeskeygenassist", F_N, 0) \
    X(sha1rnds4, "sha1rnds4", F_N, 0) X(sha1nexte, "sha1nexte", F_N, 0) X(sha1msg1, "sha1msg1", F_N, 0) \
    X(sha1msg2, "sha1msg2", F_N, 0) X(sha256rnds2, "sha256rnds2", F_N, 0) \
    X(sha256msg1, "sha256msg1", F_N, 0) X(sha256msg2, "sha256msg2", F_N, 0) \
    /* AVX-only (always VEX; text already has its 'v') */ \
    X(vzeroupper, "vzeroupper", F_N, 0) X(vzeroall, "vzeroall", F_N, 0) \
    X(vbroadcastss, "vbroadcastss", F_N, 0) X(vbroadcastsd, "vbroadcastsd", F_N, 0) \
    X(vbroadcastf128, "vbroadcastf128", F_N, 0) X(vinsertf128, "vinsertf128", F_N, 0) \
    X(vextractf128, "vextractf128", F_N, 0) X(vperm2f128, "vperm2f128", F_N, 0) \
    X(vpermilps, "vpermilps", F_N, 0) X(vpermilpd, "vpermilpd", F_N, 0) \
    X(vtestps, "vtestps", F_ARITH, 0) X(vtestpd, "vtestpd", F_ARITH, 0) \
    X(vmaskmovps, "vmaskmovps", F_N, 0) X(vmaskmovpd, "vmaskmovpd", F_N, 0) \
    X(vpbroadcastb, "vpbroadcastb", F_N, 0) X(vpbroadcastw, "vpbroadcastw", F_N, 0) \
    X(vpbroadcastd, "vpbroadcastd", F_N, 0) X(vpbroadcastq, "vpbroadcastq", F_N, 0) \
    X(vbroadcasti128, "vbroadcasti128", F_N, 0) X(vinserti128, "vinserti128", F_N, 0) \
    X(vextracti128, "vextracti128", F_N, 0) X(vperm2i128, "vperm2i128", F_N, 0) \
    X(vpermq, "vpermq", F_N, 0) X(vpermpd, "vpermpd", F_N, 0) X(vpermd, "vpermd", F_N, 0) \
    X(vpermps, "vpermps", F_N, 0) X(vpblendd, "vpblendd", F_N, 0) \
    X(vpsllvd, "vpsllvd", F_N, 0) X(vpsrlvd, "vpsrlvd", F_N, 0) X(vpsravd, "vpsravd", F_N, 0) \
    X(vpmaskmovd, "vpmaskmovd", F_N, 0) X(vcvtph2ps, "vcvtph2ps", F_N, 0) X(vcvtps2ph, "vcvtps2ph", F_N, 0) \
    X(vblendvps, "vblendvps", F_N, 0) X(vblendvpd, "vblendvpd", F_N, 0) X(vpblendvb, "vpblendvb", F_N, 0) \
    /* decoded for length only (no operands, no semantics): EVEX, XOP, 3DNow!, other VEX */ \
    X(evex, "(evex)", F_N, 0) X(xop, "(xop)", F_N, 0) X(amd3dnow, "(3dnow)", F_N, 0) \
    X(vexother, "(vex)", F_N, 0)
/* clang-format on */
