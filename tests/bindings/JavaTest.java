// tests/bindings/JavaTest.java - the Java binding against a real capsule-svc
// (run by java.sh in a temporary CAPSULE_HOME): the README's flow
// (sdk/samples/java/Flow.java, run as its own process), the service's message
// in CapsuleException, conversions, and handle leaks (close() releases at
// once; nothing stays in the service after the client process exits, read
// through a second client). Plain Java (no JUnit on a fresh machine): each
// check prints "ok"/"FAIL"; exit 1 if any failed.
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;

import org.capsule.*;

public class JavaTest {
    static int fails;
    static final String B = System.getenv("CAPSULE_BUILD");

    static void check(boolean ok, String what) {
        System.out.println((ok ? "ok   " : "FAIL ") + what);
        if (!ok)
            fails++;
    }

    static String run(List<String> cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        StringBuilder sb = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            for (String l; (l = r.readLine()) != null;)
                sb.append(l).append('\n');
        }
        int rc = p.waitFor();
        return rc + "\n" + sb;
    }

    /** {clients, handles} read by a second client process (holdclient). */
    static long[] counts() throws Exception {
        String[] out = run(List.of(B + "/tests/holdclient", "counts")).split("\\s+");
        return new long[] {Long.parseLong(out[2]), Long.parseLong(out[4])};
    }

    static List<String> javaCmd(String main, String... args) {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-cp",
                                                   System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A client that takes objects and exits without closing them (for the leak check). */
    public static class Holder {
        public static void main(String[] a) {
            ICapsule c = Capsule.connect();
            List<Object> keep = List.of(c.getHost(), c.getMachines(), c.getEventSource(),
                                        c.getEventSource().createListener(), Capsule.newSession(c));
            System.out.println(c.getObjectHandleCount() + " " + keep.size());
        }
    }

    public static void main(String[] args) throws Exception {
        // Twice: the sample removes its machine, also when a step fails.
        for (int i = 1; i <= 2; i++) {
            String flow = run(javaCmd("Flow", B + "/tests/vm-payloads/serial_hlt.bin", "java-flow"));
            System.out.print(flow.substring(flow.indexOf('\n') + 1));
            check(flow.startsWith("0\n") && flow.contains("event: java-flow is Running")
                  && flow.contains("typed 2 scancodes and 'hi', moved the mouse")
                  && flow.contains("java-flow is PoweredOff") && flow.contains("removed java-flow"),
                  "README flow (Flow.java), run " + i);
            // no KVM: engine auto ran the VM under rem, and says why
            if (System.getenv("NO_KVM") != null)
                check(flow.contains("engine rem (asked: auto): hm is not usable here"),
                      "without KVM the README flow's VM ran under rem (auto)");
        }
        // A failing run (no such kernel) removes its machine too.
        String failed = run(javaCmd("Flow", "/nonexistent/kernel", "java-flow"));
        check(!failed.startsWith("0\n") && failed.contains("/nonexistent/kernel")
              && failed.contains("removed java-flow"), "a failing Flow.java removes its machine");
        try (ICapsule c = Capsule.connect()) {
            try {
                c.findMachine("java-flow");
                check(false, "Flow.java left its machine registered");
            } catch (CapsuleException e) {
                check(e.getResultCode() == Results.CAP_E_OBJECT_NOT_FOUND, "Flow.java unregistered its machine");
            }
            check(!new File(c.composeMachineFilename("java-flow", "")).exists(),
                  "Flow.java deleted its machine's settings file");
        }

        try (ICapsule c = Capsule.connect()) {
            try {
                c.findMachine("no-such-vm");
                check(false, "findMachine of an unknown VM throws");
            } catch (CapsuleException e) {
                check(e.getResultCode() == Results.CAP_E_OBJECT_NOT_FOUND
                      && e.getResultName().equals("CAP_E_OBJECT_NOT_FOUND")
                      && e.getServiceMessage().contains("no-such-vm")
                      && "capsule-svc".equals(e.getComponent()),
                      "unknown VM -> CapsuleException: " + e.getMessage());
            }

            IMachine m = c.createMachine("", "jconv", "", null, false);
            m.setMemorySize(48);
            m.setDescription("ünïcode");
            check(m.getMemorySize() == 48 && m.getDescription().equals("ünïcode")
                  && m.getState() == MachineState.PoweredOff, "attributes round-trip");
            c.registerMachine(m);
            check(m.toString().equals("<IMachine 'jconv' {" + m.getId() + "}>"),
                  "toString names the machine: " + m);
            try (IHost h = c.getHost()) {
                check(h.toString().equals("<IHost>"), "toString of an object without name or id: " + h);
            }
            try (Capsule.Lock l = Capsule.lock(m, LockType.Write)) {
                l.getMachine().setMemorySize(96);
                l.getMachine().saveSettings();
            }
            check(c.findMachine("jconv").getMemorySize() == 96, "settings changed under a Write lock");
            check(c.getMachineStates(List.of(m)).equals(List.of(MachineState.PoweredOff)),
                  "arrays in and out");

            long base = c.getObjectHandleCount();
            List<ISupports> held = new ArrayList<>(List.of(c.getHost(), c.getSystemProperties(),
                                                           c.getEventSource()));
            held.addAll(c.getMachines());
            boolean more = c.getObjectHandleCount() > base;
            for (ISupports o : held)
                o.close();
            check(held.get(0).toString().equals("<IHost (closed)>"), "toString of a closed object");
            check(more && c.getObjectHandleCount() == base, "close() releases the service's handles");
        }

        long[] before = counts();
        String out = run(javaCmd("JavaTest$Holder"));
        check(out.startsWith("0\n"), "holder client ran: " + out.trim().replace('\n', ' '));
        long[] after = counts();
        check(after[1] == before[1] && after[0] == before[0],
              "no handle left after the client exits (handles " + before[1] + " -> " + after[1] + ")");
        System.out.println(fails == 0 ? "java: all passed" : "java: " + fails + " failure(s)");
        System.exit(fails == 0 ? 0 : 1);
    }
}
