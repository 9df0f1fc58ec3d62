/*
 * sdk/bindings/capsule_bind.i - the SWIG input of the Python and Java
 * bindings: the generated capsule.i (result codes, enums, class IDs and
 * contract IDs of the IDL, as constants) plus the generic binding core
 * (capbind.h). SCons runs SWIG on this file once per language; the module
 * is named on SWIG's command line (-module).
 *
 * The generated file also declares the header's static call helpers
 * (IMachine_GetName(IMachine *, char **) ...); the bindings do not wrap
 * them: every call goes through the core's typelib-driven frames, so the
 * languages need no typemap per C signature and no code per interface.
 */
%{
#include <capsule/capsule.h>
#include "capbind.h"
%}

/* Calls that may block (IPC round trips, a service starting) let other
 * Python threads run; everything else keeps the GIL (cheaper). */
%feature("nothreadallow");
%feature("nothreadallow", "0") capb_invoke;
%feature("nothreadallow", "0") capb_connect_root;

/* The header's static helpers, IIDs and CLSIDs (generated names
 * I<Iface>_<Slot>, IID_<Iface>, CLSID_<Class>) are not wrapped. */
%rename("$ignore", regextarget=1, fullname=1) "^I[A-Z][A-Za-z0-9]*_[A-Z]";
%rename("$ignore", regextarget=1, fullname=1) "^IID_";
%rename("$ignore", regextarget=1, fullname=1) "^CLSID_";
%rename("$ignore") cap_uuid;

%include "capsule.i"

/* ---- the core --------------------------------------------------------------------- */

%include <stdint.i>

%rename(NativeObject) capb_obj;
%rename(NativeError) capb_error;
%rename(NativeCall) capb_call;
%nodefaultctor capb_obj;
%nodefaultdtor capb_obj;
%nodefaultctor capb_error;
%nodefaultdtor capb_error;
%nodefaultctor capb_call;
%nodefaultdtor capb_call;

/* An object's wrapper owns its reference: SWIG's proxy frees it when it is
 * collected (Python) or deleted/finalized (Java). */
struct capb_obj {
};
%extend capb_obj {
    ~capb_obj() { capb_obj_free($self); }
}
struct capb_call {
};
%extend capb_call {
    ~capb_call() { capb_call_free($self); }
}

/* capb_connect's out param: the root object is the return value; the
 * result code is read from capb_last_error() when it is NULL. */
%ignore capb_connect;
%newobject capb_connect_root;
%inline %{
static struct capb_obj *capb_connect_root(const char *home, const char *svc_path)
{
    struct capb_obj *root = NULL;
    capb_connect(home, svc_path, &root);
    return root;
}
%}

%newobject capb_create_instance;
%newobject capb_query;
%newobject capb_obj_dup;
%newobject capb_call_new;
%newobject capb_get_obj;
%newobject capb_get_elem_obj;
%ignore capb_obj_free;
%ignore capb_call_free;
%immutable capb_error::code;
%immutable capb_error::message;
%immutable capb_error::component;
%immutable capb_error::iface;

%include "capbind.h"
