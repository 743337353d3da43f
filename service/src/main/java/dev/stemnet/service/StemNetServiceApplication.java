package dev.stemnet.service;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class StemNetServiceApplication {

    public static void main(String[] args) {
        SpringApplication.run(StemNetServiceApplication.class, args);
    }
}
