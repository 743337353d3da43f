package dev.stemnet.service.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.DeadlineExceededException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AdmissionTest {

    /** Fresh per use: the time from arrival to asking for a slot feeds the estimate too. */
    private static Deadline longDeadline() {
        return Deadline.after(Duration.ofMinutes(10));
    }

    @Test
    void refusesOnArrivalOnceTheSlotsAndTheQueueAreTaken() {
        Admission admission = new Admission(1, 1);
        try (Admission.Ticket scoring = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Slot slot = scoring.awaitSlot();
                Admission.Ticket queued = admission.admit(longDeadline(), Priority.SERVING)) {
            assertThatThrownBy(() -> admission.admit(longDeadline(), Priority.SERVING))
                    .isInstanceOf(OverloadedException.class)
                    .hasMessageContaining("stem.scoring.max-queued");
            assertThat(admission.admitted()).isEqualTo(2);
            assertThat(admission.scoring()).isEqualTo(1);
        }
        assertThat(admission.admitted()).as("closing a ticket gives back its place and its slot").isZero();
        assertThat(admission.scoring()).isZero();
    }

    @Test
    void aTicketWithoutASlotHoldsAPlaceButNoSlot() {
        Admission admission = new Admission(1, 1);
        try (Admission.Ticket readingItsBody = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Ticket next = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Slot slot = next.awaitSlot()) {
            assertThat(admission.scoring()).as("a request reading its body holds no slot").isEqualTo(1);
        }
    }

    @Test
    void qaRequestsAreAdmittedOnlyWhileNoRequestWouldWait() {
        Admission admission = new Admission(2, 10);
        try (Admission.Ticket first = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Ticket qa = admission.admit(longDeadline(), Priority.QA)) {
            assertThatThrownBy(() -> admission.admit(longDeadline(), Priority.QA))
                    .isInstanceOf(OverloadedException.class)
                    .hasMessageContaining("QA requests");
            try (Admission.Ticket serving = admission.admit(longDeadline(), Priority.SERVING)) {
                assertThat(admission.admitted()).as("serving traffic still queues").isEqualTo(3);
            }
        }
    }

    @Test
    void servingDoesNotWaitWhileEveryRequestFindsASlotFree() throws Exception {
        Admission admission = new Admission(2, 10);
        AtomicBoolean done = new AtomicBoolean();
        // One client one request at a time, as a sequential replayer sends them: never more requests than slots.
        CompletableFuture<Void> oneAtATime = CompletableFuture.runAsync(() -> {
            for (int request = 0; request < 200_000; request++) {
                try (Admission.Ticket ticket = admission.admit(longDeadline(), Priority.SERVING);
                        Admission.Slot slot = ticket.awaitSlot()) {
                    assertThat(admission.scoring()).isEqualTo(1);
                }
            }
        }).whenComplete((ignored, failure) -> done.set(true));
        long sawWaiting = 0;
        while (!done.get()) {
            if (admission.servingWaits()) {
                sawWaiting++;
            }
        }
        oneAtATime.get(1, TimeUnit.MINUTES);
        assertThat(sawWaiting).as("times a shadow would have been shed for a request that found a slot free").isZero();
    }

    @Test
    void servingWaitsOnceEverySlotIsTaken() {
        Admission admission = new Admission(1, 10);
        assertThat(admission.servingWaits()).isFalse();
        try (Admission.Ticket ticket = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Slot slot = ticket.awaitSlot()) {
            assertThat(admission.servingWaits()).isTrue();
        }
        assertThat(admission.servingWaits()).isFalse();
    }

    @Test
    void refusesWhenTheEstimatedTimeToScoresPassesTheDeadline() {
        Admission admission = new Admission(1, 100);
        // One slot held for about 50 ms teaches the estimate what a request costs.
        try (Admission.Ticket ticket = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Slot slot = ticket.awaitSlot()) {
            busyFor(Duration.ofMillis(50));
        }
        long oneRequest = admission.estimatedNanosToScores(0);
        assertThat(oneRequest).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));

        try (Admission.Ticket scoring = admission.admit(longDeadline(), Priority.SERVING)) {
            // Second in line: about two requests' time. A deadline that leaves less is refused at once...
            Deadline tooShort = Deadline.after(Duration.ofNanos(oneRequest + oneRequest / 2));
            assertThatThrownBy(() -> admission.admit(tooShort, Priority.SERVING))
                    .isInstanceOf(OverloadedException.class)
                    .hasMessageContaining("stem.scoring.deadline");
            // ... one that leaves enough is admitted.
            try (Admission.Ticket admitted = admission.admit(Deadline.after(Duration.ofNanos(oneRequest * 10)),
                    Priority.SERVING)) {
                assertThat(admission.admitted()).isEqualTo(2);
            }
        }
    }

    @Test
    void admitsARequestThatFindsASlotFreeWhateverTheEstimateSoTheEstimateKeepsLearning() {
        Admission admission = new Admission(1, 100);
        try (Admission.Ticket slow = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Slot slot = slow.awaitSlot()) {
            busyFor(Duration.ofMillis(50));
        }
        Deadline shorterThanOneRequest = Deadline.after(Duration.ofMillis(10));
        try (Admission.Ticket admitted = admission.admit(shorterThanOneRequest, Priority.SERVING)) {
            assertThat(admission.admitted()).isEqualTo(1);
        }
    }

    @Test
    void givesUpWaitingForASlotAtTheDeadlineUnscored() {
        Admission admission = new Admission(1, 1);
        try (Admission.Ticket holder = admission.admit(longDeadline(), Priority.SERVING);
                Admission.Slot slot = holder.awaitSlot();
                Admission.Ticket waiter = admission.admit(Deadline.after(Duration.ofMillis(20)), Priority.SERVING)) {
            assertThatThrownBy(waiter::awaitSlot)
                    .isInstanceOf(DeadlineExceededException.class)
                    .hasMessageContaining("a scoring slot was free");
            assertThat(admission.scoring()).isEqualTo(1);
        }
    }

    private static void busyFor(Duration duration) {
        long until = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }
}
