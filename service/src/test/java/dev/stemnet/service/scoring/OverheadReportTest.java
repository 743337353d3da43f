package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The lines `make serving-overhead` prints under its table: how each ratio to bare ONNX Runtime is read. */
class OverheadReportTest {

    @Test
    void spreadIsTheRatioOfEachRoundOnItsOwn() {
        double[] onnxMillis = {1.20, 1.20, 1.20, 1.20};
        double[] serviceMillis = {1.50, 1.60, 1.20, 2.40};

        // Per round 0.8, 0.75, 1.0, 0.5; the median of an even count is the mean of the middle two.
        assertThat(OverheadReport.roundSpread(onnxMillis, serviceMillis))
                .isEqualTo("onnx/service per round: min 0.500, median 0.775, max 1.000 [0.8, 0.75, 1.0, 0.5]");
    }

    @Test
    void theIntervalCollapsesOnIdenticalRoundsAndWidensWithTheirSpread() {
        assertThat(OverheadReport.ratioInterval(new double[] {1.6, 1.6, 1.6}, new double[] {2.0, 2.0, 2.0}))
                .endsWith(": 0.800-0.800");

        double[] onnxMillis = {1.60, 1.70, 1.50, 1.60, 1.65, 1.55};
        double[] serviceMillis = {2.00, 2.30, 1.80, 2.10, 1.95, 2.40};
        String interval = OverheadReport.ratioInterval(onnxMillis, serviceMillis);
        Matcher bounds = Pattern.compile(": (\\d\\.\\d{3})-(\\d\\.\\d{3})$").matcher(interval);
        assertThat(bounds.find()).as(interval).isTrue();
        double low = Double.parseDouble(bounds.group(1));
        double high = Double.parseDouble(bounds.group(2));
        double ratioOfMeans = 9.60 / 12.55;
        // Each resample's ratio lies between the lowest and the highest round's own (0.646 and 0.846).
        assertThat(low).isLessThan(ratioOfMeans).isGreaterThanOrEqualTo(0.646);
        assertThat(high).isGreaterThan(ratioOfMeans).isLessThanOrEqualTo(0.846);
        assertThat(high - low).isGreaterThan(0.02);
        assertThat(OverheadReport.ratioInterval(onnxMillis, serviceMillis)).as("same rounds, same interval").isEqualTo(interval);
    }

    @Test
    void splitsTheServicesCpuIntoOnnxRuntimeAndTheRest() {
        assertThat(OverheadReport.networkShare(1.60, 2.00, 1.70))
                .isEqualTo("service 2.00 ms/req = ONNX Runtime 1.70 + the rest 0.30; ONNX Runtime in the service / bare: 1.063");
        assertThat(OverheadReport.networkShare(1.60, 2.00, Double.NaN)).startsWith("no split");
    }
}
