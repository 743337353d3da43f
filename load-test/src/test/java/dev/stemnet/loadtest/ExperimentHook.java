package dev.stemnet.loadtest;

/**
 * Where a two-arm A/B load test will plug in: {@code -Dstem.experiment=<experiment config>} will make the
 * simulation start the service with that experiment and report latency and errors per arm. The service's
 * experiments are being built (issue 5); until they land, setting the property stops the run rather than
 * silently measuring a single arm.
 */
final class ExperimentHook {

    private ExperimentHook() {}

    static void check(String experimentConfig) {
        if (experimentConfig != null && !experimentConfig.isBlank()) {
            throw new UnsupportedOperationException("stem.experiment=" + experimentConfig
                    + ": A/B load tests are not supported yet (they follow the service's experiments, issue 5)");
        }
    }
}
