# Stand-in for maven:3-eclipse-temurin-17: Debian's OpenJDK 17 JDK and Maven (3.8) on the JRE
# stand-in.
# stands-in-for: maven:3-eclipse-temurin-17 maven:3.*-eclipse-temurin-17
ARG JRE=pg-harness-standin/jre:17
FROM ${JRE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven \
 && rm -rf /var/lib/apt/lists/* \
 && update-ca-certificates --fresh >/dev/null
ENV MAVEN_HOME=/usr/share/maven \
    MAVEN_CONFIG=/root/.m2
LABEL org.pg-sample-harness.standin="Debian openjdk-17-jdk-headless + maven on bookworm"
CMD ["mvn"]
