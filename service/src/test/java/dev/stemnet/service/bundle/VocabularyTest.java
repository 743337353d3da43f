package dev.stemnet.service.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VocabularyTest {

    @TempDir
    Path temp;

    @Test
    void lineNIsIndexNAndEverythingElseIsTheOovRow() throws IOException {
        Vocabulary vocabulary = read("ios\nandroid\nwéb\n");

        assertThat(vocabulary.indexOf("ios")).isEqualTo(1);
        assertThat(vocabulary.indexOf("android")).isEqualTo(2);
        assertThat(vocabulary.indexOf("wéb")).isEqualTo(3);
        assertThat(vocabulary.indexOf("symbian")).isZero();
        assertThat(vocabulary.indexOf(null)).isZero();
        assertThat(vocabulary.size()).isEqualTo(4);
    }

    @Test
    void theValueOfAnIndexIsItsLineAndTheOovRowHasNone() throws IOException {
        Vocabulary vocabulary = read("ios\nandroid\nwéb\n");

        assertThat(vocabulary.value(1)).isEqualTo("ios");
        assertThat(vocabulary.value(3)).isEqualTo("wéb");
        assertThatThrownBy(() -> vocabulary.value(Vocabulary.OOV_INDEX)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> vocabulary.value(4)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void anEmptyLineIsTheEmptyStringValue() throws IOException {
        Vocabulary vocabulary = read("a\n\nb\n");

        assertThat(vocabulary.indexOf("")).isEqualTo(2);
        assertThat(vocabulary.indexOf("b")).isEqualTo(3);
    }

    @Test
    void refusesAValueListedTwice() {
        assertThatThrownBy(() -> read("a\nb\na\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'a' appears twice");
    }

    private Vocabulary read(String content) throws IOException {
        Path file = temp.resolve("field.txt");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return Vocabulary.read(file);
    }
}
