package dev.stemnet.service.model;

import java.time.Duration;

/** What a warm-up did, for the log line of a loaded version. */
public record WarmupReport(int requests, int candidates, Duration duration) {}
