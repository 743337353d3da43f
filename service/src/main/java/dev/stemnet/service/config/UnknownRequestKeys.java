package dev.stemnet.service.config;

import dev.stemnet.service.scoring.ScoreRequest;
import dev.stemnet.service.scoring.UnknownFeaturePolicy;
import io.micrometer.core.instrument.Counter;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.deser.DeserializationProblemHandler;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Keys of a score request, or of one of its candidates, that the API does not have follow
 * {@code stem.scoring.unknown-features} as unknown feature names do. Silently dropped, a misspelt
 * {@code "userFeature"} would score every user feature as missing. Jackson calls this only for a key no
 * property takes, so requests without one pay nothing.
 */
final class UnknownRequestKeys extends DeserializationProblemHandler {

    private final UnknownFeaturePolicy policy;
    private final Counter ignored;

    /** @param ignored counts the keys skipped under {@link UnknownFeaturePolicy#IGNORE} */
    UnknownRequestKeys(UnknownFeaturePolicy policy, Counter ignored) {
        this.policy = policy;
        this.ignored = ignored;
    }

    @Override
    public boolean handleUnknownProperty(DeserializationContext context, JsonParser parser,
            ValueDeserializer<?> deserializer, Object beanOrClass, String propertyName) {
        Class<?> type = beanOrClass instanceof Class<?> c ? c : beanOrClass.getClass();
        if (type != ScoreRequest.class && type != ScoreRequest.Candidate.class) {
            return false;
        }
        if (policy == UnknownFeaturePolicy.REJECT) {
            throw UnrecognizedPropertyException.from(parser, beanOrClass, propertyName,
                    deserializer.getKnownPropertyNames());
        }
        ignored.increment();
        parser.skipChildren();
        return true;
    }
}
