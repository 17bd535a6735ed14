# Stand-in for node:<major>-bookworm-slim: Debian's nodejs + npm (bookworm: node 18, npm 9),
# the `node` user (uid 1000) of the official image, and the CA bundle for npm.
# stands-in-for: node:*-bookworm-slim node:*-bookworm node:bookworm*
ARG BASE=pg-harness-standin/base:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt \
    NPM_CONFIG_UPDATE_NOTIFIER=false
LABEL org.pg-sample-harness.standin="Debian nodejs + npm on bookworm"
CMD ["node"]
