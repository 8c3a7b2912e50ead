# One image for the three services; SERVICE (peer, register or hub) picks the one a container runs.
#   docker build -t sorcha .
#   docker run -d --restart unless-stopped -e SERVICE=hub -e HUB_ID=n0 -p 8090:8090 -p 50051:50051 \
#     -v sorcha-hub:/data sorcha
# Configure with the environment variables of the README; state lives in /data (DATA_DIR).
FROM denoland/deno:2.9.6

WORKDIR /app
RUN mkdir -p /data && chown deno:deno /data /app
USER deno

# Dependencies first, so that a change of code does not download them again.
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno gen gen
COPY --chown=deno:deno shared shared
COPY --chown=deno:deno peer peer
COPY --chown=deno:deno register register
COPY --chown=deno:deno hub hub
RUN deno cache --frozen peer/main.ts register/main.ts hub/main.ts hub/supervised.ts

ENV SERVICE=peer \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    LOG_FORMAT=json
VOLUME /data
# HTTP: peer 8080, register 8081, hub 8090; gRPC: hub 50051.
EXPOSE 8080 8081 8090 50051

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD \
  sh -c 'case "$SERVICE" in peer) p=${PORT:-8080};; register) p=${PORT:-8081};; *) p=${PORT:-8090};; esac; \
    exec deno eval "const r = await fetch(\"http://127.0.0.1:$p/healthz\"); Deno.exit(r.ok ? 0 : 1)"'

# `deno task hub` restarts the hub after a runtime crash (see the README); keep a restart policy too.
CMD ["sh", "-c", "exec deno task \"$SERVICE\""]
