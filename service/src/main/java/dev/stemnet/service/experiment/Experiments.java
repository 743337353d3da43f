package dev.stemnet.service.experiment;

import dev.stemnet.service.experiment.ExperimentConfig.Arm;
import dev.stemnet.service.experiment.ExperimentConfig.Layer;
import dev.stemnet.service.experiment.ExperimentConfig.Shadow;
import dev.stemnet.service.scoring.ClientValues;
import dev.stemnet.service.scoring.InvalidRequestException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active experiment configuration and the assignment of requests to arms. A reload reads the file again and
 * swaps the new configuration in atomically only if it passes every check, models serving included; otherwise
 * the previous one, and its version, keep serving. A request sees one configuration from start to end.
 */
public final class Experiments {

    private static final Logger log = LoggerFactory.getLogger(Experiments.class);

    public enum Outcome { LOADED, UNCHANGED, REJECTED }

    /** @param error why the file was refused; {@code null} unless rejected */
    public record ReloadResult(Outcome outcome, String activeVersion, String error, Instant at) {}

    private final Path file;
    private final Map<String, String> forceCallers;
    private final ServingVersions servingVersions;
    private final ExperimentMetrics metrics;
    private final AtomicReference<ExperimentConfig> active = new AtomicReference<>();
    private volatile ReloadResult lastReload;

    /**
     * Reads {@code file} at once: a configuration that fails its checks stops the service from starting. Whether
     * its models serve cannot be known yet (they load in the background); readiness waits for them.
     *
     * @param file {@code null} when no experiments are configured
     */
    public Experiments(Path file, Map<String, String> forceCallers, ServingVersions servingVersions,
            ExperimentMetrics metrics) {
        this.file = file;
        this.forceCallers = Map.copyOf(forceCallers);
        this.servingVersions = servingVersions;
        this.metrics = metrics;
        if (file != null) {
            try {
                activate(read());
            } catch (InvalidExperimentConfigException e) {
                throw new IllegalStateException("stem.experiments.config " + file + " is refused: " + e.getMessage(), e);
            }
        }
    }

    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    public Optional<ExperimentConfig> active() {
        return Optional.ofNullable(active.get());
    }

    public Optional<ReloadResult> lastReload() {
        return Optional.ofNullable(lastReload);
    }

    /** Reads the file again; see the class comment. Reloads run one at a time. */
    public synchronized ReloadResult reload() {
        if (file == null) {
            throw new IllegalStateException("no experiments are configured (stem.experiments.config is not set)");
        }
        ExperimentConfig current = active.get();
        ReloadResult result;
        try {
            ExperimentConfig next = read();
            checkModelsServe(next);
            if (next.equals(current)) {
                result = new ReloadResult(Outcome.UNCHANGED, current.version(), null, Instant.now());
            } else if (current != null && next.version().equals(current.version())) {
                throw new InvalidExperimentConfigException("version",
                        "'" + next.version() + "' is already active with other content; give the new content a new version");
            } else {
                activate(next);
                result = new ReloadResult(Outcome.LOADED, next.version(), null, Instant.now());
            }
        } catch (InvalidExperimentConfigException e) {
            String version = current == null ? null : current.version();
            log.error("Refused the experiment configuration {}; version {} keeps serving: {}", file, version, e.getMessage());
            result = new ReloadResult(Outcome.REJECTED, version, e.getMessage(), Instant.now());
        }
        metrics.reloaded(result.outcome());
        lastReload = result;
        return result;
    }

    /** Models the active configuration names that do not serve (or not in the pinned version); empty when ready. */
    public List<String> unservedArms() {
        ExperimentConfig config = active.get();
        if (config == null) {
            return List.of();
        }
        List<String> problems = new ArrayList<>();
        config.modelLayer().ifPresent(layer -> layer.arms().forEach(arm -> unserved(layer, arm).ifPresent(problems::add)));
        return problems;
    }

