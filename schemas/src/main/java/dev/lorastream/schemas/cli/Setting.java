package dev.lorastream.schemas.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On the field of a picocli option: the configuration key the option sets. The option's text goes
 * to that key unchanged ({@link Settings#of}), so the component's configuration class parses and
 * checks it, and its errors are reported naming the option ({@link Settings#build}). The default
 * the help shows is the configuration's own, from the {@link SettingDefaults} that declares the field.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Setting {
    /** The configuration key, e.g. {@code router.placement.busy.at}. */
    String value();
}
