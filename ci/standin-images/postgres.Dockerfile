# Stand-in for postgres:<major> (the official image's contract, built from Debian's packages):
#   POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / POSTGRES_INITDB_ARGS /
#   POSTGRES_HOST_AUTH_METHOD, /docker-entrypoint-initdb.d, `-c name=value` arguments passed to
#   postgres, data in /var/lib/postgresql/data (PGDATA), the server runs as `postgres` (uid 999),
#   psql inside, STOPSIGNAL SIGINT (a fast shutdown on docker stop / docker restart).
# stands-in-for: postgres:15 postgres:15-bookworm postgres:15.*
ARG BASE=pg-harness-standin/base:bookworm
FROM ${BASE}
ARG PG_MAJOR=15
RUN groupadd --system --gid 999 postgres \
 && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/bash postgres \
 && mkdir -p /var/lib/postgresql /etc/postgresql-common/createcluster.d \
 && chown -R postgres:postgres /var/lib/postgresql \
 # like the official image: no "main" cluster from the package, the entrypoint makes the cluster
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main-cluster.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}" \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/run/postgresql /docker-entrypoint-initdb.d \
 && chown -R postgres:postgres /var/run/postgresql \
 && chmod 3777 /var/run/postgresql
ENV PG_MAJOR=${PG_MAJOR} \
    PATH=$PATH:/usr/lib/postgresql/${PG_MAJOR}/bin \
    PGDATA=/var/lib/postgresql/data
RUN mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 1777 "$PGDATA"
VOLUME /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
LABEL org.pg-sample-harness.standin="Debian postgresql on bookworm, official postgres image entrypoint contract"
CMD ["postgres"]
