package dev.stemnet.service.scoring;

import java.util.Map;

/**
 * The probabilities for one candidate, by task in manifest order. Each is the model's float32 widened to a
 * double. The scorer's are {@link TaskScores}, which JSON writes as the floats themselves.
 */
public record CandidateScores(String itemId, Map<String, Double> scores) {}
