#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine (Debian 12, root, no systemd needed).
#
#   ci/docker-engine.sh            install Debian's docker.io if dockerd is missing, start dockerd
#                                  in the background if `docker info` fails, wait until it answers
#
# Idempotent: when `docker info` already works it does nothing. Exits non-zero with the reason
# (and the tail of the daemon's log) when the engine cannot be installed or started, so a CI job
# never goes on as if the docker leg could run.
#
# Environment:
#   DOCKERD_LOG      where dockerd writes its log (default /var/log/dockerd.log)
#   DOCKERD_WAIT     seconds to wait for the engine to answer (default 60)
set -euo pipefail

LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
WAIT="${DOCKERD_WAIT:-60}"

say() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if docker info >/dev/null 2>&1; then
  say "engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "dockerd is not installed and this is not root: run 'sudo apt-get install -y docker.io' (or install Docker Engine), then rerun"
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and apt-get is missing: install Docker Engine for this OS, then rerun"
  say "installing Debian's docker.io (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  # docker.io's service is not started here: there is no systemd, and policy-rc.d may forbid it.
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null \
    || die "apt-get install docker.io failed"
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed, but dockerd is still not on PATH"
fi

command -v docker >/dev/null 2>&1 || die "the docker CLI is not on PATH (apt-get install -y docker.io)"

# A socket left over from an engine that died makes `docker info` fail and dockerd refuse to start.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "no engine is running and this is not root: start it with 'sudo dockerd' or your service manager"
  rm -f /var/run/docker.sock /var/run/docker.pid
  # containerd is started by dockerd itself when it is not running already.
  say "starting dockerd in the background (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  nohup setsid dockerd >>"$LOG" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$WAIT"); do
  if docker info >/dev/null 2>&1; then
    say "engine ready: $(docker info --format 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}}' 2>/dev/null)"
    exit 0
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd exited; last lines of $LOG:"
    tail -n 25 "$LOG" >&2 || true
    die "the Docker engine could not start on this machine (see $LOG)"
  fi
  sleep 1
done

say "last lines of $LOG:"
tail -n 25 "$LOG" >&2 || true
die "the Docker engine did not answer 'docker info' within ${WAIT} s (see $LOG)"
