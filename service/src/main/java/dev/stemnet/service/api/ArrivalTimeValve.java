package dev.stemnet.service.api;

import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Hands the filters the time Tomcat started reading the request (its first byte), which the servlet API does not
 * expose: a request's deadline counts from there, not from when a filter or the controller first sees it.
 */
public final class ArrivalTimeValve extends ValveBase {

    private static final String ARRIVAL_NANOS = ArrivalTimeValve.class.getName() + ".nanos";

    public ArrivalTimeValve() {
        super(true);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        long started = request.getCoyoteRequest().getStartTimeNanos();
        request.setAttribute(ARRIVAL_NANOS, started > 0 ? started : System.nanoTime());
        getNext().invoke(request, response);
    }

    /** {@link System#nanoTime()} at arrival; now when the request did not pass the valve (an in-process test). */
    static long arrivalNanos(ServletRequest request) {
        return request.getAttribute(ARRIVAL_NANOS) instanceof Long nanos ? nanos : System.nanoTime();
    }
}
