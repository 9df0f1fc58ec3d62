/*
 * golden_cxx.cc - the header generated from golden.xidl, compiled as C++
 * (the SConscript builds this file with -std=c++17 -pedantic -Werror): it
 * must parse, and its inline helpers must work from C++ code.
 */
#include "golden.h"

namespace
{

cap_result ping(IGoldenBase *)
{
    return GOLDEN_S_PARTIAL;
}

} // namespace

extern "C" int idlc_cxx_check(void);

extern "C" int idlc_cxx_check(void)
{
    IGoldenBaseVtbl vtbl = {};
    vtbl.Ping = ping;
    IGoldenBase obj = {&vtbl};
    if (IGoldenBase_Ping(&obj) != GOLDEN_S_PARTIAL)
        return 1;
    if (Colour_Green != 16 || sizeof(IGoldenArraysVtbl) != 19 * sizeof(void (*)()))
        return 2;
    return IID_IGoldenBase_STR[0] == '6' ? 0 : 3;
}
