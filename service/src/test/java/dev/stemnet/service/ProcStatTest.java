package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcStatTest {

    @Test
    void readsFieldsCountedFromTheEndOfACommandNameThatHoldsSpacesAndParentheses(@TempDir Path dir) throws Exception {
        // proc(5): pid, (comm), state, then numbers; here each number is its own field's number but for the four read.
        StringJoiner line = new StringJoiner(" ", "4242 (C2 Compiler) x) S ", "\n");
        for (int field = 4; field <= 52; field++) {
            line.add(switch (field) {
                case 14 -> "150";   // utime, clock ticks
                case 15 -> "50";    // stime
                case 19 -> "19";    // nice
                case 41 -> "5";     // policy
                default -> String.valueOf(field * 1000);
            });
        }
        Path stat = Files.writeString(dir.resolve("stat"), line.toString());

        assertThat(ProcStat.cpuNanos(stat)).isEqualTo(200 * 10_000_000L);
        assertThat(ProcStat.nice(stat)).isEqualTo(19);
        assertThat(ProcStat.schedulingPolicy(stat)).isEqualTo(ProcStat.SCHED_IDLE);
    }
}
