# Tether manager image. The build context is the directory holding tether-manager.jar; from the
# repository root, after 'mvn -B -ntp -DskipTests package':
#   docker build -f scripts/docker/manager.Dockerfile -t tether-manager:0.1.0-SNAPSHOT manager/target
# (or keep the root as context and say where the jar is: --build-arg MANAGER_JAR=manager/target/tether-manager.jar)
# Run it (docs/install.md, "The manager"):
#   docker run -d --name tether-manager -v tether-data:/var/lib/tether \
#     -p 7443:7443 -p 127.0.0.1:7444:7444 -p 127.0.0.1:9464:9464 tether-manager:0.1.0-SNAPSHOT
FROM eclipse-temurin:17-jre
ARG MANAGER_JAR=tether-manager.jar
# The image's user has the fixed UID and GID 10001, like the delegate's: the Helm chart runs as it
# (runAsUser: 10001), and a host directory bind-mounted as the data directory must belong to it.
# The data directory is created 0700 and owned by that user: the manager refuses one that others
# may write to, and a new named volume takes this directory's owner and mode.
# curl answers the health check. The base image ships it today; install it only if a later base
# image drops it, so that the health check never depends on that.
RUN groupadd --system --gid 10001 tether \
 && useradd --system --uid 10001 --gid tether --home-dir /nonexistent --shell /usr/sbin/nologin tether \
 && install -d -m 0700 -o 10001 -g 10001 /var/lib/tether \
 && if ! command -v curl >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --chmod=0444 ${MANAGER_JAR} /opt/tether/tether-manager.jar
USER 10001:10001
# The heap is 75% of the container's memory limit; the rest is metaspace, thread stacks and
# Netty's direct buffers. Measured: about 15 KB of heap and 49 KB of RSS per connected delegate
# (docs/benchmarks.md), so 2 GiB holds some 20 000 delegates.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
# Admin commands run in the container (docker exec tether-manager java -jar
# /opt/tether/tether-manager.jar token list ...) find the admin key and the CA in the data directory.
ENV TETHER_DATA_DIR=/var/lib/tether
# The data directory holds master.key, admin.key, the TLS key and the embedded H2 database: it must
# outlive the container. /tmp is a volume so that the JVM can write there under --read-only.
VOLUME ["/var/lib/tether", "/tmp"]
# 7443 delegates (TLS), 7444 the admin API (TLS, named admins with their own keys), 9464 the ops
# listener (plain HTTP: /metrics, /healthz, /readyz).
EXPOSE 7443 7444 9464
# Ready while the manager serves and its database answers (/readyz). Docker only reports it
# (docker ps); it restarts nothing.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["curl", "--fail", "--silent", "--show-error", "--max-time", "4", "--output", "/dev/null", "http://127.0.0.1:9464/readyz"]
# SIGTERM closes the delegates' streams and stops the manager cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["java", "-jar", "/opt/tether/tether-manager.jar"]
# In a container the manager's loopback defaults (admin 127.0.0.1:7444, ops 127.0.0.1:9464) would
# be unreachable from outside it, so every listener binds all interfaces here. The admin listener
# stays TLS and admits only named admins; publish 7444 and 9464 on the host's loopback (as above)
# or on a private network, never to the Internet. Arguments after the image name replace these,
# e.g. to add --db-url for PostgreSQL replicas (keep the four flags).
CMD ["serve", "--data-dir", "/var/lib/tether", "--listen", "0.0.0.0:7443", "--admin-listen", "0.0.0.0:7444", "--ops-listen", "0.0.0.0:9464"]
