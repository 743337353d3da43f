package dev.stemnet.admin;

import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Puts the admin token check in front of the management server, which runs in a child context of its own
 * on {@code management.server.port}: filters of the main context do not reach it. Registered through
 * {@code META-INF/spring/...ManagementContextConfiguration.imports}; this package lies outside the
 * application's component scan on purpose, so that the main context does not pick this class up.
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
class AdminTokenConfiguration {

    @Bean
    FilterRegistrationBean<AdminTokenFilter> adminTokenFilter(Environment environment) {
        return new FilterRegistrationBean<>(new AdminTokenFilter(environment.getProperty("stem.admin.token")));
    }
}
