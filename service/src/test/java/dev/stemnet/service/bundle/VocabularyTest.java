package dev.stemnet.service.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    @Test
    void addedValuesTakeTheNextIndicesAndLeaveTheVocabularyTheyExtendAlone() throws IOException {
        Vocabulary bundle = read("ios\nandroid\n");

        Vocabulary once = bundle.withAdded(List.of("web", "tv"));
        Vocabulary twice = once.withAdded(List.of("car"));

        assertThat(twice.indexOf("android")).isEqualTo(2);
        assertThat(twice.indexOf("web")).isEqualTo(3);
        assertThat(twice.indexOf("tv")).isEqualTo(4);
        assertThat(twice.indexOf("car")).isEqualTo(5);
        assertThat(twice.value(5)).isEqualTo("car");
        assertThat(twice.value(3)).isEqualTo("web");
        assertThat(twice.size()).isEqualTo(6);
        assertThat(twice.indexOf("symbian")).isZero();
        assertThat(once.indexOf("car")).isZero();
        assertThat(once.size()).isEqualTo(5);
        assertThat(bundle.indexOf("web")).isZero();
        assertThat(bundle.size()).isEqualTo(3);
    }

    @Test
    void refusesToAddAValueItHasAlready() throws IOException {
        Vocabulary vocabulary = read("ios\nandroid\n").withAdded(List.of("web"));

        assertThatThrownBy(() -> vocabulary.withAdded(List.of("tv", "android")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'android'");
        assertThatThrownBy(() -> vocabulary.withAdded(List.of("web")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'web'");
        assertThatThrownBy(() -> vocabulary.withAdded(List.of("tv", "tv")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'tv'");
    }

    private Vocabulary read(String content) throws IOException {
        Path file = temp.resolve("field.txt");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return Vocabulary.read(file);
    }
}
