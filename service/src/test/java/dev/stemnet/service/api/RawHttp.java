package dev.stemnet.service.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 exchange over a plain socket to 127.0.0.1, for what an HTTP client library will not send: headers
 * over the limit, a body shorter than its Content-Length, broken chunked encoding, a path with {@code ..} in it,
 * or a large body written to the end before the response is read.
 */
final class RawHttp {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    /** @param headers by lower-case name */
    record Response(int status, Map<String, String> headers, String body) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private RawHttp() {}

    /** Sends {@code head} (request line and headers, up to the blank line) and then {@code body}, then reads. */
    static Response exchange(int port, String head, byte[] body, boolean closeOutputAfterBody) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            if (closeOutputAfterBody) {
                socket.shutdownOutput();
            }
            return read(socket.getInputStream());
        }
    }

    static Response exchange(int port, String head, String body) throws IOException {
        return exchange(port, head, body.getBytes(StandardCharsets.UTF_8), false);
    }

    /** The response to the end of the connection: every error response here closes it. */
    private static Response read(InputStream in) throws IOException {
        // Latin-1 maps each byte to one char, so offsets in the text are offsets in the bytes.
        String raw = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        int endOfHead = raw.indexOf("\r\n\r\n");
        if (endOfHead < 0) {
            throw new IOException("no complete response head in: " + raw);
        }
        String[] lines = raw.substring(0, endOfHead).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        String body = raw.substring(endOfHead + 4);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = dechunk(body);
        }
        return new Response(status, headers, new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }

    private static String dechunk(String chunked) {
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (true) {
            int endOfSize = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, endOfSize).trim(), 16);
            if (size == 0) {
                return body.toString();
            }
            body.append(chunked, endOfSize + 2, endOfSize + 2 + size);
            at = endOfSize + 2 + size + 2;
        }
    }
}
