package dev.stemnet.service.scoring;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The saturation rounds' figures per side, and what {@link ServingOverhead} prints of them: a table, then each side
 * against bare ONNX Runtime ({@code onnx}), with how far the rounds let that ratio move.
 */
final class OverheadReport {

    private static final int BOOTSTRAP_RESAMPLES = 10_000;

    private final int rounds;
    private final Map<String, double[]> saturation = new HashMap<>();
    private final Map<String, double[]> cpu = new HashMap<>();
    private final Map<String, double[]> serviceCpu = new HashMap<>();
    private final Map<String, double[]> networkCpu = new HashMap<>();

    OverheadReport(int rounds) {
        this.rounds = rounds;
    }

    void record(String side, int round, PhaseResult result) {
        saturation.computeIfAbsent(side, k -> new double[rounds])[round] = result.perSecond();
        cpu.computeIfAbsent(side, k -> new double[rounds])[round] = result.cpuMillisPerOp();
        serviceCpu.computeIfAbsent(side, k -> new double[rounds])[round] = result.serviceCpuMillisPerOp();
        networkCpu.computeIfAbsent(side, k -> new double[rounds])[round] = result.networkCpuMillisPerOp();
    }

    double meanSaturation(String side) {
        return mean(saturation.get(side));
    }

    /** @param halfLoad the open-loop phase of each side that had one, by side */
    void print(Set<String> sides, Map<String, PhaseResult> halfLoad) {
        System.out.println();
        System.out.println("side         saturation req/s (per round)        p50 ms @50%   p99 ms @50%   cpu ms/req   (service)");
        for (String name : sides) {
            PhaseResult half = halfLoad.get(name);
            System.out.printf(Locale.ROOT, "%-12s %8.1f %-26s %11s %13s %12.2f %11.2f%n", name, mean(saturation.get(name)),
                    Arrays.toString(Arrays.stream(saturation.get(name)).map(v -> Math.round(v * 10) / 10.0).toArray()),
                    half == null ? "-" : String.format(Locale.ROOT, "%.2f", half.percentileMillis(50)),
                    half == null ? "-" : String.format(Locale.ROOT, "%.2f", half.percentileMillis(99)),
                    mean(cpu.get(name)), mean(serviceCpu.get(name)));
        }
        printRatios(sides);
    }

    /**
     * Each side against bare ONNX Runtime, for whichever sides ran with it: throughput, and CPU per request (for
     * {@code http}, the service process's own CPU too: what a saturated deployment pays for the serving).
     */
    private void printRatios(Set<String> ran) {
        if (!ran.contains("onnx")) {
            System.out.println("no ratios: the onnx side did not run");
            return;
        }
        double onnx = mean(saturation.get("onnx"));
        double onnxCpu = mean(cpu.get("onnx"));
        for (String side : ran) {
            if (side.equals("onnx")) {
                continue;
            }
            System.out.printf(Locale.ROOT, "ratio %s/onnx: throughput %.3f, cpu-time onnx/%s %.3f%s%n", side,
                    mean(saturation.get(side)) / onnx, side, onnxCpu / mean(cpu.get(side)),
                    side.startsWith("http") ? String.format(Locale.ROOT, ", onnx/service %.3f (service process only)",
                            onnxCpu / mean(serviceCpu.get(side))) : "");
            if (side.startsWith("http")) {
                System.out.println("  " + ratioInterval(cpu.get("onnx"), serviceCpu.get(side)));
                System.out.println("  " + roundSpread(cpu.get("onnx"), serviceCpu.get(side)));
                System.out.println("  " + networkShare(onnxCpu, mean(serviceCpu.get(side)), mean(networkCpu.get(side))));
            }
        }
    }

    /**
     * A 95% interval for onnx/service, from the rounds resampled with replacement, each round's two sides kept
     * together (a paired bootstrap of the ratio of means): how far the headline ratio would move had the same machine
     * served other rounds like these. It cannot see a drift that outlasts the run, so runs can differ by more.
     */
    static String ratioInterval(double[] onnxCpu, double[] serviceCpu) {
        int rounds = onnxCpu.length;
        double[] resampled = new double[BOOTSTRAP_RESAMPLES];
        // A fixed seed: the same rounds print the same interval.
        Random random = new Random(rounds);
        for (int b = 0; b < resampled.length; b++) {
            double onnx = 0;
            double service = 0;
            for (int i = 0; i < rounds; i++) {
                int round = random.nextInt(rounds);
                onnx += onnxCpu[round];
                service += serviceCpu[round];
            }
            resampled[b] = onnx / service;
        }
        Arrays.sort(resampled);
        return String.format(Locale.ROOT, "onnx/service 95%% interval over the rounds (paired bootstrap): %.3f-%.3f",
                resampled[(int) (0.025 * resampled.length)], resampled[(int) (0.975 * resampled.length) - 1]);
    }

    /**
     * onnx/service of each round on its own (the two sides ran back to back in it): how far one round moves, so that a
     * reader can tell a ratio near a target from one that clears it.
     */
    static String roundSpread(double[] onnxCpu, double[] serviceCpu) {
        double[] ratios = new double[onnxCpu.length];
        for (int round = 0; round < ratios.length; round++) {
            ratios[round] = onnxCpu[round] / serviceCpu[round];
        }
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return String.format(Locale.ROOT, "onnx/service per round: min %.3f, median %.3f, max %.3f %s", sorted[0], median,
                sorted[sorted.length - 1], Arrays.toString(Arrays.stream(ratios).map(r -> Math.round(r * 1000) / 1000.0)
                        .toArray()));
    }

    /**
     * The service's CPU per request split into ONNX Runtime's part and the rest, and its ONNX Runtime part against the
     * bare side's: whether the gap is the serving around the network or the network running slower in the service.
     */
    static String networkShare(double onnxMillis, double serviceMillis, double networkMillis) {
        if (Double.isNaN(networkMillis)) {
            return "no split into ONNX Runtime and the rest: " + CpuAccounting.NETWORK_CPU + " was not read";
        }
        return String.format(Locale.ROOT, "service %.2f ms/req = ONNX Runtime %.2f + the rest %.2f; ONNX Runtime in the"
                + " service / bare: %.3f", serviceMillis, networkMillis, serviceMillis - networkMillis,
                networkMillis / onnxMillis);
    }

    private static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }
}
