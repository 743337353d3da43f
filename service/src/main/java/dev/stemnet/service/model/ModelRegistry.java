package dev.stemnet.service.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where requests find their model: the serving version of each model name, swapped atomically when a new
 * version is published. The version replaced keeps running until the requests that leased it are done.
 */
public final class ModelRegistry implements AutoCloseable {

    private final String defaultName;
    private final ModelEvents events;
    private final Map<String, ServingModel> serving = new ConcurrentHashMap<>();
    private final Set<ServingModel> draining = ConcurrentHashMap.newKeySet();

    public ModelRegistry(String defaultName, ModelEvents events) {
        this.defaultName = defaultName;
        this.events = events;
    }

    public String defaultName() {
        return defaultName;
    }

    /**
     * @param name the model a request names, or {@code null} for the default model
     * @throws UnknownModelException  when no model of that name serves
     * @throws ModelNotReadyException when the default model does not serve yet
     */
    public ModelLease lease(String name) {
        String wanted = name == null ? defaultName : name;
        while (true) {
            ServingModel model = serving.get(wanted);
            if (model == null) {
                throw wanted.equals(defaultName)
                        ? new ModelNotReadyException(wanted)
                        : new UnknownModelException(wanted, serving.keySet());
            }
            ModelLease lease = model.tryLease();
            if (lease != null) {
                return lease;
            }
            // Closed between the lookup and the lease: a newer version is already in the map, or none is.
        }
    }

    public boolean isServing(String name) {
        return serving.containsKey(name);
    }

    public Optional<ServingModel> serving(String name) {
        return Optional.ofNullable(serving.get(name));
    }

    /** Serving models by name. */
    public List<ServingModel> serving() {
        List<ServingModel> models = new ArrayList<>(serving.values());
        models.sort(Comparator.comparing(ServingModel::name));
        return models;
    }

    /** Serving version by model name. */
    public SortedMap<String, String> servingVersions() {
        SortedMap<String, String> versions = new TreeMap<>();
        serving.forEach((name, model) -> versions.put(name, model.version()));
        return versions;
    }

    /** Replaced versions with requests still in flight. */
    public List<ServingModel> draining() {
        return List.copyOf(draining);
    }

    /** Serves {@code model} under its name from now on; the version it replaces drains and closes. */
    void publish(String directory, LoadedModel model) {
        ServingModel next = new ServingModel(model, this::closed);
        // Listeners first: the first request may lease the model the moment it is in the map.
        events.published(directory, model);
        ServingModel previous = serving.put(next.name(), next);
        if (previous != null) {
            retire(previous);
        }
    }

    void unpublish(String name) {
        ServingModel previous = serving.remove(name);
        if (previous != null) {
            retire(previous);
        }
    }

    private void retire(ServingModel model) {
        draining.add(model);
        events.retired(model.model());
        model.retire();
    }

    private void closed(ServingModel model) {
        draining.remove(model);
        events.closed(model.model());
    }

    /** Retires every model; each closes once its last request is done (graceful shutdown waits for those). */
    @Override
    public void close() {
        for (String name : List.copyOf(serving.keySet())) {
            unpublish(name);
        }
    }
}
