package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.TestBundle;
import dev.stemnet.service.embedding.CacheSettings;
import dev.stemnet.service.embedding.CachingEmbeddingStore;
import dev.stemnet.service.embedding.EmbeddingStoreFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.stemnet.service.inference.OnnxModel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloading must give back what each version held natively (ONNX Runtime session, its arena, mapped
 * tables). Two checks, because the tiny test bundle is too small for memory alone to tell: the count of open
 * ONNX Runtime sessions must come back to the one serving version, which catches a single session left open
 * exactly; and the resident memory outside the Java heap must stay within a bound over many reloads, which
 * catches native memory kept by anything else, such as what a closed session did not free.
 */
class ReloadMemoryTest {

    private static final Logger log = LoggerFactory.getLogger(ReloadMemoryTest.class);
    private static final int WARM_UP_RELOADS = 30;
    private static final int MEASURED_RELOADS = 25;
    /**
     * The first 30 reloads fill malloc arenas, JIT code and metaspace, which then stay. Measured on CPU over the
     * 25 reloads after them: 0 MB alone, 1 MB in the full suite with a dozen service contexts in the JVM. 48 MB
     * (about 2 MB a reload) leaves room for allocator and JIT noise on other machines, and fails when each
     * version leaves behind what a real bundle holds (its mapped tables, a CUDA arena). The tiny test bundle's
     * own session (a few hundred KB) is below even that, so a leaked session is caught by the session count.
     */
    private static final long MAX_GROWTH_BYTES = 48L * 1024 * 1024;
    private static final Pattern SMAPS_MAPPING = Pattern.compile("([0-9a-f]+)-([0-9a-f]+) ");
    private static final Pattern HEX_ADDRESS = Pattern.compile("0x([0-9a-f]+)");

    @Test
    void repeatedReloadsDoNotGrowNativeMemory(@TempDir Path repository) throws Exception {
        Path bundle = TestBundle.copyWithVersion(repository.resolve("stem-net"), "v0");
        ClosedCounter events = new ClosedCounter();
        ModelRegistry registry = new ModelRegistry("stem-net", events);
        // Other test contexts in this JVM hold sessions of their own, which stay open throughout.
        int sessionsBefore = OnnxModel.openSessions();
        try (ModelRepository models = new ModelRepository(repository, loader(), registry, events)) {
            models.reload();
            for (int i = 1; i <= WARM_UP_RELOADS; i++) {
                reloadAs(models, bundle, i, "warm-up-" + i);
            }
            long before = nativeBytes();
            for (int i = 1; i <= MEASURED_RELOADS; i++) {
                reloadAs(models, bundle, WARM_UP_RELOADS + i, "measured-" + i);
            }
            long after = nativeBytes();
            log.info("Resident memory outside the Java heap after {} reloads: {} MB -> {} MB", MEASURED_RELOADS,
                    before >> 20, after >> 20);
            assertThat(registry.draining()).as("every replaced version closed").isEmpty();
            assertThat(events.closed).as("versions closed").isEqualTo(WARM_UP_RELOADS + MEASURED_RELOADS);
            assertThat(OnnxModel.openSessions() - sessionsBefore)
                    .as("ONNX sessions open after %d reloads: the serving version's only",
                            WARM_UP_RELOADS + MEASURED_RELOADS)
                    .isEqualTo(1);
            assertThat(after - before).as("growth over %d reloads", MEASURED_RELOADS).isLessThan(MAX_GROWTH_BYTES);
        } finally {
            registry.close();
        }
        assertThat(OnnxModel.openSessions()).as("ONNX sessions open once the registry closed")
                .isEqualTo(sessionsBefore);
    }

    private static void reloadAs(ModelRepository models, Path bundle, int sequence, String version) throws IOException {
        TestBundle.setVersion(bundle, version);
        // The fingerprint has sizes and modification times; two quick writes of one size can share a millisecond.
        Files.setLastModifiedTime(bundle.resolve("manifest.json"), FileTime.fromMillis(sequence * 1000L));
        ReloadReport report = models.reload();
        assertThat(report.attempts()).singleElement()
                .satisfies(attempt -> assertThat(attempt.version()).isEqualTo(version));
    }

    /**
     * Resident memory outside the Java heap's address range: what ONNX Runtime, the mapped tables, malloc,
     * metaspace and the JIT hold. Counting the heap out by address, not by its committed size, matters: the
     * GC commits heap without touching it, so RSS minus committed heap swings by a hundred MB on its own.
     */
    private static long nativeBytes() throws Exception {
        // Mapped tables of closed stores are unmapped when their buffers are collected.
        System.gc();
        long[] heap = heapAddressRange();
        long resident = 0;
        boolean inHeap = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            Matcher mapping = SMAPS_MAPPING.matcher(line);
            if (mapping.lookingAt()) {
                long start = Long.parseUnsignedLong(mapping.group(1), 16);
                long end = Long.parseUnsignedLong(mapping.group(2), 16);
                inHeap = start < heap[1] && end > heap[0];
            } else if (line.startsWith("Rss:") && !inHeap) {
                resident += Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return resident;
    }

    /** {@code [start, end)} of the reserved Java heap, from the addresses {@code jcmd GC.heap_info} prints. */
    private static long[] heapAddressRange() throws Exception {
        String heapInfo = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcHeapInfo",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        // The generations or regions come first, with their addresses; metaspace follows, without.
        String heapPart = heapInfo.split("Metaspace", 2)[0];
        long start = Long.MAX_VALUE;
        long end = 0;
        Matcher address = HEX_ADDRESS.matcher(heapPart);
        while (address.find()) {
            long value = Long.parseUnsignedLong(address.group(1), 16);
            start = Math.min(start, value);
            end = Math.max(end, value);
        }
        assertThat(end).as("heap addresses in GC.heap_info:%n%s", heapInfo).isGreaterThan(start);
        return new long[] {start, end};
    }

    private static ModelLoader loader() {
        return TestModelLoader.of(CachingEmbeddingStore.factory(EmbeddingStoreFactory.mappedFiles(),
                new CacheSettings(1000, Map.of()), new SimpleMeterRegistry()), TestModelLoader.PARITY_ONLY);
    }

    private static final class ClosedCounter extends NoModelEvents {
        private int closed;

        @Override
        public void closed(LoadedModel model) {
            closed++;
        }
    }
}
