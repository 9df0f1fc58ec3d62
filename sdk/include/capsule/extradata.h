/*
 * capsule/extradata.h - extra data keys the service, the VM process and
 * the clients share (IMachine's getExtraData / setExtraData). Extra data is
 * written to the machine's settings file at once and survives restarts.
 */
#ifndef CAPSULE_EXTRADATA_H
#define CAPSULE_EXTRADATA_H

/*
 * Why the machine is Aborted, one line for people ("triple fault at
 * 0008:0000000000100005", "the VM process (pid 4242) was killed by signal 9
 * (Killed)"). The VM process sets it before it reports Aborted; the service
 * sets it when a VM process ends without powering off, and removes it when
 * the machine starts again. `capsule showvminfo` prints it.
 */
#define CAP_EXTRADATA_ABORT_REASON "Capsule/AbortReason"

#endif /* CAPSULE_EXTRADATA_H */
