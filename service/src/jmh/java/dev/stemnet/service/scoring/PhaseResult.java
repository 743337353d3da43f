package dev.stemnet.service.scoring;

import java.util.Arrays;

/**
 * What one phase of a side measured. CPU time per request counts the driver and the service ({@code SERVICE_PID})
 * alike, for every side; of the service's, {@code networkCpuMillisPerOp} was spent inside ONNX Runtime and
 * {@code jitCpuMillisPerOp} by its JIT compiler threads (NaN for the sides in this process). Latencies only for the
 * open-loop phases.
 */
record PhaseResult(double perSecond, long[] latenciesNanos, long errors, double cpuMillisPerOp,
        double serviceCpuMillisPerOp, double networkCpuMillisPerOp, double jitCpuMillisPerOp) {

    /** An open-loop phase's: its rate and latencies, no CPU figures. */
    static PhaseResult latencies(double perSecond, long[] latenciesNanos, long errors) {
        return new PhaseResult(perSecond, latenciesNanos, errors, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    double percentileMillis(double p) {
        if (latenciesNanos.length == 0) {
            return Double.NaN;
        }
        long[] sorted = latenciesNanos.clone();
        Arrays.sort(sorted);
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)] / 1e6;
    }

    /** The JIT compiler threads' share of the service's CPU in the phase; 0 for the sides in this process. */
    double jitShare() {
        return Double.isNaN(jitCpuMillisPerOp) || serviceCpuMillisPerOp == 0 ? 0 : jitCpuMillisPerOp / serviceCpuMillisPerOp;
    }
}
