package dev.stemnet.service.api;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;

/**
 * A request whose body is checked while it is read: {@link Check#beforeRead()} before every read, and
 * {@link Check#afterRead(long)} with the bytes read so far after every read that returned some. A check refuses by
 * throwing. Wrapped by the filters that bound the body (size, deadline), each with its own check.
 */
final class CheckedBody extends HttpServletRequestWrapper {

    interface Check {
        default void beforeRead() throws IOException {}

        default void afterRead(long bytesSoFar) throws IOException {}
    }

    private final Check check;
    private ServletInputStream body;

    CheckedBody(HttpServletRequest request, Check check) {
        super(request);
        this.check = check;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
        if (body == null) {
            body = new CheckedStream(super.getInputStream(), check);
        }
        return body;
    }

    private static final class CheckedStream extends ServletInputStream {
        private final ServletInputStream in;
        private final Check check;
        private long read;

        CheckedStream(ServletInputStream in, Check check) {
            this.in = in;
            this.check = check;
        }

        @Override
        public int read() throws IOException {
            check.beforeRead();
            int b = in.read();
            if (b >= 0) {
                check.afterRead(++read);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            check.beforeRead();
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                read += n;
                check.afterRead(read);
            }
            return n;
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
