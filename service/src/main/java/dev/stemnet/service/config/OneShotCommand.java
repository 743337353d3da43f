package dev.stemnet.service.config;

import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.context.ConfigurableApplicationContext;

/** How the loader commands run: their own small Spring context, no web server, no model, then exit. */
final class OneShotCommand {

    private OneShotCommand() {}

    /**
     * @param wiring     the command's configuration class; its runner does the work and sets the exit code
     * @param failedCode the exit code when the context fails to start or the runner throws
     * @return the process exit code
     */
    static int run(Class<?> wiring, String[] args, int failedCode) {
        SpringApplication application = new SpringApplication(wiring);
        application.setWebApplicationType(WebApplicationType.NONE);
        application.setBannerMode(Banner.Mode.OFF);
        application.setLogStartupInfo(false);
        try (ConfigurableApplicationContext context = application.run(args)) {
            return SpringApplication.exit(context);
        } catch (RuntimeException e) {
            // Spring has already reported the failure (failure analysis or stack trace).
            return failedCode;
        }
    }
}
