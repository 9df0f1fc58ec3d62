// Capsule.java - the hand-written entry points: connect, sessions, progress, events.
package org.capsule;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import org.capsule.jni.CapsuleNative;
import org.capsule.jni.NativeObject;

/**
 * Entry points of the Java binding. Everything else (ICapsule, IMachine, ...,
 * the enums) is generated from the typelib.
 *
 * <pre>
 * try (ICapsule c = Capsule.connect()) {
 *     for (IMachine m : c.getMachines())
 *         System.out.println(m.getName());
 * }
 * </pre>
 */
public final class Capsule {
    static {
        Native.load();
    }

    private Capsule() {
    }

    /**
     * The root object of the service of $CAPSULE_HOME (else ~/.capsule), started if needed.
     *
     * @return the root object; closing it (and every object from it) closes the connection
     * @throws CapsuleException if the service cannot be reached or started
     */
    public static ICapsule connect() {
        return connect(null, null);
    }

    /**
     * The root object of the service of {@code home}, started if needed.
     *
     * @param home the CAPSULE_HOME folder; null: $CAPSULE_HOME, else ~/.capsule
     * @param svcPath the capsule-svc to start; null: the one of this build or install
     * @return the root object
     * @throws CapsuleException if the service cannot be reached or started
     */
    public static ICapsule connect(String home, String svcPath) {
        NativeObject o = CapsuleNative.capb_connect_root(home, svcPath);
        if (o == null)
            throw CapsuleException.last();
        return (ICapsule) ISupports.wrap(o);
    }

    /**
     * A new unlocked session (an in-process object, as in any client).
     *
     * @param near any object of the connection the session will be used with (may be null)
     * @return the session
     * @throws CapsuleException if the Session class cannot be created
     */
    public static ISession newSession(ISupports near) {
        NativeObject o = CapsuleNative.capb_create_instance("Session", near == null ? null : near.handle());
        if (o == null)
            throw CapsuleException.last();
        return (ISession) ISupports.wrap(o);
    }

    /**
     * A session locking {@code machine} until close(): try-with-resources
     * gives lock, use (getSession().getMachine(), getConsole()), unlock.
     */
    public static final class Lock implements AutoCloseable {
        private final ISession session;

        Lock(IMachine machine, LockType type) {
            session = newSession(machine);
            try {
                machine.lockMachine(session, type);
            } catch (RuntimeException e) {
                session.close();
                throw e;
            }
        }

        /** @return the session holding the lock */
        public ISession getSession() {
            return session;
        }

        /** @return the session's machine (the mutable copy under a Write lock) */
        public IMachine getMachine() {
            return session.getMachine();
        }

        /** @return the session's console (of the running VM, under a Shared lock) */
        public IConsole getConsole() {
            return session.getConsole();
        }

        /** Unlocks the machine if the session still holds it, and releases the session. */
        @Override
        public void close() {
            try {
                if (session.getState() == SessionState.Locked)
                    session.unlockMachine();
            } finally {
                session.close();
            }
        }
    }

    /**
     * Locks {@code machine} with a new session until the returned Lock is closed.
     *
     * @param machine the machine to lock
     * @param type Write (settings) or Shared (the console of a running VM)
     * @return the lock, for try-with-resources
     * @throws CapsuleException if the machine cannot be locked that way
     */
    public static Lock lock(IMachine machine, LockType type) {
        return new Lock(machine, type);
    }

    /**
     * Waits for a progress to complete.
     *
     * @param progress the operation's progress
     * @param timeoutMs how long to wait, in milliseconds; negative: forever
     * @throws CapsuleException with the operation's own error if it failed, or CAP_E_TIMEOUT if
     *     it did not complete in time
     */
    public static void waitFor(IProgress progress, int timeoutMs) {
        progress.waitForCompletion(timeoutMs);
        if (!progress.getCompleted())
            throw new CapsuleException(0x8000000B, "the operation did not complete within "
                                       + timeoutMs + " ms", "capsule", "IProgress");
        int rc = progress.getResultCode();
        if (rc < 0) {
            try (IErrorInfo ei = progress.getErrorInfo()) {
                if (ei == null)
                    throw new CapsuleException(rc, "the operation failed", null, null);
                throw new CapsuleException(ei.getResultCode(), ei.getMessage(), ei.getComponent(),
                                           ei.getInterfaceName());
            }
        }
    }

    /**
     * A passive listener registered on {@code source} from construction to
     * close(); iterate over {@link #events(long)} to receive the events, each
     * as the interface of its type (IMachineStateChangedEvent, ...).
     */
    public static final class Events implements AutoCloseable {
        private final IEventSource source;
        private IEventListener listener;

        Events(IEventSource source, List<EventType> types) {
            this.source = source;
            listener = source.createListener();
            source.registerListener(listener, types, false);
        }

        /**
         * The events arriving within a time, each as the interface of its type.
         *
         * @param timeoutMs how long to keep waiting for events, in milliseconds; negative:
         *     forever
         * @return the events, received while iterating
         */
        public Iterable<IEvent> events(long timeoutMs) {
            long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.currentTimeMillis() + timeoutMs;
            return () -> new Iterator<IEvent>() {
                private IEvent next;

                @Override
                public boolean hasNext() {
                    while (next == null) {
                        long left = deadline - System.currentTimeMillis();
                        if (left <= 0)
                            return false;
                        IEvent ev = source.getEvent(listener, (int) Math.min(left, 1000));
                        if (ev != null) {
                            source.eventProcessed(listener, ev);
                            next = downcast(ev);
                        }
                    }
                    return true;
                }

                @Override
                public IEvent next() {
                    if (!hasNext())
                        throw new NoSuchElementException();
                    IEvent ev = next;
                    next = null;
                    return ev;
                }
            };
        }

        /** Unregisters the listener; no more events arrive. */
        @Override
        public void close() {
            if (listener != null) {
                source.unregisterListener(listener);
                listener.close();
                listener = null;
            }
        }
    }

    /**
     * Registers a passive listener on {@code source} for {@code types}.
     *
     * @param source the event source (ICapsule's getEventSource(), ...)
     * @param types the event types to receive; none: every type (EventType.Any)
     * @return the listener, for try-with-resources
     * @throws CapsuleException if the listener cannot be registered
     */
    public static Events events(IEventSource source, EventType... types) {
        List<EventType> l = new ArrayList<>(List.of(types));
        if (l.isEmpty())
            l.add(EventType.Any);
        return new Events(source, l);
    }

    /** An event as the interface its type names (OnXxx -> IXxxEvent), else as IEvent. */
    static IEvent downcast(IEvent ev) {
        String t = ev.getType().name();
        if (!t.startsWith("On"))
            return ev;
        try {
            Class<? extends IEvent> k =
                Class.forName("org.capsule.I" + t.substring(2) + "Event").asSubclass(IEvent.class);
            IEvent d = ev.queryInterface(k);
            ev.close();
            return d;
        } catch (ClassNotFoundException | CapsuleException e) {
            return ev;
        }
    }
}
