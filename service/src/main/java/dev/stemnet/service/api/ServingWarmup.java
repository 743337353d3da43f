package dev.stemnet.service.api;

import dev.stemnet.service.bundle.InvalidBundleException;
import dev.stemnet.service.bundle.Manifest.ModelInfo;
import dev.stemnet.service.config.StemProperties;
import dev.stemnet.service.model.LoadedModel;
import dev.stemnet.service.model.ModelWarmup;
import dev.stemnet.service.model.WarmupReport;
import dev.stemnet.service.model.WarmupRequests;
import dev.stemnet.service.scoring.CandidateScores;
import dev.stemnet.service.scoring.Deadline;
import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.ScoredRequest;
import dev.stemnet.service.scoring.StageTimings;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Warms a version on generated traffic ({@link WarmupRequests}) along the path of {@code POST /v1/score}: the
 * body read by the application's JSON mapper as the HTTP message converter reads it, validated, scored by the
 * version's scorer (encoding, row cache and store, ONNX Runtime) and the response written as JSON. The JIT then
 * has compiled that path, the row cache holds the popular rows and the ONNX session has run full-size batches
 * before the first real request. It does not go through the controller, so the request metrics, the scoring
 * meters and the exposure log see none of it; the row cache's own statistics do. A score that is not a
 * probability refuses the version: rows no parity fixture touches can be broken too.
 */
public final class ServingWarmup implements ModelWarmup {

    private static final long SEED = 42;

    private final JsonMapper json;
    private final ObjectReader requestReader;
    private final ObjectWriter responseWriter;
    private final Validator validator;
    private final StemProperties.Warmup settings;

    /**
     * @param json          the mapper the HTTP message converters use
     * @param validator     the one behind {@code @Valid}
     * @param maxCandidates {@code stem.scoring.max-candidates}
     */
    public ServingWarmup(JsonMapper json, Validator validator, StemProperties.Warmup settings, int maxCandidates) {
        if (settings.candidates() > maxCandidates) {
            throw new IllegalArgumentException("stem.warmup.candidates (" + settings.candidates() + ") is more than"
                    + " stem.scoring.max-candidates (" + maxCandidates + "): the warm-up would score requests the"
                    + " service refuses");
        }
        this.json = json;
        this.requestReader = json.readerFor(ScoreRequest.class);
        this.responseWriter = json.writerFor(ScoreResponse.class);
        this.validator = validator;
        this.settings = settings;
    }

    /** @throws RuntimeException when a request fails or scores something that is not a probability */
    @Override
    public WarmupReport warmUp(LoadedModel model) {
        ModelInfo info = model.manifest().model();
        ScoreResponse.ModelReference reference = new ScoreResponse.ModelReference(info.name(), info.version());
        WarmupRequests traffic = new WarmupRequests(model.bundle(), settings.candidates(), SEED);
        long started = System.nanoTime();
        for (int i = 0; i < settings.requests(); i++) {
            if (Thread.currentThread().isInterrupted()) {
                // The repository is closing: a long warm-up must not hold up the shutdown.
                throw new IllegalStateException("warm-up: interrupted after " + i + " generated requests");
            }
            byte[] body = json.writeValueAsBytes(traffic.next());
            ScoreRequest request = requestReader.readValue(new ByteArrayInputStream(body));
            checkValid(request);
            ScoredRequest scored = model.scorer().score(request, Deadline.none(), StageTimings.NONE);
            checkProbabilities(request.requestId(), scored.results());
            responseWriter.writeValue(OutputStream.nullOutputStream(),
                    new ScoreResponse(request.requestId(), reference, scored.results(), null));
        }
        return new WarmupReport(settings.requests(), settings.candidates(),
                Duration.ofNanos(System.nanoTime() - started));
    }

    /** As {@code @Valid} on the controller does; a generated request that fails is a bug here, not in the bundle. */
    private void checkValid(ScoreRequest request) {
        Set<ConstraintViolation<ScoreRequest>> violations = validator.validate(request);
        if (!violations.isEmpty()) {
            ConstraintViolation<ScoreRequest> first = violations.iterator().next();
            throw new IllegalStateException("warm-up: generated request " + request.requestId() + " is invalid: "
                    + first.getPropertyPath() + " " + first.getMessage());
        }
    }

    private static void checkProbabilities(String requestId, List<CandidateScores> results) {
        for (int c = 0; c < results.size(); c++) {
            CandidateScores candidate = results.get(c);
            int position = c;
            candidate.scores().forEach((task, score) -> {
                if (!(score >= 0 && score <= 1)) {
                    throw new InvalidBundleException("warm-up: generated request " + requestId + ", candidate "
                            + position + " (" + candidate.itemId() + "), task " + task + ": scored " + score
                            + ", not a probability");
                }
            });
        }
    }
}
