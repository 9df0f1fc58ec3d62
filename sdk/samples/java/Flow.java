// Flow.java KERNEL [NAME] - the README's Java example: list the machines,
// create and register a VM that boots KERNEL, start it headless, wait for its
// state-change event, power it off.
//
// javac -cp BUILD/java/capsule.jar Flow.java && java -cp BUILD/java/capsule.jar:. Flow KERNEL
import java.util.List;

import org.capsule.*;

public class Flow {
    public static void main(String[] args) {
        String name = args.length > 1 ? args[1] : "java-demo";
        try (ICapsule c = Capsule.connect()) { // starts capsule-svc if none runs
            List<IMachine> machines = c.getMachines();
            System.out.println("Capsule " + c.getVersion() + ", " + machines.size() + " machine(s)");
            for (IMachine m : machines)
                System.out.println("  " + m.getName() + " (" + m.getState() + ")");

            IMachine m = c.createMachine("", name, "", null, false);
            m.setMemorySize(16);
            m.setKernel(args[0]);
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
                    Capsule.waitFor(lock.getConsole().powerDown(), -1);
                }
                for (IEvent ev : events.events(30000)) {
                    IMachineStateChangedEvent sc = (IMachineStateChangedEvent) ev;
                    if (sc.getMachineId().equals(m.getId()) && sc.getState() == MachineState.PoweredOff)
                        break;
                }
            }
            System.out.println(m.getName() + " is " + m.getState());
            System.exit(m.getState() == MachineState.PoweredOff ? 0 : 1);
        }
    }
}
