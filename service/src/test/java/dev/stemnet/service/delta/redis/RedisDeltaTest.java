package dev.stemnet.service.delta.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.Polling;
import dev.stemnet.service.TestBundle;
import dev.stemnet.service.TestDelta;
import dev.stemnet.service.bundle.BundleLoader;
import dev.stemnet.service.bundle.ModelBundle;
import dev.stemnet.service.config.RedisDeltaCommand;
import dev.stemnet.service.delta.DeltaAttempt;
import dev.stemnet.service.embedding.redis.RedisConnection;
import dev.stemnet.service.embedding.redis.RedisKeyLayout;
import dev.stemnet.service.embedding.redis.RedisServiceProperties;
import dev.stemnet.service.embedding.redis.RedisSettings;
import dev.stemnet.service.embedding.redis.TestRedis;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import jakarta.validation.Validation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Deltas with the Redis store, on a real redis-server: the loader command checks a delta against what Redis holds,
 * writes its rows and record and announces it; replicas (each with its own connection, row caches and follower) apply
 * it on the announcement, or by their poll when they missed it; a replica that loads the version later applies every
 * delta there before it serves. A refused delta writes nothing.
 */
@ExtendWith(OutputCaptureExtension.class)
class RedisDeltaTest {

    /** The announcement reaches a subscribed replica in moments; this bounds a slow machine. */
    private static final Duration APPLIED_WITHIN = Duration.ofSeconds(20);
    /** So long that only an announcement can explain a replica applying a delta. */
    private static final Duration NO_POLL = Duration.ofHours(1);
    private static final List<String> ITEMS = List.of("redis-ad-1", "redis-ad-2", "a5", "a9");

    @TempDir
    Path temp;

    private Path bundle;
    private RedisKeyLayout keys;
    private RedisConnection redis;
    private final List<RedisReplica> replicas = new ArrayList<>();

    /** A version of its own in the shared Redis, so that no other test's deltas meet this one's. */
    @BeforeEach
    void loadAVersionOfItsOwn() {
        String version = "redis-delta-" + UUID.randomUUID();
        bundle = TestBundle.copyWithVersion(temp.resolve("bundle"), version);
        RedisServiceProperties.loadBundles(TestRedis.shared(), bundle);
        keys = new RedisKeyLayout("stem-net", version);
        redis = RedisConnection.open(new RedisSettings(TestRedis.shared().uri(), false, Duration.ofSeconds(5)));
    }

    @AfterEach
    void close() throws Exception {
        for (RedisReplica replica : replicas) {
            replica.close();
        }
        redis.close();
    }

    @Test
    void theLoaderWritesRowsAndRecordThenAnnouncesAndEverySubscribedReplicaAppliesIt(CapturedOutput output)
            throws Exception {
        RedisReplica first = replica(true, NO_POLL);
        RedisReplica second = replica(true, NO_POLL);
        assertThat(Polling.until(APPLIED_WITHIN, () -> first.follower().subscribed() && second.follower().subscribed()))
                .isTrue();
        // Cached before the delta: a5's rows must be evicted when the delta changes them.
        List<Map<String, Double>> before = first.scores(ITEMS);
        second.scores(ITEMS);
        BlockingQueue<String> announcements = listen();
        TestDelta delta = TestDelta.first(bundle).addItem("redis-ad-1", "a3").addItem("redis-ad-2", "a7")
                .changeItem("a5", "a9");

        assertThat(load(delta.writeTo(temp.resolve("d1")))).isZero();

        assertThat(announcements.poll(10, TimeUnit.SECONDS)).isEqualTo("1");
        assertThat(get(keys.deltasKey())).isEqualTo("1");
        assertThat(get(keys.deltaRecordKey(1))).contains("\"redis-ad-1\"").contains("parityFixtures");
        assertThat(output.getOut()).contains("Loaded delta 1 of stem-net version " + keys.version())
                .contains("table shared").contains("3 rows written, every row verified");
        List<Map<String, Double>> expected = TestDelta.expectedScores(ITEMS, delta::baseItemScoringAs);
        assertThat(expected).isNotEqualTo(before);
        for (RedisReplica replica : List.of(first, second)) {
            assertThat(Polling.until(APPLIED_WITHIN, () -> replica.sequence() == 1)).isTrue();
            assertThat(replica.scores(ITEMS)).isEqualTo(expected);
            assertThat(replica.model().deltas().attempts()).singleElement().satisfies(attempt -> {
                assertThat(attempt.outcome()).isEqualTo(DeltaAttempt.Outcome.APPLIED);
                assertThat(attempt.source()).isEqualTo("redis");
            });
        }

        assertThat(load(delta.writeTo(temp.resolve("d1-again")))).as("loaded before: nothing to do").isZero();
        assertThat(output.getOut()).contains("is in Redis");
    }

    @Test
    void aReplicaThatMissedTheAnnouncementCatchesUpByPolling() {
        RedisReplica deaf = replica(false, Duration.ofMillis(500));
        TestDelta delta = TestDelta.first(bundle).addItem("redis-ad-1", "a3").changeItem("a5", "a9");
        List<String> items = List.of("redis-ad-1", "a5");

        assertThat(load(delta.writeTo(temp.resolve("d1")))).isZero();

        assertThat(deaf.follower().subscribed()).isFalse();
        assertThat(Polling.until(APPLIED_WITHIN, () -> deaf.sequence() == 1)).isTrue();
        assertThat(deaf.scores(items)).isEqualTo(TestDelta.expectedScores(items, delta::baseItemScoringAs));
    }

