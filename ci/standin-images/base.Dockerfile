# The shared base of every stand-in: a Debian bookworm minbase root filesystem made with
# mmdebstrap (imported as ROOTFS), plus the build machine's extra CA certificates so that apt,
# npm, pip and Maven inside `docker build` trust the same TLS roots as the machine.
# Tagged debian:bookworm and debian:bookworm-slim (when those tags are absent).
# stands-in-for: debian:bookworm debian:bookworm-slim debian:12 debian:12-slim
ARG ROOTFS=pg-harness-standin/rootfs:bookworm
FROM ${ROOTFS}
COPY host-ca-bundle.crt /tmp/host-ca-bundle.crt
COPY add-host-cas.sh /usr/local/sbin/add-host-cas
RUN /usr/local/sbin/add-host-cas /tmp/host-ca-bundle.crt && rm /tmp/host-ca-bundle.crt
# The official debian images keep no apt caches in their layers; do the same.
COPY docker-clean.conf /etc/apt/apt.conf.d/docker-clean
ENV LANG=C.UTF-8
LABEL org.pg-sample-harness.standin="debian bookworm minbase (mmdebstrap) + build machine CAs"
CMD ["bash"]
