package dev.stemnet.service.model;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scans the repository when its files change ({@code stem.models.watch=true}). Copying a bundle in is many
 * events; the scan waits until none has come for the debounce time, so it sees the bundle complete.
 */
public final class RepositoryWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RepositoryWatcher.class);

    private final ModelRepository repository;
    private final Duration debounce;
    private final WatchService watchService;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "model-repository-debounce");
        thread.setDaemon(true);
        return thread;
    });
    private final Thread watchThread;
    private ScheduledFuture<?> pendingScan;

    public RepositoryWatcher(ModelRepository repository, Duration debounce) {
        this.repository = repository;
        this.debounce = debounce;
        try {
            this.watchService = repository.root().getFileSystem().newWatchService();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch " + repository.root(), e);
        }
        registerTree(repository.root());
        this.watchThread = new Thread(this::watch, "model-repository-watch");
        watchThread.setDaemon(true);
        watchThread.start();
    }

    private void watch() {
        try {
            while (true) {
                WatchKey key = watchService.take();
                Path directory = (Path) key.watchable();
                key.pollEvents().forEach(event -> {
                    if (event.context() instanceof Path child && Files.isDirectory(directory.resolve(child))) {
                        registerTree(directory.resolve(child));
                    }
                });
                key.reset();
                scheduleScan();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void scheduleScan() {
        if (pendingScan != null) {
            pendingScan.cancel(false);
        }
        pendingScan = scheduler.schedule(() -> {
            log.info("Files in the model repository changed; scanning it");
            repository.reload();
        }, debounce.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A WatchService sees one directory's entries only; bundles have subdirectories (tables/, vocab/). */
    private void registerTree(Path top) {
        try (Stream<Path> directories = Files.walk(top)) {
            for (Path directory : (Iterable<Path>) directories.filter(Files::isDirectory)::iterator) {
                directory.register(watchService, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE);
            }
        } catch (IOException e) {
            log.warn("Cannot watch {}: {}", top, e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        watchThread.interrupt();
        watchService.close();
        scheduler.shutdownNow();
    }
}
