package dev.stemnet.service.model;

import java.util.Collection;
import java.util.TreeSet;

/** A request named a model that is not serving. */
public class UnknownModelException extends RuntimeException {

    private final String model;

    UnknownModelException(String model, Collection<String> serving) {
        super("no model named '" + model + "' is serving; serving: " + new TreeSet<>(serving));
        this.model = model;
    }

    public String model() {
        return model;
    }
}
