package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdmissionGateTest {

    @Test
    void shedsAtOnceWhenEverySlotIsBusyAndNoQueueIsAllowed() {
        AdmissionGate gate = new AdmissionGate(1, 0);
        try (AdmissionGate.Permit busy = gate.admit(Deadline.none())) {
            assertThat(gate.inFlight()).isEqualTo(1);
            assertThatThrownBy(() -> gate.admit(Deadline.none()))
                    .isInstanceOf(OverloadedException.class)
                    .hasMessageContaining("stem.scoring.max-concurrent");
        }
        try (AdmissionGate.Permit free = gate.admit(Deadline.none())) {
            assertThat(gate.inFlight()).isEqualTo(1);
        }
        assertThat(gate.inFlight()).isZero();
    }

    @Test
    void aQueuedRequestGivesUpAtItsDeadline() {
        AdmissionGate gate = new AdmissionGate(1, 1);
        try (AdmissionGate.Permit busy = gate.admit(Deadline.none())) {
            assertThatThrownBy(() -> gate.admit(Deadline.after(Duration.ofMillis(20))))
                    .isInstanceOf(DeadlineExceededException.class)
                    .hasMessageContaining("20 ms");
        }
    }

    @Test
    void closingAPermitTwiceGivesItsSlotBackOnce() {
        AdmissionGate gate = new AdmissionGate(1, 0);
        AdmissionGate.Permit permit = gate.admit(Deadline.none());
        permit.close();
        permit.close();
        try (AdmissionGate.Permit again = gate.admit(Deadline.none())) {
            assertThatThrownBy(() -> gate.admit(Deadline.none())).isInstanceOf(OverloadedException.class);
        }
    }
}
