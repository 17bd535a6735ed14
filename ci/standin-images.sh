#!/usr/bin/env bash
# Builds local stand-ins for every base image the examples' Dockerfiles name (their FROM lines,
# as `python -m harness.discovery_json base-images` lists them, with the base of the harness's
# PgBouncer image) and for the harness's PostgreSQL image, from Debian packages, for machines
# that cannot pull from a container registry. With Docker Hub reachable you do not need this script.
#
#   ci/standin-images.sh            build every missing stand-in (a tag that exists is kept)
#   ci/standin-images.sh --force    rebuild them all (also the mmdebstrap base)
#   ci/standin-images.sh --list     print the tags that would be built, build nothing
#   ci/standin-images.sh --recipes  print each image needed and its recipe file (no engine needed)
#   ci/standin-images.sh --remove   remove every stand-in this script made (label-selected)
#
# Recipes: one file per base image, ci/standin-images/<recipe>.Dockerfile, found by name: its
# header says which images it stands in for (`# standin-for: node:*-bookworm-slim ...`, globs) and,
# when it builds on another stand-in rather than on the shared base, which one
# (`# standin-on: jre`). A new language's base image is one new file, which may live in the
# example's own folder: examples/<language>/<name>/standin-images/<recipe>.Dockerfile.
#
# How: `mmdebstrap --variant=minbase --include=ca-certificates bookworm` makes one Debian root
# filesystem (the machine's apt sources), `docker import` turns it into the shared base, which
# gets the machine's extra CA certificates (so npm, pip, Maven and Go work inside `docker build`);
# each stand-in is one `docker build --network host` of its recipe, tagged exactly as the
# Dockerfiles name it. Stand-ins that do not build on each other build in parallel.
#
# Environment:
#   HARNESS_POSTGRES_IMAGE   the server image the harness runs (default postgres:15)
#   HARNESS_EXAMPLES         the examples tree whose Dockerfiles are read (default examples/)
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
STANDIN_LABEL=org.pg-sample-harness.standin

FORCE=0
MODE=build
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --list) MODE=list ;;
    --remove) MODE=remove ;;
    --recipes) MODE=recipes ;;
    -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "standin-images: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'standin-images: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ "$MODE" = recipes ] || docker info >/dev/null 2>&1 \
  || die "no Docker engine answers 'docker info': run ci/docker-engine.sh first"

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

# -- which images are needed, and their recipes ------------------------------------------------
# Every FROM of every example Dockerfile (stage names excluded) plus the server image.
needed_images() {
  local python="$ROOT/.venv/bin/python"
  [ -x "$python" ] || die "no $python: run ci/setup.sh first (it makes the harness's venv)"
  "$python" -m harness.discovery_json base-images || die "the examples could not be read (see above)"
  echo "$PG_IMAGE"
}

# The recipes: ci/standin-images/*.Dockerfile, and an example's own in its folder
# (examples/<language>/<name>/standin-images/<recipe>.Dockerfile), so a new language's base image
# comes with the example that needs it. A recipe name is unique across both.
EXAMPLES_DIR="${HARNESS_EXAMPLES:-$ROOT/examples}"
declare -A RECIPE_FILE=()   # recipe -> its file
RECIPE_ORDER=()             # an example's own recipes first: they win over a shared one's wider glob
for file in "$EXAMPLES_DIR"/*/*/standin-images/*.Dockerfile "$HERE"/*.Dockerfile; do
  [ -f "$file" ] || continue
  recipe=$(basename "$file" .Dockerfile)
  if [ -n "${RECIPE_FILE[$recipe]:-}" ]; then
    die "two stand-in recipes are named $recipe: ${RECIPE_FILE[$recipe]} and $file; rename the example's one (a recipe name is unique)"
  fi
  RECIPE_FILE[$recipe]=$file
  RECIPE_ORDER+=("$recipe")
done

header() {  # header <recipe> <key>: the value of a `# <key>: ...` line of the recipe
  sed -n "s/^# $2: *//p" "${RECIPE_FILE[$1]}" | head -n 1
}

