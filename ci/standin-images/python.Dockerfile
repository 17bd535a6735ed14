# Stand-in for python:3.11-slim-bookworm: Debian's python3 (3.11) with venv, `python` on PATH,
# and pip pointed at the system CA bundle.
# stands-in-for: python:3.11-slim-bookworm python:3.11-bookworm python:3.11-slim python:3.11
ARG BASE=pg-harness-standin/base:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/python3 /usr/local/bin/python
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1
LABEL org.pg-sample-harness.standin="Debian python3 + python3-venv on bookworm"
CMD ["python3"]
