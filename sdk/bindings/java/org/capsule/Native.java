// Native.java - loads libcapsule-jni.so (next to capsule.jar, else java.library.path).
package org.capsule;

import java.io.File;

final class Native {
    private static boolean loaded;

    private Native() {
    }

    static synchronized void load() {
        if (loaded)
            return;
        try {
            File jar = new File(Native.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            File lib = new File(jar.isDirectory() ? jar : jar.getParentFile(), "libcapsule-jni.so");
            if (lib.exists()) {
                System.load(lib.getAbsolutePath());
                loaded = true;
                return;
            }
        } catch (Exception e) {
            // fall back to the library path
        }
        System.loadLibrary("capsule-jni");
        loaded = true;
    }
}
