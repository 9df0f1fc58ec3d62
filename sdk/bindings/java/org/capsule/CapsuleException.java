// CapsuleException.java - a failed Capsule call.
package org.capsule;

/**
 * A failed call: the result code (negative), its name ("CAP_E_OBJECT_NOT_FOUND")
 * and the message of whoever failed (usually capsule-svc's, carried over IPC).
 * Unchecked, like VirtualBox's VBoxException: every API call may fail.
 */
public class CapsuleException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** The cap_result code (negative). */
    private final int resultCode;
    /** The code's name. */
    private final String resultName;
    /** The component that failed, or null. */
    private final String component;
    /** The interface that failed, or null. */
    private final String interfaceName;
    /** The message without the code. */
    private final String bareMessage;

    /**
     * A failure with its code and message.
     *
     * @param resultCode the cap_result code (negative)
     * @param message the message for people (UTF-8)
     * @param component the component that failed (e.g. "capsule-svc"), or null
     * @param interfaceName the interface that failed (e.g. "ICapsule"), or null
     */
    public CapsuleException(int resultCode, String message, String component, String interfaceName) {
        super(message + " (" + org.capsule.jni.CapsuleNative.capb_result_name(resultCode) + ", 0x"
              + String.format("%08x", resultCode) + ")");
        this.resultCode = resultCode;
        this.resultName = org.capsule.jni.CapsuleNative.capb_result_name(resultCode);
        this.component = component;
        this.interfaceName = interfaceName;
        this.bareMessage = message;
    }

    /** @return the cap_result code (negative) */
    public int getResultCode() {
        return resultCode;
    }

    /** @return the code's name, e.g. "CAP_E_OBJECT_NOT_FOUND" */
    public String getResultName() {
        return resultName;
    }

    /** @return the message alone, without the code */
    public String getServiceMessage() {
        return bareMessage;
    }

    /** @return the component that failed (e.g. "capsule-svc"), or null */
    public String getComponent() {
        return component;
    }

    /** @return the interface that failed (e.g. "ICapsule"), or null */
    public String getInterfaceName() {
        return interfaceName;
    }

    static CapsuleException last() {
        org.capsule.jni.NativeError e = org.capsule.jni.CapsuleNative.capb_last_error();
        return new CapsuleException(e.getCode(), e.getMessage() == null ? "" : e.getMessage(),
                                    e.getComponent(), e.getIface());
    }
}
