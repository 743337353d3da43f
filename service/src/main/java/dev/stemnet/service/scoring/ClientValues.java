package dev.stemnet.service.scoring;

/**
 * How an error message quotes what the client sent (a model name, a task, a feature name, a header): at most
 * {@link #MAX_ECHOED_LENGTH} characters of it. The body may hold a 2 MB value; the error need not repeat it.
 */
public final class ClientValues {

    public static final int MAX_ECHOED_LENGTH = 100;
    private static final String ELLIPSIS = "…";

    private ClientValues() {}

    /** {@code value} itself when short enough, else its first {@link #MAX_ECHOED_LENGTH} characters and "…". */
    public static String echo(String value) {
        if (value == null || value.length() <= MAX_ECHOED_LENGTH) {
            return value;
        }
        int end = MAX_ECHOED_LENGTH;
        if (Character.isHighSurrogate(value.charAt(end - 1))) {
            end--; // never split a surrogate pair: half of one is not a character
        }
        return value.substring(0, end) + ELLIPSIS;
    }
}
