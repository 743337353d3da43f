package dev.stemnet.service.experiment;

import java.util.List;

/** The {@code experiment} field of a score response. */
public record ExperimentReport(String configVersion, List<Assignment> assignments) {}
