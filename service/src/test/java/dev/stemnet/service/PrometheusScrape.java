package dev.stemnet.service;

import java.util.Map;

/** Reads samples out of a {@code /actuator/prometheus} page. */
public record PrometheusScrape(String text) {

    /**
     * @return the sum of every sample of {@code metric} that carries all of {@code labels}; 0 when there is none
     */
    public double sum(String metric, Map<String, String> labels) {
        return text.lines()
                .filter(line -> line.startsWith(metric + "{") || line.startsWith(metric + " "))
                .filter(line -> labels.entrySet().stream()
                        .allMatch(label -> line.contains(label.getKey() + "=\"" + label.getValue() + "\"")))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    public boolean has(String metric, Map<String, String> labels) {
        return text.lines()
                .filter(line -> line.startsWith(metric + "{"))
                .anyMatch(line -> labels.entrySet().stream()
                        .allMatch(label -> line.contains(label.getKey() + "=\"" + label.getValue() + "\"")));
    }
}
