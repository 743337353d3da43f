package dev.stemnet.service.api;

import dev.stemnet.service.pipeline.Admission;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/drain} on the management port, behind the admin token. POST turns readiness DOWN so the
 * load balancer stops sending traffic while requests already here finish (watch {@code inFlight} reach 0
 * before stopping the process); DELETE turns it back UP.
 */
@Component
@Endpoint(id = "drain")
class DrainEndpoint {

    record Status(ReadinessState readiness, int inFlight) {}

    private final ApplicationEventPublisher events;
    private final ApplicationAvailability availability;
    private final Admission admission;

    DrainEndpoint(ApplicationEventPublisher events, ApplicationAvailability availability, Admission admission) {
        this.events = events;
        this.availability = availability;
        this.admission = admission;
    }

    @ReadOperation
    Status status() {
        return new Status(availability.getReadinessState(), admission.admitted());
    }

    @WriteOperation
    Status drain() {
        AvailabilityChangeEvent.publish(events, this, ReadinessState.REFUSING_TRAFFIC);
        return status();
    }

    @DeleteOperation
    Status resume() {
        AvailabilityChangeEvent.publish(events, this, ReadinessState.ACCEPTING_TRAFFIC);
        return status();
    }
}
