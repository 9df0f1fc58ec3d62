"""tests/bench/bindings/bench_bindings.py - the Python side of the bindings
benchmark: ns per `c.revision` (the same IPC call as bench_bindings.c) through
the generated property, and through the bare core (one frame, invoke, get,
free: what the generic layer costs without the Python wrapper), best of 5
rounds of N calls; and an in-process call (a Session's state, no IPC)."""
import sys
import time

import capsule
from capsule import native as n


def best(fn, count):
    t = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        fn(count)
        t.append((time.perf_counter_ns() - t0) / count)
    return min(t)


def main(count=20000):
    c = capsule.connect()

    def prop(k):
        for _ in range(k):
            c.revision

    slot = next(m.slot for m in capsule._lib.ifaces['ICapsule'].methods if m.idl_name == 'revision')

    def core(k):
        o = c._obj
        for _ in range(k):
            f = n.capb_call_new(o, slot)
            n.capb_invoke(f)
            n.capb_get_int(f, 0)
            del f

    s = capsule.new_session(c)

    def local(k):
        for _ in range(k):
            s.state

    print('py_ns_per_call %.0f' % best(prop, count))
    print('py_local_ns_per_call %.1f' % best(local, count * 10))
    print('py_core_ns_per_call %.0f' % best(core, count))


if __name__ == '__main__':
    main(*[int(a) for a in sys.argv[1:]])
