package dev.stemnet.service;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The contract with the trainer: every request in the bundle's {@code parity.jsonl}, posted over HTTP,
 * gets the scores PyTorch computed, within 1e-5.
 */
class ContractTest extends RunningServiceTest {

    @Test
    void servesTheScoresPyTorchComputedForEveryParityFixture() throws IOException {
        ParityCheck.assertServesFixtureScores(client, TestBundle.directory(), null);
    }
}