recipe_of() {  # the recipe whose standin-for globs match the image; empty when there is none
  local image=$1 recipe pattern patterns
  for recipe in "${RECIPE_ORDER[@]}"; do
    read -r -a patterns <<< "$(header "$recipe" standin-for)"
    for pattern in "${patterns[@]}"; do
      # shellcheck disable=SC2053 # the pattern is a glob on purpose
      if [[ $image == $pattern ]]; then echo "$recipe"; return; fi
    done
  done
}

parent_of() {  # the stand-in a recipe builds on (base unless it says `# standin-on: <recipe>`)
  local parent
  parent=$(header "$1" standin-on)
  echo "${parent:-base}"
}

internal_tag() { echo "pg-harness-standin/$1:bookworm"; }

exists() { docker image inspect "$1" >/dev/null 2>&1; }

images=$(needed_images | sort -u)
mapfile -t IMAGES <<< "$images"
declare -A TODO=()     # recipe -> space-separated tags
unknown=()
for image in "${IMAGES[@]}"; do
  recipe=$(recipe_of "$image")
  if [ -z "$recipe" ]; then
    unknown+=("$image")
    continue
  fi
  if [ "$MODE" = recipes ]; then
    echo "$image ${RECIPE_FILE[$recipe]#"$ROOT/"}"
  elif [ "$FORCE" = 0 ] && exists "$image"; then
    say "present: $image"
  else
    TODO[$recipe]="${TODO[$recipe]:-} $image"
  fi
done
if [ "${#unknown[@]}" -gt 0 ]; then
  die "no stand-in recipe for: ${unknown[*]} (named in a FROM line or HARNESS_POSTGRES_IMAGE); add <example folder>/standin-images/<name>.Dockerfile (or $HERE/<name>.Dockerfile) with a '# standin-for: <image glob>' line (see docs/docker-backend.md)"
fi
[ "$MODE" != recipes ] || exit 0

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
for recipe in "${!RECIPE_FILE[@]}"; do cp "${RECIPE_FILE[$recipe]}" "$CONTEXT/$recipe.Dockerfile"; done
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

# -- the stand-ins, in rounds: each round builds in parallel what builds on something done --------
# Every recipe asked for, and the stand-ins it builds on when they are missing.
declare -A BUILD=()
for recipe in "${!TODO[@]}"; do
  r=$recipe
  while [ "$r" != base ]; do
    [ -n "${RECIPE_FILE[$r]:-}" ] || die "no recipe $r.Dockerfile in $HERE or an example's standin-images/ (named by a '# standin-on:' line)"
    if [ "$r" = "$recipe" ] || [ "$FORCE" = 1 ] || ! exists "$(internal_tag "$r")"; then BUILD[$r]=1; fi
    r=$(parent_of "$r")
  done
done

build_standin() {  # build_standin <recipe>: its internal tag, then every name asked for
  local recipe=$1 internal
  internal=$(internal_tag "$recipe")
  build "$recipe" "$internal" --build-arg "BASE=$(internal_tag "$(parent_of "$recipe")")" || return 1
  # shellcheck disable=SC2086
  [ -z "${TODO[$recipe]:-}" ] || tag_all "$internal" ${TODO[$recipe]}
}

while [ "${#BUILD[@]}" -gt 0 ]; do
  declare -A PIDS=()
  for recipe in "${!BUILD[@]}"; do
    parent=$(parent_of "$recipe")
    if [ -z "${BUILD[$parent]:-}" ]; then   # the parent is built (or was present)
      build_standin "$recipe" &
      PIDS[$recipe]=$!
    fi
  done
  [ "${#PIDS[@]}" -gt 0 ] || die "the recipes ${!BUILD[*]} build on each other in a circle (their '# standin-on:' lines)"
  failed=()
  for recipe in "${!PIDS[@]}"; do
    wait "${PIDS[$recipe]}" || failed+=("$recipe")
    unset "BUILD[$recipe]"
  done
  unset PIDS
  [ "${#failed[@]}" -eq 0 ] || die "stand-in(s) failed: ${failed[*]} (logs in $LOG_DIR)"
done
say "done: every base image the examples and the harness need is present"
