package dev.stemnet.service;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * One HTTP/1.1 connection to 127.0.0.1 driven byte by byte, for what a real client can do and an HTTP library
 * hides: send the headers and only part of the body, stall, read the answer before the body is complete.
 */
public final class RawHttpConnection implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    public RawHttpConnection(int port, Duration readTimeout) throws IOException {
        this.socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout((int) readTimeout.toMillis());
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
    }

    /** The request line and headers of a JSON POST announcing {@code contentLength} body bytes. */
    public void sendHeaders(String path, long contentLength, String... extraHeaders) throws IOException {
        StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + contentLength + "\r\n");
        for (String header : extraHeaders) {
            head.append(header).append("\r\n");
        }
        send(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The status code of the response, read up to the end of its status line. */
    public int readStatus() throws IOException {
        String statusLine = readLine().trim();
        if (!statusLine.startsWith("HTTP/1.1 ")) {
            throw new IOException("not an HTTP status line: '" + statusLine + "'");
        }
        return Integer.parseInt(statusLine.substring(9, 12));
    }

    /** The headers and the body after the status line: up to Content-Length, or every chunk. */
    public String readRest() throws IOException {
        StringBuilder response = new StringBuilder();
        long contentLength = -1;
        boolean chunked = false;
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            response.append(line).append('\n');
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                contentLength = Long.parseLong(line.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        response.append('\n');
        if (chunked) {
            for (int size = Integer.parseInt(readLine().trim(), 16); size > 0; size = Integer.parseInt(readLine().trim(), 16)) {
                response.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
                readLine();
            }
            readLine();
        } else if (contentLength > 0) {
            response.append(new String(in.readNBytes((int) contentLength), StandardCharsets.UTF_8));
        }
        return response.toString();
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII).replace("\r", "");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
