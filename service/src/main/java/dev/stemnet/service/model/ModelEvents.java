package dev.stemnet.service.model;

/** What happens to models over their life, for metrics and logs; called on the thread that caused it. */
public interface ModelEvents {

    /** Loaded from {@code directory}, warmed up and now serving its name. */
    void published(String directory, LoadedModel model);

    /** The bundle in {@code directory} failed its checks or its warm-up and does not serve. */
    void rejected(String directory, RuntimeException reason);

    /** No longer serving; requests still in flight finish on it. */
    void retired(LoadedModel model);

    /** Its session and store are closed. */
    void closed(LoadedModel model);
}
