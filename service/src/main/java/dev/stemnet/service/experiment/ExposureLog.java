package dev.stemnet.service.experiment;

import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.pipeline.ScoredExchange;
import dev.stemnet.service.pipeline.ScoringRecorder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes exposure records as JSON lines, off the request thread: requests put records in a bounded queue and one
 * writer thread serializes and appends them. A full queue never blocks or fails a request; the record is
 * counted in {@code stem_exposures_dropped_total{reason="queue_full"}}, so an analysis knows the log is
 * incomplete. The writer buffers what it writes and hands it to the operating system when it is idle and, under
 * steady traffic that never leaves it idle, once {@code flushInterval} has passed since it last did: a crash of
 * the process ({@code kill -9}, an OOM kill) loses at most the records of about the last interval, and those are
 * counted nowhere. (A crash of the machine can lose what the OS had not yet written to disk; no fsync is made.)
 *
 * <p>Files are {@code exposures-<8-digit sequence>.jsonl}, never renamed, so a reader may follow one while it
 * grows; a new file starts when the next record would pass {@code maxFileSize} (a record never spans two files),
 * and only the newest {@code maxFiles} are kept. A restart continues after the highest sequence.
 *
 * <p>Why not Logback's AsyncAppender: with {@code neverBlock} it discards events when full without counting
 * them anywhere a dashboard can see, and below its discarding threshold it drops events silently by level.
 * The counted-drop guarantee is the point of this class, and size rotation is a few lines here.
 */
