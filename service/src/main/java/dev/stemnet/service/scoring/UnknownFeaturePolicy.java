package dev.stemnet.service.scoring;

/** What to do with a request feature that is not a field of its side ({@code stem.scoring.unknown-features}). */
public enum UnknownFeaturePolicy {
    /** 400, naming the feature: catches a client's typo at once. */
    REJECT,
    /** Score without it: lets clients send features a newer model will use before it serves. */
    IGNORE
}
