#!/usr/bin/env bash
# Builds local stand-ins for every base image the examples' Dockerfiles name (their FROM lines)
# and for the harness's PostgreSQL image, from Debian packages, for machines that cannot pull
# from a container registry. With Docker Hub reachable you do not need this script.
#
#   ci/standin-images.sh            build every missing stand-in (a tag that exists is kept)
#   ci/standin-images.sh --force    rebuild them all (also the mmdebstrap base)
#   ci/standin-images.sh --list     print the tags that would be built, build nothing
#   ci/standin-images.sh --remove   remove every stand-in this script made (label-selected)
#
# How: `mmdebstrap --variant=minbase --include=ca-certificates bookworm` makes one Debian root
# filesystem (the machine's apt sources), `docker import` turns it into the shared base, which
# gets the machine's extra CA certificates (so npm, pip and Maven work inside `docker build`);
# each stand-in is one `docker build --network host` from ci/standin-images/*.Dockerfile,
# tagged exactly as the Dockerfiles name it. Independent stand-ins build in parallel.
#
# Environment:
#   HARNESS_POSTGRES_IMAGE   the server image the harness runs (default postgres:15)
#   STANDIN_LOG_DIR          where the build logs go (default .harness/standin-logs)
#   HOST_CA_BUNDLE           the CA bundle to trust (default /etc/ssl/certs/ca-certificates.crt)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/ci/standin-images"
LOG_DIR="${STANDIN_LOG_DIR:-$ROOT/.harness/standin-logs}"
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
PG_IMAGE="${HARNESS_POSTGRES_IMAGE:-postgres:15}"
ROOTFS_TAG=pg-harness-standin/rootfs:bookworm
BASE_TAG=pg-harness-standin/base:bookworm
JRE_TAG=pg-harness-standin/jre:17
STANDIN_LABEL=org.pg-sample-harness.standin

FORCE=0
MODE=build
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --list) MODE=list ;;
    --remove) MODE=remove ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "standin-images: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'standin-images: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers 'docker info': run ci/docker-engine.sh first"

if [ "$MODE" = remove ]; then
  # The stand-ins are the pg-harness-standin/* images and every other tag of the same image ids
  # (debian:bookworm, node:20-bookworm-slim, ...). Images built FROM them (the examples') stay.
  ids=$(docker images --format '{{.ID}}' 'pg-harness-standin/*' | sort -u)
  while read -r id ref; do
    case " $(echo "$ids" | tr '\n' ' ') " in
      *" $id "*) if docker image rm "$ref" >/dev/null 2>&1; then say "removed $ref"; fi ;;
    esac
  done < <(docker images --format '{{.ID}} {{.Repository}}:{{.Tag}}' | grep -v ':<none>$' | grep -v ' pg-harness-standin/')
  for ref in $(docker images --format '{{.Repository}}:{{.Tag}}' 'pg-harness-standin/*'); do
    if docker image rm "$ref" >/dev/null 2>&1; then say "removed $ref"; fi
  done
  exit 0
fi

# -- which images are needed -----------------------------------------------------------------
# Every FROM of every example Dockerfile (stage names excluded) plus the server image.
needed_images() {
  local f
  for f in "$ROOT"/examples/*/*/Dockerfile "$ROOT"/examples/*/*/*.Dockerfile; do
    [ -f "$f" ] || continue
    awk 'toupper($1) == "FROM" {
           img = ""; for (i = 2; i <= NF; i++) if ($i !~ /^--/) { img = $i; break }
           if (toupper($(NF-1)) == "AS") stages[tolower($NF)] = 1
           if (img != "" && !(tolower(img) in stages)) print img
         }' "$f"
  done
  echo "$PG_IMAGE"
}

# The stand-in recipe for an image name; empty when there is none.
recipe_of() {
  case "$1" in
    debian:bookworm|debian:bookworm-slim|debian:12|debian:12-slim) echo base ;;
    node:*-bookworm-slim|node:*-bookworm|node:bookworm*) echo node ;;
    python:3.11-slim-bookworm|python:3.11-bookworm|python:3.11-slim|python:3.11) echo python ;;
    eclipse-temurin:17-jre|eclipse-temurin:17-jre-jammy|eclipse-temurin:17-jre-noble) echo jre ;;
    maven:3-eclipse-temurin-17|maven:3.*-eclipse-temurin-17) echo maven ;;
    postgres:15|postgres:15-bookworm|postgres:15.*) echo postgres ;;
    *) echo "" ;;
  esac
}

exists() { docker image inspect "$1" >/dev/null 2>&1; }

mapfile -t IMAGES < <(needed_images | sort -u)
declare -A TODO=()     # recipe -> space-separated tags
unknown=()
for image in "${IMAGES[@]}"; do
  recipe=$(recipe_of "$image")
  if [ -z "$recipe" ]; then
    unknown+=("$image")
    continue
  fi
  if [ "$FORCE" = 0 ] && exists "$image"; then
    say "present: $image"
    continue
  fi
  TODO[$recipe]="${TODO[$recipe]:-} $image"
done
if [ "${#unknown[@]}" -gt 0 ]; then
  die "no stand-in recipe for: ${unknown[*]} (named in a FROM line or HARNESS_POSTGRES_IMAGE); add one to recipe_of() in $0 and a Dockerfile in $HERE"
fi

if [ "$MODE" = list ]; then
  for recipe in "${!TODO[@]}"; do echo "$recipe:${TODO[$recipe]}"; done
  exit 0
fi
if [ "${#TODO[@]}" -eq 0 ]; then
  say "every image is present; nothing to build (use --force to rebuild)"
  exit 0
fi

