package dev.stemnet.service.scoring;

import java.util.Map;

/**
 * The probabilities for one candidate, by task in manifest order. Each is the model's float32 widened to a
 * double, so it prints as a value that reads back to the very same float. The scorer's are {@link TaskScores}.
 */
public record CandidateScores(String itemId, Map<String, Double> scores) {}
