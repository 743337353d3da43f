package dev.stemnet.service.model;

import dev.stemnet.service.scoring.ClientValues;
import java.util.Collection;
import java.util.TreeSet;

/** A request named a model that is not serving. */
public class UnknownModelException extends RuntimeException {

    private final String model;

    UnknownModelException(String model, Collection<String> serving) {
        super("no model named '" + ClientValues.echo(model) + "' is serving; serving: " + new TreeSet<>(serving));
        this.model = ClientValues.echo(model);
    }

    /** The name as the request gave it, cut short if it is long. */
    public String model() {
        return model;
    }
}
