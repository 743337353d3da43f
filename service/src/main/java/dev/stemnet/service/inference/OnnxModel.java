package dev.stemnet.service.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import dev.stemnet.service.bundle.InvalidBundleException;
import dev.stemnet.service.bundle.Manifest.OnnxSpec;
import dev.stemnet.service.bundle.Manifest.TensorSpec;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dense network in an ONNX Runtime session: one {@code [batch, F_table, dim]} input per embedding table
 * in, one {@code [batch, tasks]} probability matrix out. Safe to call from many threads at once.
 */
public final class OnnxModel implements AutoCloseable {

    /**
     * Sessions created and not closed yet, in this process. Each holds native memory the JVM does not see
     * (weights, arenas; on CUDA device memory), so a session left open by a reload is a leak only this shows.
     */
    private static final AtomicInteger OPEN_SESSIONS = new AtomicInteger();

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final DeviceChoice deviceChoice;
    private final Map<String, TableInput> inputsByTable = new HashMap<>();
    private final String outputName;
    private final AtomicBoolean closed = new AtomicBoolean();

    private record TableInput(String name, long fields, long dim) {}

    private OnnxModel(OrtEnvironment environment, OrtSession session, DeviceChoice deviceChoice, OnnxSpec spec) {
        this.environment = environment;
        this.session = session;
        this.deviceChoice = deviceChoice;
        for (TensorSpec input : spec.inputs()) {
            // ManifestConsistency has checked the shape is ["batch", F_table, dim].
            long fields = ((Number) input.shape().get(1)).longValue();
            long dim = ((Number) input.shape().get(2)).longValue();
            inputsByTable.put(input.table(), new TableInput(input.name(), fields, dim));
        }
        this.outputName = spec.output().name();
        OPEN_SESSIONS.incrementAndGet();
    }

    /** ONNX Runtime sessions open in this process: one per loaded model version, serving or draining. */
    public static int openSessions() {
        return OPEN_SESSIONS.get();
    }

    public static OnnxModel open(Path file, OnnxSpec spec, RuntimeSettings settings, DeviceSelector deviceSelector) {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (SessionOptions options = new SessionOptions()) {
            options.setIntraOpNumThreads(settings.intraOpThreads());
            // Spinning threads would burn a core each between requests.
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.addConfigEntry("session.inter_op.allow_spinning", "0");
            options.setOptimizationLevel(settings.optimizationLevel());
            DeviceChoice deviceChoice = deviceSelector.select(settings.device(), () -> options.addCUDA());
            OrtSession session = createSession(environment, file, options);
            checkNames(session, spec, file);
            return new OnnxModel(environment, session, deviceChoice, spec);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot configure ONNX Runtime: " + e.getMessage(), e);
        }
    }

    private static OrtSession createSession(OrtEnvironment environment, Path file, SessionOptions options) {
        try {
            return environment.createSession(file.toString(), options);
        } catch (OrtException e) {
            throw new InvalidBundleException(file.getFileName() + ": ONNX Runtime cannot load it: " + e.getMessage(), e);
        }
    }

    private static void checkNames(OrtSession session, OnnxSpec spec, Path file) throws OrtException {
        Set<String> graphInputs = session.getInputNames();
        Set<String> graphOutputs = session.getOutputNames();
        List<String> missing = new ArrayList<>();
        spec.inputs().stream().map(TensorSpec::name)
                .filter(name -> !graphInputs.contains(name))
                .forEach(name -> missing.add("input '" + name + "'"));
        if (!graphOutputs.contains(spec.output().name())) {
            missing.add("output '" + spec.output().name() + "'");
        }
        if (!missing.isEmpty()) {
            session.close();
            throw new InvalidBundleException(file.getFileName() + ": the graph has no " + String.join(", ", missing)
                    + " named in manifest.json (graph inputs " + graphInputs + ", outputs " + graphOutputs + ")");
        }
    }

    public DeviceChoice deviceChoice() {
        return deviceChoice;
    }

    /**
     * Runs the network once for a batch.
     *
     * @param inputByTable per table, {@code batch * F_table * dim} floats from position 0 up to the limit;
     *                     direct native-order buffers are handed to ONNX Runtime without a copy
     * @return {@code [batch][tasks]} probabilities, tasks in manifest order
     */
    public float[][] run(int batch, Map<String, FloatBuffer> inputByTable) {
        List<OnnxTensor> tensors = new ArrayList<>(inputByTable.size());
        try {
            Map<String, OnnxTensor> feeds = new HashMap<>();
            for (Map.Entry<String, FloatBuffer> entry : inputByTable.entrySet()) {
                TableInput input = inputsByTable.get(entry.getKey());
                OnnxTensor tensor = OnnxTensor.createTensor(
                        environment, entry.getValue(), new long[] {batch, input.fields(), input.dim()});
                tensors.add(tensor);
                feeds.put(input.name(), tensor);
            }
            try (OrtSession.Result result = session.run(feeds, Set.of(outputName))) {
                return (float[][]) result.get(0).getValue();
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed to run the model: " + e.getMessage(), e);
        } finally {
            tensors.forEach(OnnxTensor::close);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        OPEN_SESSIONS.decrementAndGet();
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close the ONNX Runtime session", e);
        }
    }
}