    /**
     * The unit's arm in every layer. A request that names a model is scored by it and is not exposed to the model
     * layer; forced arms need an allow-listed caller.
     *
     * @throws ForcedAssignmentForbiddenException when arms are forced by a caller that may not
     * @throws InvalidRequestException            when the forced layers or arms do not exist
     */
    public ExperimentDecision decide(String unitId, String requestedModel, ForcedArms force) {
        if (force.requested()) {
            force.authorize(forceCallers);
        }
        ExperimentConfig config = active.get();
        if (config == null) {
            if (force.requested()) {
                throw new InvalidRequestException(ForcedArms.FORCE_HEADER, "no experiment configuration is active");
            }
            return ExperimentDecision.none(requestedModel);
        }
        Map<String, String> forced = force.requested() ? force.armsByLayer() : Map.of();
        checkForced(config, forced, requestedModel);
        List<Assignment> assignments = new ArrayList<>();
        String model = requestedModel;
        boolean armChoseModel = false;
        for (Layer layer : config.layers()) {
            if (layer.choosesModel() && requestedModel != null) {
                continue;
            }
            int bucket = config.bucket(layer, unitId);
            String forcedArm = forced.get(layer.name());
            Arm arm = forcedArm != null ? layer.arm(forcedArm).orElseThrow() : layer.armOf(bucket);
            if (forcedArm != null) {
                metrics.forced(layer.name(), arm.name());
            }
            if (layer.choosesModel()) {
                model = arm.model();
                armChoseModel = true;
            }
            assignments.add(new Assignment(layer.name(), bucket, arm.name(), arm.model(), arm.version(),
                    forcedArm != null ? Boolean.TRUE : null));
        }
        // A QA caller's request is no sample of real traffic: nothing to compare a shadow on.
        List<Shadow> shadows = forced.isEmpty() ? shadowsOf(config, unitId, assignments) : List.of();
        return new ExperimentDecision(config.version(), assignments, model, armChoseModel, shadows);
    }

    private static List<Shadow> shadowsOf(ExperimentConfig config, String unitId, List<Assignment> assignments) {
        return config.shadows().stream()
                .filter(shadow -> shadow.layer() == null || assignments.stream().anyMatch(assignment ->
                        assignment.layer().equals(shadow.layer()) && assignment.arm().equals(shadow.arm())))
                .filter(shadow -> config.shadows(shadow, unitId))
                .toList();
    }

    private static void checkForced(ExperimentConfig config, Map<String, String> forced, String requestedModel) {
        forced.forEach((layerName, armName) -> {
            Layer layer = config.layer(layerName).orElseThrow(() -> new InvalidRequestException(ForcedArms.FORCE_HEADER,
                    "no layer '" + ClientValues.echo(layerName) + "' in experiment configuration " + config.version()));
            if (layer.arm(armName).isEmpty()) {
                throw new InvalidRequestException(ForcedArms.FORCE_HEADER,
                        "layer '" + layerName + "' has no arm '" + ClientValues.echo(armName) + "'");
            }
            if (layer.choosesModel() && requestedModel != null) {
                throw new InvalidRequestException(ForcedArms.FORCE_HEADER, "layer '" + layerName
                        + "' chooses the model; it cannot be forced in a request that names a model");
            }
        });
    }

    private ExperimentConfig read() {
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            throw new InvalidExperimentConfigException("", "cannot read " + file + ": " + e);
        }
        return ExperimentConfigParser.parse(yaml);
    }

    /** Arms' models and shadows' models alike; at start only the arms' (readiness waits for them, not for shadows). */
    private void checkModelsServe(ExperimentConfig config) {
        config.modelLayer().ifPresent(layer -> layer.arms().forEach(arm -> unserved(layer, arm).ifPresent(problem -> {
            throw new InvalidExperimentConfigException("layers[" + layer.name() + "].arms[" + arm.name() + "]", problem);
        })));
        Map<String, String> serving = servingVersions.byModel();
        for (Shadow shadow : config.shadows()) {
            if (!serving.containsKey(shadow.model())) {
                throw new InvalidExperimentConfigException("shadows[" + shadow.name() + "].model", "model '"
                        + shadow.model() + "' is not serving; serving: " + List.copyOf(serving.keySet()));
            }
        }
    }

    private Optional<String> unserved(Layer layer, Arm arm) {
        Map<String, String> serving = servingVersions.byModel();
        String version = serving.get(arm.model());
        if (version == null) {
            return Optional.of("model '" + arm.model() + "' of arm '" + arm.name() + "' in layer '" + layer.name()
                    + "' is not serving; serving: " + List.copyOf(serving.keySet()));
        }
        if (arm.version() != null && !arm.version().equals(version)) {
            return Optional.of("arm '" + arm.name() + "' in layer '" + layer.name() + "' pins " + arm.model() + " version "
                    + arm.version() + " but version " + version + " serves");
        }
        return Optional.empty();
    }

    private void activate(ExperimentConfig config) {
        ExperimentConfig previous = active.getAndSet(config);
        metrics.activated(config);
        log.info("Experiment configuration {} from {} is active (previous: {}): {}", config.version(), file,
                previous == null ? "none" : previous.version(), describe(config));
    }

    private static String describe(ExperimentConfig config) {
        return config.layers().stream()
                .map(layer -> layer.name() + " (" + layer.buckets() + " buckets, arms "
                        + layer.arms().stream().map(Arm::name).toList() + ")")
                .toList().toString();
    }
}
