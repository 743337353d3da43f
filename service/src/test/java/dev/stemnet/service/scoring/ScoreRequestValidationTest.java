package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.stemnet.service.scoring.ScoreRequest.Candidate;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The paths and messages are those cascading {@code @Valid} with {@code @NotNull}/{@code @NotBlank} gave. */
class ScoreRequestValidationTest {

    private static final Validator VALIDATOR = Validation.buildDefaultValidatorFactory().getValidator();
    private static final Candidate GOOD = new Candidate("a1", Map.of());

    private Locale defaultLocale;

    @BeforeEach
    void englishMessages() {
        defaultLocale = Locale.getDefault();
        Locale.setDefault(Locale.ENGLISH);
    }

    @AfterEach
    void restoreLocale() {
        Locale.setDefault(defaultLocale);
    }

    @Test
    void aRequestWithGoodCandidatesIsValid() {
        assertThat(VALIDATOR.validate(request("u1", GOOD, new Candidate("a2", null)))).isEmpty();
    }

    @Test
    void namesEveryMissingCandidateAndBlankItemIdAtItsOwnPath() {
        Set<ConstraintViolation<ScoreRequest>> violations = VALIDATOR.validate(
                request("u1", null, new Candidate(" ", Map.of()), GOOD, new Candidate(null, Map.of())));

        assertThat(violations).extracting(v -> v.getPropertyPath().toString(), ConstraintViolation::getMessage)
                .containsExactlyInAnyOrder(
                        tuple("candidates[0]", "must not be null"),
                        tuple("candidates[1].itemId", "must not be blank"),
                        tuple("candidates[3].itemId", "must not be blank"));
    }

    @Test
    void reportsTheCandidatesAlongWithTheRequestsOtherProblems() {
        Set<ConstraintViolation<ScoreRequest>> violations = VALIDATOR.validate(request("", new Candidate("", null)));

        assertThat(violations).extracting(v -> v.getPropertyPath().toString())
                .containsExactlyInAnyOrder("userId", "candidates[0].itemId");
    }

    @Test
    void anEmptyListIsOnlyEmpty() {
        assertThat(VALIDATOR.validate(new ScoreRequest(null, null, "u1", null, List.of(), null)))
                .extracting(v -> v.getPropertyPath().toString(), ConstraintViolation::getMessage)
                .containsExactly(tuple("candidates", "must not be empty"));
    }

    private static ScoreRequest request(String userId, Candidate... candidates) {
        return new ScoreRequest(null, null, userId, null, Arrays.asList(candidates), null);
    }
}