public final class ExposureLog implements ScoringRecorder, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ExposureLog.class);
    private static final Pattern FILE_NAME = Pattern.compile("exposures-(\\d{8})\\.jsonl");
    /** Nothing queued for this long: the writer is idle and flushes. */
    private static final Duration IDLE = Duration.ofMillis(100);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Path directory;
    private final long maxFileSize;
    private final int maxFiles;
    private final long flushIntervalNanos;
    private final Duration poll;
    private final LongSupplier nanoClock;
    private final BlockingQueue<ExposureRecord> queue;
    // Scores as the API writes them: the shortest decimal that reads back to the model's float (JsonConfiguration).
    private final JsonMapper json = JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();
    private final Counter written;
    private final Counter droppedQueueFull;
    private final Counter droppedWriteError;
    private final Thread writer;
    private final FileChannel lock;
    private volatile boolean closing;

    /** Only the writer thread touches these. */
    private int sequence;
    private OutputStream out;
    private long fileSize;
    private long lastFlushNanos;

    /**
     * Call {@link #start()} to begin writing; records offered before that wait in the queue.
     *
     * @param flushInterval how long written records may stay in the writer's buffer while records keep coming
     * @param nanoClock     {@link System#nanoTime} in the service; a clock the test moves by hand in tests
     */
    public ExposureLog(Path directory, long maxFileSize, int maxFiles, int queueCapacity, Duration flushInterval,
            LongSupplier nanoClock, MeterRegistry registry) {
        this.directory = directory.toAbsolutePath().normalize();
        this.maxFileSize = maxFileSize;
        this.maxFiles = maxFiles;
        this.flushIntervalNanos = flushInterval.toNanos();
        // An interval shorter than the idle time is kept while idle too.
        this.poll = flushInterval.compareTo(IDLE) < 0 ? flushInterval : IDLE;
        this.nanoClock = nanoClock;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.written = Counter.builder("stem.exposures.written")
                .description("Exposure records written to the exposure log").register(registry);
        this.droppedQueueFull = dropped(registry, "queue_full");
        this.droppedWriteError = dropped(registry, "write_error");
        Gauge.builder("stem.exposures.queued", queue, BlockingQueue::size)
                .description("Exposure records waiting for the writer").register(registry);
        this.lock = lockDirectory(this.directory);
        this.sequence = highestSequence(this.directory);
        this.writer = new Thread(this::writeUntilClosed, "exposure-log-writer");
        writer.setDaemon(true);
    }

    public void start() {
        writer.start();
    }

    /** One line per scored request. */
    @Override
    public void scored(ScoredExchange exchange) {
        ModelInfo model = exchange.model().manifest().model();
        record(ExposureRecord.served(ExposureRecord.time(Instant.now()), exchange.requestId(), exchange.request().userId(),
                exchange.decision().configVersion(), model.name(), model.version(), exchange.decision().assignments(),
                exchange.scored().results()));
    }

    /** Never blocks: a record that does not fit is counted as dropped. */
    public void record(ExposureRecord record) {
        if (closing || !queue.offer(record)) {
            droppedQueueFull.increment();
        }
    }

    /** Writes what is queued, then returns; records offered from now on are counted as dropped. */
    @Override
    public void close() {
        closing = true;
        try {
            if (writer.isAlive()) {
                writer.join(CLOSE_TIMEOUT.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            log.error("The exposure log writer did not finish within {}; {} records may be lost", CLOSE_TIMEOUT, queue.size());
        }
        try {
            lock.close();
        } catch (IOException e) {
            log.warn("Could not release the lock of the exposure log in {}: {}", directory, e.getMessage());
        }
    }

    /**
     * Two writers in one directory would write files of the same names; each replica needs a directory of its
     * own, and this lock makes a shared one fail at startup instead of mixing records.
     */
    private static FileChannel lockDirectory(Path directory) {
        try {
            Files.createDirectories(directory);
            FileChannel channel = FileChannel.open(directory.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock held;
            try {
                held = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                held = null;
            }
            if (held == null) {
                channel.close();
                throw new IllegalStateException("another exposure log writes to " + directory
                        + "; give every replica its own stem.experiments.exposure-log.dir");
            }
            return channel;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the exposure log directory " + directory, e);
        }
    }

    private static Counter dropped(MeterRegistry registry, String reason) {
        return Counter.builder("stem.exposures.dropped")
                .description("Exposure records lost: queue full (writer behind) or the file could not be written")
                .tag("reason", reason).register(registry);
    }

    private void writeUntilClosed() {
        lastFlushNanos = nanoClock.getAsLong();
        try {
            while (true) {
                ExposureRecord record = queue.poll(poll.toNanos(), TimeUnit.NANOSECONDS);
                if (record != null) {
                    write(record);
                }
                // Idle: readers see the records without waiting for a full buffer. Busy: the interval bounds what a
                // crash can lose, as the queue may never run empty under load.
                if (record == null || nanoClock.getAsLong() - lastFlushNanos >= flushIntervalNanos) {
                    flush();
                }
                if (record == null && closing && queue.isEmpty()) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeFile();
        }
    }

    private void write(ExposureRecord record) {
        try {
            byte[] line = (json.writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8);
            if (out == null || (fileSize > 0 && fileSize + line.length > maxFileSize)) {
                nextFile();
            }
            out.write(line);
            fileSize += line.length;
            written.increment();
        } catch (IOException | RuntimeException e) {
            droppedWriteError.increment();
            log.error("Could not write an exposure record to {}: {}", directory, e.getMessage());
            closeFile();
        }
    }

    private void nextFile() throws IOException {
        closeFile();
        sequence++;
        Path file = directory.resolve("exposures-%08d.jsonl".formatted(sequence));
        out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
        fileSize = 0;
        deleteOldFiles();
    }

    private void deleteOldFiles() throws IOException {
        List<Path> files = exposureFiles(directory);
        for (Path old : files.subList(0, Math.max(0, files.size() - maxFiles))) {
            Files.deleteIfExists(old);
        }
    }

    private void flush() {
        lastFlushNanos = nanoClock.getAsLong();
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                log.error("Could not flush the exposure log in {}: {}", directory, e.getMessage());
                closeFile();
            }
        }
    }

    private void closeFile() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                log.error("Could not close the exposure log in {}: {}", directory, e.getMessage());
            }
            out = null;
        }
    }

    /** Oldest first. */
    static List<Path> exposureFiles(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(file -> FILE_NAME.matcher(file.getFileName().toString()).matches()).sorted().toList();
        }
    }

    private static int highestSequence(Path directory) {
        try {
            List<Path> files = exposureFiles(directory);
            if (files.isEmpty()) {
                return 0;
            }
            Matcher matcher = FILE_NAME.matcher(files.get(files.size() - 1).getFileName().toString());
            return matcher.matches() ? Integer.parseInt(matcher.group(1)) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the exposure log directory " + directory, e);
        }
    }
}
