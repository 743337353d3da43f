package dev.stemnet.service.model;

import dev.stemnet.service.delta.DeltaAttempt;
import java.util.List;

/**
 * What one scan of the repository did.
 *
 * @param attempts  directories that were new or changed, loaded or rejected
 * @param unchanged directories whose files did not change since they were last tried
 * @param unloaded  model names no longer serving because their directory is gone
 * @param deltas    deltas tried: those beside a (re)loaded bundle, and the pending ones of serving versions
 */
public record ReloadReport(List<LoadAttempt> attempts, List<String> unchanged, List<String> unloaded,
        List<DeltaAttempt> deltas) {}
