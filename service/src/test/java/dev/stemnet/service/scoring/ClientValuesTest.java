package dev.stemnet.service.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClientValuesTest {

    @Test
    void keepsAValueUpToTheLimitAsItIs() {
        String atTheLimit = "v".repeat(ClientValues.MAX_ECHOED_LENGTH);

        assertThat(ClientValues.echo(atTheLimit)).isEqualTo(atTheLimit);
        assertThat(ClientValues.echo(null)).isNull();
    }

    @Test
    void cutsALongerValueAtTheLimitAndSaysSo() {
        assertThat(ClientValues.echo("v".repeat(100_000))).isEqualTo("v".repeat(ClientValues.MAX_ECHOED_LENGTH) + "…");
    }

    @Test
    void neverCutsACharacterOutsideTheBasicPlaneInHalf() {
        // 99 chars, then U+1F600 as a surrogate pair across the limit.
        String value = "v".repeat(ClientValues.MAX_ECHOED_LENGTH - 1) + "\uD83D\uDE00" + "tail";

        assertThat(ClientValues.echo(value)).isEqualTo("v".repeat(ClientValues.MAX_ECHOED_LENGTH - 1) + "…");
    }
}
