package dev.stemnet.service.pipeline;

/** What is shed first under overload. */
public enum Priority {
    /** Ordinary traffic: may wait in the queue. */
    SERVING,
    /** A QA or forced-arm caller: scored only while a slot is free, never queued ahead of serving traffic. */
    QA
}
