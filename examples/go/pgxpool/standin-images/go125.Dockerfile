# Stand-in for golang:1.25-bookworm, which the shared golang recipe (Debian's Go 1.19) cannot
# serve: pgx 5.13 needs Go 1.25. Debian's Go fetches the one newer Go approved on these machines,
# go1.27.3, as the module golang.org/toolchain from the Go module proxy (what GOTOOLCHAIN does in
# Go 1.21+), and that becomes /usr/local/go (a module zip keeps no modes: the tools are made
# executable again, as the go command does). The name sorts before "golang", so this recipe is
# the one matched for these tags.
# standin-for: golang:1.25-bookworm golang:1.25.*-bookworm
ARG BASE=pg-harness-standin/base:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go \
 && GOPATH=/tmp/gopath GOFLAGS=-modcacherw go mod download golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64 \
 && cp -a /tmp/gopath/pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64 /usr/local/go \
 && rm -rf /tmp/gopath \
 && chmod -R u+w /usr/local/go && chmod a+x /usr/local/go/bin/* /usr/local/go/pkg/tool/*/* \
 && apt-get purge -y golang-go golang-1.19-go golang-1.19-src && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /go/src /go/bin && chmod -R 1777 /go
ENV GOPATH=/go \
    GOTOOLCHAIN=local \
    PATH=/go/bin:/usr/local/go/bin:$PATH
WORKDIR /go
LABEL org.pg-sample-harness.standin="Go go1.27.3 (golang.org/toolchain from the module proxy) on bookworm"
CMD ["bash"]
