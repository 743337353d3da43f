package dev.stemnet.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExperimentArmsTest {

    @Test
    void countsResponsesPerArmInNameOrder() {
        ExperimentArms arms = new ExperimentArms("model");
        arms.record("treatment");
        arms.record("control");
        arms.record("treatment");

        assertEquals(Map.of("control", 1L, "treatment", 2L), arms.counts());
        assertEquals("control", arms.counts().keySet().iterator().next());
        assertTrue(arms.summary().contains("control=1 (33.3%) treatment=2 (66.7%)"), arms.summary());
    }

    @Test
    void looksUpTheArmOfItsOwnLayer() {
        assertEquals("$.experiment.assignments[?(@.layer == 'model')].arm", new ExperimentArms("model").armPath());
    }
}
