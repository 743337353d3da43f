# STEM-Net scoring service image. One Dockerfile, two variants chosen with a build argument:
#   docker build -t stem-net-service:cpu .                            # CPU: onnxruntime, slim JRE base
#   docker build --build-arg VARIANT=gpu -t stem-net-service:gpu .    # GPU: onnxruntime_gpu, CUDA 12 + cuDNN 9 base
# The container writes only to its volumes: /models (bundles, may be read-only), /exposures (exposure log) and
# /tmp (Tomcat's work directory; ONNX Runtime's empty extraction directory). Run it with a read-only root
# filesystem. Configuration: STEM_* environment variables or --key=value arguments (see service/README.md).

ARG VARIANT=cpu

FROM maven:3.9-eclipse-temurin-17 AS build
ARG VARIANT
WORKDIR /src
COPY pom.xml ./
COPY service/pom.xml service/
RUN mvn -B -q -pl service -am dependency:go-offline -Donnxruntime.artifact="$( [ "$VARIANT" = gpu ] && echo onnxruntime_gpu || echo onnxruntime )"
COPY service/src service/src
RUN mvn -B -q -pl service -am package -DskipTests -Donnxruntime.artifact="$( [ "$VARIANT" = gpu ] && echo onnxruntime_gpu || echo onnxruntime )"
# ONNX Runtime copies its native libraries out of its jar at every start (the CUDA provider alone is 580 MB);
# unpacked here once and loaded from onnxruntime.native.path, a pod needs no large writable /tmp.
WORKDIR /src/native
RUN jar xf /src/service/target/stem-net-service.jar BOOT-INF/lib \
    && jar xf BOOT-INF/lib/onnxruntime*-*.jar ai/onnxruntime/native/linux-x64 \
    && mv ai/onnxruntime/native/linux-x64 /src/onnxruntime-native

FROM eclipse-temurin:17-jre-jammy AS runtime-cpu

# ONNX Runtime 1.29's CUDA provider needs CUDA 12 and cuDNN 9; the JRE comes from Ubuntu.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04 AS runtime-gpu
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*

FROM runtime-${VARIANT}
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 stem \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin stem \
    && mkdir -p /models /exposures \
    && chown 10001:10001 /models /exposures
COPY --from=build /src/onnxruntime-native /opt/onnxruntime/lib
COPY --from=build /src/service/target/stem-net-service.jar /app/stem-net-service.jar
VOLUME ["/models", "/exposures", "/tmp"]
USER 10001:10001
# The heap is fixed at 60% of the container's memory from the start: grown from the JVM's default 1/64, G1 keeps it
# small while collecting costs little, and collects the young generation every second or so, each pause landing in
# some request's p99. scripts/with-service.sh starts the benchmarks' service with the same flags.
ENV STEM_MODELS_REPOSITORY=/models \
    JAVA_TOOL_OPTIONS="-XX:InitialRAMPercentage=60 -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError"
# 8080: /v1/score and /v1/models; 8081: actuator (probes, /actuator/prometheus, admin).
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8081/actuator/health/readiness || exit 1
ENTRYPOINT ["java", "-Donnxruntime.native.path=/opt/onnxruntime/lib", "-jar", "/app/stem-net-service.jar"]
