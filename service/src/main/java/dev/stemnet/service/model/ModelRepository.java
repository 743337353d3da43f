package dev.stemnet.service.model;

import dev.stemnet.service.delta.DeltaApplier;
import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.embedding.EmbeddingStoreUnavailableException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory of bundles, one per subdirectory. A scan loads every subdirectory whose files changed since it
 * was last tried (new versions beside the old ones), publishes each model that passes its checks and warm-up
 * and unloads the models whose directory is gone. A rejected bundle changes nothing that serves. With the
 * mapped-file store, a bundle directory's {@code deltas/} are no part of its fingerprint: a delta added there is
 * applied to the serving version by the next scan ({@link RepositoryDeltas}) without a reload, and a (re)load
 * applies every delta there before the version serves. A bundle
 * whose embedding store cannot serve it yet (Redis not answering, its rows not loaded) is not rejected: it is
 * tried again by itself, with back-off, until it loads. Scans run one at a time on a single thread, whoever
 * asks: startup, the admin endpoint, the directory watcher or such a retry.
 */
public final class ModelRepository implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ModelRepository.class);

    /** Waiting for the embedding store: the first retry after this, each next one twice as late, up to the cap. */
    private static final Duration FIRST_STORE_RETRY = Duration.ofSeconds(1);
    private static final Duration MAX_STORE_RETRY = Duration.ofSeconds(30);

    private final Path root;
    private final ModelLoader loader;
    private final ModelRegistry registry;
    private final ModelEvents events;
    /** Null where deltas do not come from the repository (the Redis store). */
    private final RepositoryDeltas deltas;
    private final ScheduledExecutorService scans = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "model-repository");
        thread.setDaemon(true);
        return thread;
    });
    /** By directory; read and written on the scan thread only. */
    private final Map<Path, String> fingerprints = new HashMap<>();
    private final Map<String, LoadAttempt> lastAttempts = new ConcurrentHashMap<>();
    /** Bundle directories whose ignored deltas/ were logged; scan thread only. */
    private final Set<Path> ignoredDeltaDirectories = new HashSet<>();
    /** Read and written on the scan thread only. */
    private int storeRetries;
    private boolean storeRetryScheduled;

    /** A repository without deltas. */
    public ModelRepository(Path root, ModelLoader loader, ModelRegistry registry, ModelEvents events) {
        this(root, loader, registry, events, null);
    }

    /** @param deltas applies the deltas beside the bundles; null where they come from elsewhere (Redis) */
    public ModelRepository(Path root, ModelLoader loader, ModelRegistry registry, ModelEvents events,
            DeltaApplier deltas) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("stem.models.repository " + root.toAbsolutePath() + " is not a directory");
        }
        this.root = root.toAbsolutePath().normalize();
        this.loader = loader;
        this.registry = registry;
        this.events = events;
        this.deltas = deltas == null ? null : new RepositoryDeltas(deltas);
    }

    public Path root() {
        return root;
    }

    /** Starts a scan and returns at once; readiness tells when the default model serves. */
    public Future<ReloadReport> scanInBackground() {
        return scans.submit(this::scan);
    }

    /** Scans now and waits for the result. */
    public ReloadReport reload() {
        try {
            return scanInBackground().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the repository scan", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the repository scan failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** The latest attempt per directory, loaded or rejected. */
    public List<LoadAttempt> lastAttempts() {
        return lastAttempts.values().stream().sorted((a, b) -> a.directory().compareTo(b.directory())).toList();
    }

    private ReloadReport scan() {
        List<Path> directories = bundleDirectories();
        List<LoadAttempt> attempts = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        List<DeltaAttempt> deltaAttempts = new ArrayList<>();
        for (Path directory : directories) {
            String fingerprint = Fingerprints.of(directory, directory.resolve(RepositoryDeltas.DIRECTORY));
            if (fingerprint.equals(fingerprints.put(directory, fingerprint))) {
                unchanged.add(directory.getFileName().toString());
                deltaAttempts.addAll(applyPendingDeltas(directory));
            } else {
                attempts.add(load(directory, deltaAttempts));
            }
        }
        fingerprints.keySet().retainAll(directories);
        if (deltas != null) {
            deltas.retainBundles(directories);
        }
        lastAttempts.keySet().retainAll(directories.stream().map(d -> d.getFileName().toString()).toList());
        retryWhileWaitingForStore(attempts);
        return new ReloadReport(attempts, unchanged, unloadModelsWithoutDirectory(directories), deltaAttempts);
    }

    /** The pending deltas of the version serving from {@code directory}, if one does. */
    private List<DeltaAttempt> applyPendingDeltas(Path directory) {
        if (deltas == null) {
            warnOfIgnoredDeltas(directory);
            return List.of();
        }
        for (ServingModel serving : registry.serving()) {
            if (serving.model().bundle().directory().equals(directory)) {
                // Leased, so that a shutdown retiring it meanwhile does not close it under the parity check.
                ModelLease lease = serving.tryLease();
                if (lease == null) {
                    return List.of();
                }
                try (lease) {
                    return deltas.applyPending(directory, lease.model());
                }
            }
        }
        return List.of();
    }

    private void retryWhileWaitingForStore(List<LoadAttempt> attempts) {
        if (attempts.stream().noneMatch(attempt -> attempt.outcome() == LoadAttempt.Outcome.WAITING_FOR_STORE)) {
            storeRetries = 0;
            return;
        }
        if (storeRetryScheduled) {
            return;
        }
        Duration delay = FIRST_STORE_RETRY.multipliedBy(1L << Math.min(storeRetries, 5));
        if (delay.compareTo(MAX_STORE_RETRY) > 0) {
            delay = MAX_STORE_RETRY;
        }
        storeRetries++;
        storeRetryScheduled = true;
        scans.schedule(() -> {
            storeRetryScheduled = false;
            return scan();
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private LoadAttempt load(Path directory, List<DeltaAttempt> deltaAttempts) {
        String name = directory.getFileName().toString();
        LoadAttempt attempt;
        try {
            LoadedModel model = loader.load(directory);
            if (deltas == null) {
                warnOfIgnoredDeltas(directory);
            } else {
                try {
                    deltaAttempts.addAll(deltas.applyAll(directory, model));
                } catch (RuntimeException e) {
                    model.close();
                    throw e;
                }
            }
            registry.publish(name, model);
            attempt = LoadAttempt.loaded(name, model);
        } catch (EmbeddingStoreUnavailableException e) {
            // Forgotten, so that the next scan loads it again although its files did not change.
            fingerprints.remove(directory);
            log.warn("Cannot load the bundle in {} until the embedding store serves it, trying again by itself: {}",
                    directory, e.getMessage());
            attempt = LoadAttempt.waitingForStore(name, e);
        } catch (RuntimeException e) {
            log.error("Rejected the bundle in {}, nothing that serves changed: {}", directory, e.getMessage());
            events.rejected(name, e);
            attempt = LoadAttempt.rejected(name, e);
        }
        lastAttempts.put(name, attempt);
        return attempt;
    }

    /** Deltas put beside a bundle that reads its rows from Redis would otherwise be ignored without a word. */
    private void warnOfIgnoredDeltas(Path directory) {
        if (Files.isDirectory(directory.resolve(RepositoryDeltas.DIRECTORY)) && ignoredDeltaDirectories.add(directory)) {
            log.warn("Ignoring {}: with the Redis store deltas are loaded into Redis with"
                    + " --stem.embedding.redis.load-delta=<delta dir>, and every replica applies them from there",
                    directory.resolve(RepositoryDeltas.DIRECTORY));
        }
    }

    private List<String> unloadModelsWithoutDirectory(List<Path> directories) {
        List<String> unloaded = new ArrayList<>();
        for (ServingModel model : registry.serving()) {
            if (!directories.contains(model.model().bundle().directory())) {
                log.info("Unloading model {} version {}: its directory is gone", model.name(), model.version());
                registry.unpublish(model.name());
                unloaded.add(model.name());
            }
        }
        return unloaded;
    }

    /** Sorted by name, so that of two directories with the same model name the last one serves. */
    private List<Path> bundleDirectories() {
        try (Stream<Path> children = Files.list(root)) {
            return children.filter(Files::isDirectory).map(p -> p.toAbsolutePath().normalize()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model repository " + root, e);
        }
    }

    /** Stops scanning; a scan in progress is interrupted between files at the latest. */
    @Override
    public void close() throws InterruptedException {
        scans.shutdownNow();
        scans.awaitTermination(1, TimeUnit.MINUTES);
    }
}
