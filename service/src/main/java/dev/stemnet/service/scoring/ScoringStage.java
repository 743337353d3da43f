package dev.stemnet.service.scoring;

/** The steps of scoring one request, timed one by one. */
public enum ScoringStage {
    /** Raw values to vocabulary indices to table rows. */
    ENCODE,
    /** Embedding rows from the cache or the store into the network's inputs. */
    FETCH,
    /** The ONNX Runtime session. */
    RUN;

    public String label() {
        return name().toLowerCase();
    }
}
