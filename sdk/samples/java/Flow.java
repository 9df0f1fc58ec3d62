// Flow.java KERNEL [NAME] - the README's Java example: list the machines,
// create and register a VM that boots KERNEL, start it headless, wait for its
// state-change event, say which engine runs it, type into it and move its
// mouse, power it off, and remove the machine again (also when a step
// fails), so the example can run again.
//
// javac -cp BUILD/java/capsule.jar Flow.java && java -cp BUILD/java/capsule.jar:. Flow KERNEL
import java.util.List;

import org.capsule.*;

public class Flow {
    public static void main(String[] args) {
        String name = args.length > 1 ? args[1] : "java-demo";
        int rc = 1;
        try (ICapsule c = Capsule.connect()) { // starts capsule-svc if none runs
            List<IMachine> machines = c.getMachines();
            System.out.println("Capsule " + c.getVersion() + ", " + machines.size() + " machine(s)");
            for (IMachine m : machines)
                System.out.println("  " + m); // <IMachine 'name' {id}>

            IMachine m = c.createMachine("", name, "", null, false);
            try {
                rc = run(c, m, args[0]);
            } finally {
                remove(m);
            }
        }
        System.exit(rc);
    }

    /** Registers, starts and stops the machine; 0 if it ends PoweredOff. */
    static int run(ICapsule c, IMachine m, String kernel) {
        m.setMemorySize(16);
        m.setKernel(kernel);
        c.registerMachine(m);
        System.out.println("registered " + m.getName() + ", " + m.getMemorySize() + " MB, id " + m.getId());

        try (Capsule.Events events = Capsule.events(c.getEventSource(), EventType.OnMachineStateChanged)) {
            try (ISession session = Capsule.newSession(c)) {
                Capsule.waitFor(m.launchVMProcess(session, "headless", List.of()), -1);
                session.unlockMachine(); // detach; the VM process keeps its own lock
            }
            for (IEvent ev : events.events(30000)) {
                IMachineStateChangedEvent sc = (IMachineStateChangedEvent) ev;
                System.out.println("event: " + c.findMachine(sc.getMachineId().toString()).getName()
                                   + " is " + sc.getState());
                if (sc.getMachineId().equals(m.getId()) && sc.getState() == MachineState.Running)
                    break;
            }
            try (Capsule.Lock lock = Capsule.lock(m, LockType.Shared)) {
                IMachineDebugger dbg = lock.getConsole().getDebugger();
                System.out.println(dbg.getExecutionEngineReason()); // "engine rem (asked: auto): ..."
                // Keys and the mouse, as a user at the VM's screen would (this guest ignores them)
                IKeyboard kbd = lock.getConsole().getKeyboard();
                long n = kbd.putScancodes(List.of(0x1e, 0x9e)); // A down, A up
                kbd.putString("hi");
                lock.getConsole().getMouse().putMouseEvent(5, -3, 0, 0, MouseButtonState.LeftButton.value());
                System.out.println("typed " + n + " scancodes and 'hi', moved the mouse");
                Capsule.waitFor(lock.getConsole().powerDown(), -1);
            }
            for (IEvent ev : events.events(30000)) {
                IMachineStateChangedEvent sc = (IMachineStateChangedEvent) ev;
                if (sc.getMachineId().equals(m.getId()) && sc.getState() == MachineState.PoweredOff)
                    break;
            }
        }
        System.out.println(m.getName() + " is " + m.getState());
        return m.getState() == MachineState.PoweredOff ? 0 : 1;
    }

    /**
     * Undoes what run() did, as far as it got: powers the VM off if it still
     * runs, unregisters the machine and deletes its files. Each step is tried
     * on its own, so a failure here never hides the one that ended run().
     */
    static void remove(IMachine m) {
        try {
            if (m.getState() != MachineState.PoweredOff && m.getState() != MachineState.Aborted) {
                try (Capsule.Lock lock = Capsule.lock(m, LockType.Shared)) {
                    Capsule.waitFor(lock.getConsole().powerDown(), 30000);
                }
            }
        } catch (CapsuleException e) {
            System.err.println("cleanup: power off: " + e.getMessage());
        }
        // The VM process drops its lock just after the machine reaches PoweredOff.
        try {
            for (int i = 0; i < 100 && m.getSessionState() != SessionState.Unlocked; i++)
                Thread.sleep(100);
        } catch (CapsuleException | InterruptedException e) {
            System.err.println("cleanup: waiting for the unlock: " + e.getMessage());
        }
        try {
            m.unregister();
        } catch (CapsuleException e) {
            if (e.getResultCode() != Results.CAP_E_INVALID_OBJECT_STATE) // never registered
                System.err.println("cleanup: unregister: " + e.getMessage());
        }
        try {
            Capsule.waitFor(m.deleteConfig(), 30000);
            System.out.println("removed " + m.getName());
        } catch (CapsuleException e) {
            System.err.println("cleanup: delete: " + e.getMessage());
        }
    }
}
