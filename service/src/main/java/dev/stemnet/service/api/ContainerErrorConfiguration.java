package dev.stemnet.service.api;

import org.apache.catalina.core.StandardHost;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Errors Tomcat raises before any application code runs answer problem+json, as {@link ProblemErrorReportValve} writes it. */
@Configuration(proxyBeanMethods = false)
class ContainerErrorConfiguration {

    /**
     * Tomcat's own setting for the host's error report valve. Tomcat adds that valve when the host starts, after
     * every context customizer has run, so it sits inside the plain one Spring Boot adds and reports first.
     */
    @Bean
    TomcatContextCustomizer problemErrorReports() {
        return context -> ((StandardHost) context.getParent()).setErrorReportValveClass(ProblemErrorReportValve.class.getName());
    }
}
