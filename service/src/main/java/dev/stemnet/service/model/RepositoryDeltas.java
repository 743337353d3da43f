package dev.stemnet.service.model;

import dev.stemnet.service.delta.DeltaApplier;
import dev.stemnet.service.delta.DeltaAttempt;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The deltas beside the bundles of a repository, {@code <model dir>/deltas/<sequence, 6 digits>/}, applied in
 * sequence order to the version loaded from that directory. A delta that was tried and not applied is remembered
 * with the fingerprint of its files and tried again only once they change (a half-copied delta fails its checksum
 * and is tried again when the copy completes), not on every scan; later ones wait behind it, as they could only
 * be out of order. Used on the repository's scan thread only.
 */
final class RepositoryDeltas {

    static final String DIRECTORY = "deltas";
    private static final Pattern SEQUENCE_NAME = Pattern.compile("\\d{6}");

    private final DeltaApplier applier;
    /** Delta directories tried and not applied: the fingerprint of their files when they were tried. */
    private final Map<Path, String> notApplied = new HashMap<>();

    RepositoryDeltas(DeltaApplier applier) {
        this.applier = applier;
    }

    /** After a (re)load, before the version serves: every delta in the directory, in order, each tried afresh. */
    List<DeltaAttempt> applyAll(Path bundleDir, LoadedModel model) {
        notApplied.keySet().removeIf(delta -> delta.startsWith(bundleDir));
        return applyPending(bundleDir, model);
    }

    /** The deltas past the version's applied sequence, in order, up to the first that is not applied. */
    List<DeltaAttempt> applyPending(Path bundleDir, LoadedModel model) {
        List<DeltaAttempt> attempts = new ArrayList<>();
        for (Path delta : deltaDirectories(bundleDir)) {
            long sequence = Long.parseLong(delta.getFileName().toString());
            if (sequence <= model.scorer().embeddings().sequence()) {
                continue;
            }
            String fingerprint = Fingerprints.of(delta);
            if (fingerprint.equals(notApplied.get(delta))) {
                break;
            }
            DeltaAttempt attempt = applier.apply(delta, source(bundleDir, delta), sequence, model.deltaTarget());
            attempts.add(attempt);
            if (attempt.outcome() != DeltaAttempt.Outcome.APPLIED) {
                notApplied.put(delta, fingerprint);
                break;
            }
            notApplied.remove(delta);
        }
        return attempts;
    }

    /** Forgets the deltas of bundle directories that are gone. */
    void retainBundles(Collection<Path> bundleDirs) {
        notApplied.keySet().removeIf(delta -> bundleDirs.stream().noneMatch(delta::startsWith));
    }

    /** {@code deltas/<6 digits>/} directories, in sequence order; anything else there is left alone. */
    private static List<Path> deltaDirectories(Path bundleDir) {
        Path deltas = bundleDir.resolve(DIRECTORY);
        if (!Files.isDirectory(deltas)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(deltas)) {
            return children.filter(Files::isDirectory)
                    .filter(child -> SEQUENCE_NAME.matcher(child.getFileName().toString()).matches())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + deltas, e);
        }
    }

    /** Relative to the repository, as the admin view shows directories. */
    private static String source(Path bundleDir, Path delta) {
        return bundleDir.getFileName() + "/" + bundleDir.relativize(delta);
    }
}