[ -r "$HOST_CA_BUNDLE" ] || die "CA bundle $HOST_CA_BUNDLE not readable (set HOST_CA_BUNDLE)"
mkdir -p "$LOG_DIR"
CONTEXT=$(mktemp -d /tmp/standin-context.XXXXXX)
trap 'rm -rf "$CONTEXT"' EXIT
cp "$HERE"/* "$CONTEXT"/
cp "$HOST_CA_BUNDLE" "$CONTEXT/host-ca-bundle.crt"

# with_progress <what> <log> <command...>: runs the command with its output in <log>, and says
# every PROGRESS_SECONDS that it is still running, with the log's last line: a cold build takes
# minutes, and CI logs (not a terminal) would otherwise show nothing meanwhile.
PROGRESS_SECONDS="${STANDIN_PROGRESS_SECONDS:-30}"
with_progress() {
  local what=$1 log=$2; shift 2
  local start=$SECONDS pid
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    local waited=0
    while ((waited < PROGRESS_SECONDS)) && kill -0 "$pid" 2>/dev/null; do sleep 1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      say "still $what ($((SECONDS - start)) s): $(tail -n 1 "$log" 2>/dev/null | cut -c1-120)"
    fi
  done
  wait "$pid"
}

# build <recipe> <tag> [docker build args...]: one stand-in, its log in $LOG_DIR/<recipe>.log
build() {
  local recipe=$1 tag=$2; shift 2
  local log="$LOG_DIR/$recipe.log" start=$SECONDS
  say "building $tag ($recipe; log $log)"
  if ! with_progress "building $tag" "$log" docker build --network host --label "$STANDIN_LABEL.recipe=$recipe" \
        -t "$tag" -f "$CONTEXT/$recipe.Dockerfile" "$@" "$CONTEXT"; then
    say "FAILED: $tag; last lines of $log:"
    tail -n 30 "$log" >&2
    return 1
  fi
  say "built $tag in $((SECONDS - start)) s"
}

tag_all() {  # tag_all <source> <tags...>
  local src=$1; shift
  local t
  for t in "$@"; do docker tag "$src" "$t"; say "tagged $t"; done
}

# -- the shared base ---------------------------------------------------------------------------
if [ "$FORCE" = 1 ] || ! exists "$BASE_TAG"; then
  if [ "$FORCE" = 1 ] || ! exists "$ROOTFS_TAG"; then
    if ! command -v mmdebstrap >/dev/null 2>&1; then
      [ "$(id -u)" = 0 ] || die "mmdebstrap is missing: sudo apt-get install -y mmdebstrap"
      say "installing mmdebstrap (apt-get)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null; } \
        || die "apt-get install mmdebstrap failed"
    fi
    say "mmdebstrap: Debian bookworm minbase root filesystem (log $LOG_DIR/rootfs.log)"
    start=$SECONDS
    tarball="$CONTEXT/rootfs.tar"
    with_progress "making the root filesystem" "$LOG_DIR/rootfs.log" \
      mmdebstrap --variant=minbase --include=ca-certificates bookworm "$tarball" \
      || { tail -n 30 "$LOG_DIR/rootfs.log" >&2; die "mmdebstrap failed (log $LOG_DIR/rootfs.log)"; }
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' "$tarball" "$ROOTFS_TAG" >/dev/null
    rm -f "$tarball"
    say "imported $ROOTFS_TAG in $((SECONDS - start)) s"
  fi
  build base "$BASE_TAG" --build-arg "ROOTFS=$ROOTFS_TAG" || die "the base stand-in did not build"
fi
if [ -n "${TODO[base]:-}" ]; then
  # shellcheck disable=SC2086
  tag_all "$BASE_TAG" ${TODO[base]}
  unset 'TODO[base]'
fi

# -- the stand-ins, in parallel ----------------------------------------------------------------
build_simple() {  # build_simple <recipe> <tags...>: one build, tagged with every name asked for
  local recipe=$1; shift
  local internal="pg-harness-standin/$recipe:bookworm"
  local args=(--build-arg "BASE=$BASE_TAG")
  if [ "$recipe" = postgres ]; then
    local major=${1#postgres:}; major=${major%%[.-]*}
    args+=(--build-arg "PG_MAJOR=$major")
  fi
  build "$recipe" "$internal" "${args[@]}" || return 1
  tag_all "$internal" "$@"
}

build_java() {  # the JRE stand-in, then (when asked for) the Maven + JDK one on top of it
  if [ "$FORCE" = 1 ] || ! exists "$JRE_TAG"; then
    build jre "$JRE_TAG" --build-arg "BASE=$BASE_TAG" || return 1
  fi
  # shellcheck disable=SC2086
  [ -z "${TODO[jre]:-}" ] || tag_all "$JRE_TAG" ${TODO[jre]}
  if [ -n "${TODO[maven]:-}" ]; then
    build maven "pg-harness-standin/maven:3-17" --build-arg "JRE=$JRE_TAG" || return 1
    # shellcheck disable=SC2086
    tag_all "pg-harness-standin/maven:3-17" ${TODO[maven]}
  fi
}

declare -A PIDS=()
if [ -n "${TODO[jre]:-}${TODO[maven]:-}" ]; then
  build_java &
  PIDS[java]=$!
fi
for recipe in node python postgres; do
  if [ -n "${TODO[$recipe]:-}" ]; then
    # shellcheck disable=SC2086
    build_simple "$recipe" ${TODO[$recipe]} &
    PIDS[$recipe]=$!
  fi
done

failed=()
for recipe in "${!PIDS[@]}"; do
  wait "${PIDS[$recipe]}" || failed+=("$recipe")
done
[ "${#failed[@]}" -eq 0 ] || die "stand-in(s) failed: ${failed[*]} (logs in $LOG_DIR)"
say "done: every base image the examples and the harness need is present"
