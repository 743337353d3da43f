package dev.stemnet.service.scoring;

import java.util.List;

/** The scores of a request, one entry per candidate in request order, and what its features lacked. */
public record ScoredRequest(List<CandidateScores> results, FeatureIssues featureIssues) {}
