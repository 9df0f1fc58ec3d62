// ISupports.java - the root of every generated interface class.
package org.capsule;

import java.lang.reflect.Constructor;
import java.util.concurrent.ConcurrentHashMap;

import org.capsule.jni.CapsuleNative;
import org.capsule.jni.NativeObject;

/**
 * One reference to a Capsule object. close() releases it at once (the class is
 * AutoCloseable: use try-with-resources); otherwise it is released when the
 * wrapper is garbage collected. The wrapper class of an object is the one of
 * its interface, found by name among the generated classes (no table written
 * by hand).
 */
public class ISupports implements AutoCloseable {
    static {
        Native.load();
    }

    private NativeObject obj;

    /**
     * Wraps a native object; objects come from the API, never from user code.
     *
     * @param o the native object, owned by the new wrapper
     */
    protected ISupports(NativeObject o) {
        this.obj = o;
    }

    NativeObject handle() {
        if (obj == null)
            throw new IllegalStateException("the object was closed");
        return obj;
    }

    /** Releases the reference now. Calls on the object fail afterwards. */
    @Override
    public synchronized void close() {
        if (obj != null) {
            obj.delete();
            obj = null;
        }
    }

    /**
     * This object as another interface.
     *
     * @param <T> the interface's class
     * @param iface the interface's class, e.g. {@code IMachineStateChangedEvent.class}
     * @return a new reference to the object as that interface
     * @throws CapsuleException (CAP_E_NOINTERFACE) if the object does not implement it
     */
    public <T extends ISupports> T queryInterface(Class<T> iface) {
        NativeObject o = CapsuleNative.capb_query(handle(), iface.getSimpleName());
        if (o == null)
            throw CapsuleException.last();
        return iface.cast(wrap(o));
    }

    /**
     * Object identity through any interface and proxy.
     *
     * @param other another wrapper (may be null)
     * @return true if both wrappers reach the same object
     */
    public boolean sameObject(ISupports other) {
        return other != null && CapsuleNative.capb_obj_same(handle(), other.handle()) != 0;
    }

    /**
     * Names the object: its interface, then its name and id where the interface has them,
     * e.g. {@code <IMachine 'tiny' {5d1c...}>}. An attribute that cannot be read (a dead
     * service, an inaccessible machine) is left out; toString() itself never throws.
     *
     * @return the description
     */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("<").append(getClass().getSimpleName());
        if (obj == null)
            return s.append(" (closed)>").toString();
        for (String attr : new String[] {"Name", "Id"}) {
            Object v;
            try {
                v = getClass().getMethod("get" + attr).invoke(this);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue; // no such attribute, or reading it failed
            }
            if (v instanceof java.util.UUID)
                s.append(" {").append(v).append('}');
            else if (v != null && attr.equals("Name"))
                s.append(" '").append(v).append('\'');
            else if (v != null)
                s.append(" id='").append(v).append('\'');
        }
        return s.append('>').toString();
    }

    private static final ConcurrentHashMap<String, Constructor<? extends ISupports>> ctors =
        new ConcurrentHashMap<>();

    /** The wrapper of the object's interface (null for null). */
    static ISupports wrap(NativeObject o) {
        if (o == null)
            return null;
        String name = CapsuleNative.capb_obj_iface(o);
        Constructor<? extends ISupports> c = ctors.computeIfAbsent(name, n -> {
            try {
                Class<? extends ISupports> k =
                    Class.forName("org.capsule." + n).asSubclass(ISupports.class);
                Constructor<? extends ISupports> ct = k.getDeclaredConstructor(NativeObject.class);
                ct.setAccessible(true);
                return ct;
            } catch (ReflectiveOperationException e) {
                return null;
            }
        });
        try {
            return c != null ? c.newInstance(o) : new ISupports(o);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
