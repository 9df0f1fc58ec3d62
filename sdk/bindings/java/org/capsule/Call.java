// Call.java - one dynamic call, the only code the generated classes call.
package org.capsule;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.capsule.jni.CapsuleNative;
import org.capsule.jni.NativeCall;

/**
 * A call frame of the binding core (capbind.h): set the in params by index,
 * invoke, read the out params by index. The typelib knows each param's type;
 * the setters here take any Java value of a compatible kind and the core
 * checks it against the param. Not for applications: the generated interface
 * classes use it.
 */
final class Call implements AutoCloseable {
    private final NativeCall f;

    Call(ISupports self, int slot) {
        f = CapsuleNative.capb_call_new(self.handle(), slot);
        if (f == null)
            throw CapsuleException.last();
    }

    @Override
    public void close() {
        f.delete();
    }

    private void check(int rc) {
        if (rc < 0)
            throw new CapsuleException(CapsuleNative.capb_call_error_code(f),
                                       CapsuleNative.capb_call_error_message(f),
                                       CapsuleNative.capb_call_error_component(f),
                                       CapsuleNative.capb_call_error_iface(f));
    }

    void invoke() {
        check(CapsuleNative.capb_invoke(f));
    }

    // ---- in values ----
    void in(int i, long v) {
        check(CapsuleNative.capb_set_int(f, i, v));
    }

    void in(int i, boolean v) {
        in(i, v ? 1L : 0L);
    }

    void in(int i, double v) {
        check(CapsuleNative.capb_set_double(f, i, v));
    }

    void in(int i, String v) {
        check(CapsuleNative.capb_set_str(f, i, v));
    }

    void in(int i, UUID v) {
        check(CapsuleNative.capb_set_str(f, i, v == null ? null : v.toString()));
    }

    void in(int i, CapsuleEnum v) {
        in(i, (long) v.value());
    }

    void in(int i, ISupports v) {
        check(CapsuleNative.capb_set_obj(f, i, v == null ? null : v.handle()));
    }

    void inList(int i, List<?> l) {
        int n = l == null ? 0 : l.size();
        check(CapsuleNative.capb_set_array(f, i, n));
        for (int k = 0; k < n; k++) {
            Object v = l.get(k);
            int rc;
            if (v instanceof Boolean)
                rc = CapsuleNative.capb_set_elem_int(f, i, k, ((Boolean) v) ? 1 : 0);
            else if (v instanceof Double || v instanceof Float)
                rc = CapsuleNative.capb_set_elem_double(f, i, k, ((Number) v).doubleValue());
            else if (v instanceof Number)
                rc = CapsuleNative.capb_set_elem_int(f, i, k, ((Number) v).longValue());
            else if (v instanceof CapsuleEnum)
                rc = CapsuleNative.capb_set_elem_int(f, i, k, ((CapsuleEnum) v).value());
            else if (v instanceof ISupports)
                rc = CapsuleNative.capb_set_elem_obj(f, i, k, ((ISupports) v).handle());
            else
                rc = CapsuleNative.capb_set_elem_str(f, i, k, v == null ? null : v.toString());
            check(rc);
        }
    }

    // ---- out values ----
    boolean getBool(int i) {
        return CapsuleNative.capb_get_int(f, i) != 0;
    }

    byte getByte(int i) {
        return (byte) CapsuleNative.capb_get_int(f, i);
    }

    short getShort(int i) {
        return (short) CapsuleNative.capb_get_int(f, i);
    }

    int getInt(int i) {
        return (int) CapsuleNative.capb_get_int(f, i);
    }

    long getLong(int i) {
        return CapsuleNative.capb_get_int(f, i);
    }

    double getDouble(int i) {
        return CapsuleNative.capb_get_double(f, i);
    }

    String getString(int i) {
        return CapsuleNative.capb_get_str(f, i);
    }

    UUID getUuid(int i) {
        String s = CapsuleNative.capb_get_str(f, i);
        return s == null ? null : UUID.fromString(s);
    }

    <E extends Enum<E> & CapsuleEnum> E getEnum(int i, Class<E> cls) {
        return enumOf(cls, (int) CapsuleNative.capb_get_int(f, i));
    }

    <T extends ISupports> T getObj(int i, Class<T> cls) {
        return cls.cast(asClass(ISupports.wrap(CapsuleNative.capb_get_obj(f, i)), cls));
    }

    private int count(int i) {
        return (int) CapsuleNative.capb_get_count(f, i);
    }

    List<Boolean> getBoolList(int i) {
        List<Boolean> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add(CapsuleNative.capb_get_elem_int(f, i, k) != 0);
        return l;
    }

    List<Byte> getByteList(int i) {
        List<Byte> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add((byte) CapsuleNative.capb_get_elem_int(f, i, k));
        return l;
    }

    List<Short> getShortList(int i) {
        List<Short> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add((short) CapsuleNative.capb_get_elem_int(f, i, k));
        return l;
    }

    List<Integer> getIntList(int i) {
        List<Integer> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add((int) CapsuleNative.capb_get_elem_int(f, i, k));
        return l;
    }

    List<Long> getLongList(int i) {
        List<Long> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add(CapsuleNative.capb_get_elem_int(f, i, k));
        return l;
    }

    List<Double> getDoubleList(int i) {
        List<Double> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add(CapsuleNative.capb_get_elem_double(f, i, k));
        return l;
    }

    List<String> getStringList(int i) {
        List<String> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add(CapsuleNative.capb_get_elem_str(f, i, k));
        return l;
    }

    List<UUID> getUuidList(int i) {
        List<UUID> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++) {
            String s = CapsuleNative.capb_get_elem_str(f, i, k);
            l.add(s == null ? null : UUID.fromString(s));
        }
        return l;
    }

    <E extends Enum<E> & CapsuleEnum> List<E> getEnumList(int i, Class<E> cls) {
        List<E> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add(enumOf(cls, (int) CapsuleNative.capb_get_elem_int(f, i, k)));
        return l;
    }

    <T extends ISupports> List<T> getObjList(int i, Class<T> cls) {
        List<T> l = new ArrayList<>();
        for (int k = 0, n = count(i); k < n; k++)
            l.add(cls.cast(asClass(ISupports.wrap(CapsuleNative.capb_get_elem_obj(f, i, k)), cls)));
        return l;
    }

    private static <E extends Enum<E> & CapsuleEnum> E enumOf(Class<E> cls, int v) {
        for (E e : cls.getEnumConstants())
            if (e.value() == v)
                return e;
        throw new IllegalArgumentException("no " + cls.getSimpleName() + " with value " + v);
    }

    /** The wrapper is of the param's interface already (the core tags results with it). */
    private static ISupports asClass(ISupports o, Class<? extends ISupports> cls) {
        return o;
    }
}