    @Test
    void aReplicaLoadingTheVersionLaterAppliesEveryDeltaInRedisAndChecksTheNewestDeltasFixtures() {
        TestDelta first = TestDelta.first(bundle).addItem("redis-ad-1", "a3").changeItem("a5", "a9");
        TestDelta second = first.next().addItem("redis-ad-2", "a5").changeItem("a9", "a11");
        assertThat(load(first.writeTo(temp.resolve("d1")))).isZero();
        assertThat(load(second.writeTo(temp.resolve("d2")))).isZero();

        RedisReplica restarted = replica(true, NO_POLL);

        // The bundle's own fixtures no longer hold (a5 and a9 changed): the load passed on delta 2's.
        assertThat(restarted.firstScan().attempts()).singleElement()
                .satisfies(attempt -> assertThat(attempt.error()).isNull());
        assertThat(restarted.sequence()).isEqualTo(2);
        assertThat(restarted.model().deltas().attempts()).extracting(DeltaAttempt::sequence).containsExactly(1L, 2L);
        assertThat(restarted.scores(ITEMS)).isEqualTo(TestDelta.expectedScores(ITEMS, second::baseItemScoringAs));
    }

    @Test
    void aRefusedDeltaWritesNothingAndExitsWithAnError(CapturedOutput output) throws Exception {
        TestDelta first = TestDelta.first(bundle).addItem("redis-ad-1", "a3");
        TestDelta second = first.next().addItem("redis-ad-2", "a7").changeItem("a5", "a9");
        Path secondDir = second.writeTo(temp.resolve("d2"));
        byte[] a5Before = redis.commands().get(a5SharedRow());

        assertThat(load(secondDir)).as("sequence 2 before 1").isEqualTo(1);
        assertThat(output.getErr()).contains("Refused delta").contains("(out_of_order)").contains("nothing was written");

        assertThat(load(first.writeTo(temp.resolve("d1")))).isZero();
        TestDelta.editDeltaJson(secondDir, json -> json.put("parityTolerance", 1e-4));
        breakFirstFixture(secondDir);
        assertThat(load(secondDir)).as("fixtures off").isEqualTo(1);
        assertThat(output.getErr()).contains("(parity)");

        assertThat(get(keys.deltasKey())).isEqualTo("1");
        assertThat(redis.commands().get(keys.deltaRecordKey(2))).isNull();
        assertThat(redis.commands().get(keys.rowKey("shared", 889))).as("the appended row of delta 2").isNull();
        assertThat(redis.commands().get(a5SharedRow())).as("a5's row, which delta 2 changes").isEqualTo(a5Before);
    }

    @Test
    void aSecondLoaderIsTurnedAwayWhileAnotherWritesAndWritesNothing(CapturedOutput output) {
        Path firstDir = TestDelta.first(bundle).addItem("redis-ad-1", "a3").writeTo(temp.resolve("d1"));
        byte[] lock = keys.deltaLoaderLockKey();
        redis.commands().set(lock, "a loader on another host".getBytes(StandardCharsets.UTF_8));

        assertThat(load(firstDir)).as("exit code while the lock is held").isEqualTo(2);
        assertThat(output.getErr()).contains("another delta loader is writing into stem-net version " + keys.version())
                .contains("a loader on another host");
        assertThat(redis.commands().get(keys.deltasKey())).isNull();
        assertThat(redis.commands().get(keys.deltaRecordKey(1))).isNull();
        assertThat(get(lock)).as("the holder's lock, untouched").isEqualTo("a loader on another host");

        redis.commands().del(lock);
        assertThat(load(firstDir)).isZero();
        assertThat(get(keys.deltasKey())).isEqualTo("1");
        assertThat(redis.commands().get(lock)).as("released by the loader that held it").isNull();
    }

    private byte[] a5SharedRow() {
        ModelBundle checked = new BundleLoader(Validation.buildDefaultValidatorFactory().getValidator()).load(bundle);
        long offset = checked.manifest().tables().get(0).fields().stream()
                .filter(field -> field.name().equals("ad_id")).findFirst().orElseThrow().rowOffset();
        return keys.rowKey("shared", offset + checked.vocabulary("ad_id").indexOf("a5"));
    }

    private RedisReplica replica(boolean subscribe, Duration poll) {
        RedisReplica replica = new RedisReplica(TestRedis.shared().uri(), bundle, subscribe, poll);
        replicas.add(replica);
        return replica;
    }

    private int load(Path delta) {
        return RedisDeltaCommand.run(new String[] {"--stem.embedding.redis.load-delta=" + delta,
                "--stem.embedding.redis.delta-base=" + bundle, "--stem.embedding.redis.uri=" + TestRedis.shared().uri(),
                "--stem.embedding.redis.timeout=5s"});
    }

    private String get(byte[] key) {
        byte[] value = redis.commands().get(key);
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    private BlockingQueue<String> listen() {
        BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        StatefulRedisPubSubConnection<byte[], byte[]> connection = redis.connectPubSub();
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(byte[] channel, byte[] message) {
                messages.add(new String(message, StandardCharsets.UTF_8));
            }
        });
        connection.sync().subscribe(keys.deltasChannel().getBytes(StandardCharsets.UTF_8));
        return messages;
    }

    private static void breakFirstFixture(Path delta) throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(delta.resolve("parity.jsonl")));
        lines.set(0, lines.get(0).replaceFirst(":0\\.0", ":0.3"));
        TestDelta.replaceFile(delta, "parity.jsonl", (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
