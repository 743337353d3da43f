package dev.stemnet.service.scoring;

/** One request of a bench side: a bare network run, a call of the scorer in process, or an HTTP post. */
@FunctionalInterface
interface Op {
    void call() throws Exception;
}
