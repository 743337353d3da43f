package dev.stemnet.service;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The whole service over HTTP ({@link ServiceOverHttp}), serving the shared repository with the test bundle and
 * taking {@link #ADMIN_TOKEN} on the admin endpoints. A test that needs a repository of its own extends
 * {@link ServiceOverHttp} instead.
 */
public abstract class RunningServiceTest extends ServiceOverHttp {

    public static final String ADMIN_TOKEN = "test-admin-token";

    @DynamicPropertySource
    static void serveTheTestBundle(DynamicPropertyRegistry registry) {
        registry.add("stem.models.repository", () -> TestBundle.repository().toString());
        registry.add("stem.admin.token", () -> ADMIN_TOKEN);
    }
}
