package dev.lorastream.schemas.cli;

import picocli.CommandLine;

/** Converts an option's text to a TCP port, 0 (a free one) to 65535; picocli names the option when it is not one. */
public final class Port implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
        int port;
        try {
            port = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a port number");
        }
        if (port < 0 || port > 65_535) throw new CommandLine.TypeConversionException(port + " is not a port (0 to 65535; 0 picks a free one)");
        return port;
    }
}
