# Stand-in for golang:<version>-bookworm: Debian's Go (bookworm: 1.19) where the official image
# keeps it (/usr/local/go, GOPATH /go), no automatic toolchain download, and the module proxy
# reached through the image's CA store (which holds the build machine's extra CAs).
# standin-for: golang:*-bookworm golang:bookworm
ARG BASE=pg-harness-standin/base:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/lib/go /usr/local/go \
 && mkdir -p /go/src /go/bin \
 && chmod -R 1777 /go
ENV GOPATH=/go \
    GOTOOLCHAIN=local \
    PATH=/go/bin:/usr/local/go/bin:$PATH
WORKDIR /go
LABEL org.pg-sample-harness.standin="Debian golang-go on bookworm"
CMD ["bash"]
