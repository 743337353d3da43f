package dev.stemnet.service.scoring;

import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;

/**
 * Every candidate is present and has a non-blank {@code itemId}; each one that is not is reported at its own
 * path ({@code candidates[3]}, {@code candidates[3].itemId}) with the message {@code @NotNull} / {@code @NotBlank}
 * would give. One plain loop: cascading {@code @Valid} into each of a request's hundreds of candidates made the
 * validator build a path and a context per candidate, a measurable share of serving a request.
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = CandidatesHaveItemIds.Validator.class)
@interface CandidatesHaveItemIds {

    String message() default "{jakarta.validation.constraints.NotBlank.message}";

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    final class Validator implements ConstraintValidator<CandidatesHaveItemIds, List<ScoreRequest.Candidate>> {

        private static final String NOT_NULL = "{jakarta.validation.constraints.NotNull.message}";
        private static final String NOT_BLANK = "{jakarta.validation.constraints.NotBlank.message}";

        @Override
        public boolean isValid(List<ScoreRequest.Candidate> candidates, ConstraintValidatorContext context) {
            if (candidates == null) {
                return true;
            }
            boolean valid = true;
            for (int i = 0; i < candidates.size(); i++) {
                ScoreRequest.Candidate candidate = candidates.get(i);
                if (candidate == null || isBlank(candidate.itemId())) {
                    if (valid) {
                        context.disableDefaultConstraintViolation();
                        valid = false;
                    }
                    if (candidate == null) {
                        context.buildConstraintViolationWithTemplate(NOT_NULL)
                                .addBeanNode().inIterable().atIndex(i)
                                .addConstraintViolation();
                    } else {
                        context.buildConstraintViolationWithTemplate(NOT_BLANK)
                                .addPropertyNode("itemId").inIterable().atIndex(i)
                                .addConstraintViolation();
                    }
                }
            }
            return valid;
        }

        /** As {@code @NotBlank}: null, or nothing but whitespace. */
        private static boolean isBlank(String value) {
            return value == null || value.isBlank();
        }
    }
}
