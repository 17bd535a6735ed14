# Stand-in for eclipse-temurin:17-jre: Debian's OpenJDK 17 runtime, JAVA_HOME at the official
# image's /opt/java/openjdk, and the JDK's cacerts rebuilt from the image's CA store (which
# holds the build machine's extra CAs).
# stands-in-for: eclipse-temurin:17-jre eclipse-temurin:17-jre-jammy eclipse-temurin:17-jre-noble
ARG BASE=pg-harness-standin/base:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless ca-certificates-java \
 && rm -rf /var/lib/apt/lists/* \
 && update-ca-certificates --fresh >/dev/null \
 && mkdir -p /opt/java \
 && ln -s "/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)" /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk
LABEL org.pg-sample-harness.standin="Debian openjdk-17-jre-headless on bookworm"
