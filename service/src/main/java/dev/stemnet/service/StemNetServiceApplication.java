package dev.stemnet.service;

import dev.stemnet.service.config.RedisDeltaCommand;
import dev.stemnet.service.config.RedisLoadCommand;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class StemNetServiceApplication {

    public static void main(String[] args) {
        if (RedisDeltaCommand.isRequested(args)) {
            System.exit(RedisDeltaCommand.run(args));
        }
        if (RedisLoadCommand.isRequested(args)) {
            System.exit(RedisLoadCommand.run(args));
        }
        SpringApplication.run(StemNetServiceApplication.class, args);
    }
}
