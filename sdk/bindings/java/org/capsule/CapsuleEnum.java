// CapsuleEnum.java - what every generated enum implements.
package org.capsule;

/** An IDL enum: its constants carry the IDL's integer values. */
public interface CapsuleEnum {
    /** @return the IDL value of the constant */
    int value();
}
