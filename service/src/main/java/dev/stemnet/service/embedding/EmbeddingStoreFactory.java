package dev.stemnet.service.embedding;

import dev.stemnet.service.bundle.ModelBundle;

/** Opens the store that serves a checked bundle's embedding rows; chosen by {@code stem.embedding.store}. */
@FunctionalInterface
public interface EmbeddingStoreFactory {

    EmbeddingStore open(ModelBundle bundle);

    /** The bundle's own {@code tables/*.f32} files, memory-mapped. */
    static EmbeddingStoreFactory mappedFiles() {
        return bundle -> new MappedFileEmbeddingStore(bundle.manifest().tables(), table -> bundle.file(table.file()));
    }
}
