package dev.stemnet.service.api;

import dev.stemnet.service.experiment.ForcedArms;
import dev.stemnet.service.metrics.RequestTags;
import dev.stemnet.service.pipeline.ScoredExchange;
import dev.stemnet.service.pipeline.ScoringPipeline;
import dev.stemnet.service.scoring.ScoreRequest;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** HTTP in and out of the {@link ScoringPipeline}; the request was admitted by the {@link AdmissionFilter}. */
@RestController
class ScoreController {

    private final ScoringPipeline pipeline;

    ScoreController(ScoringPipeline pipeline) {
        this.pipeline = pipeline;
    }

    @PostMapping(path = "/v1/score", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ScoreResponse score(@Valid @RequestBody ScoreRequest request, HttpServletRequest http) {
        ForcedArms force = new ForcedArms(http.getHeader(ForcedArms.FORCE_HEADER), http.getHeader(ForcedArms.CALLER_HEADER),
                http.getHeader(ForcedArms.TOKEN_HEADER));
        ScoredExchange exchange = pipeline.score(request, force, AdmissionFilter.ticket(http), RequestTags.labels(http));
        return ScoreResponse.of(exchange);
    }
}
