#!/usr/bin/env bash
# PgBouncer 1.24.1 beside Debian 12's 1.18, for the --via pgbouncer-1.24-* topologies: built
# once per machine from Debian 13's orig tarball (the upstream release as Debian ships it),
# pinned by its sha256, with libevent and OpenSSL from Debian, into a prefix that later runs
# reuse (a second run checks the binary and does nothing). Called by ci/setup.sh.
#
#   bash ci/pgbouncer-1.24.sh            build and install if missing
#   bash ci/pgbouncer-1.24.sh --prefix   print where it is (or goes), build nothing
#
# Where: $HARNESS_PGBOUNCER_1_24 if set; as root /opt/pg-sample-harness/pgbouncer-1.24.1 (the
# harness runs PgBouncer as `postgres` then, who cannot enter /root); otherwise
# ${XDG_CACHE_HOME:-~/.cache}/pg-sample-harness/pgbouncer-1.24.1. harness/pooler/versions.py
# looks in the same places.
set -euo pipefail

VERSION=1.24.1
TARBALL="pgbouncer_${VERSION}.orig.tar.gz"
# Debian 13 (trixie) source package pgbouncer 1.24.1-1+deb13u2, main/source/Sources: the orig
# tarball's sha256 as Debian's signed index lists it.
SHA256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
BUILD_PACKAGES=(build-essential pkg-config libevent-dev libssl-dev)

if [[ -n ${HARNESS_PGBOUNCER_1_24:-} ]]; then
  PREFIX=$HARNESS_PGBOUNCER_1_24
elif [[ $(id -u) -eq 0 ]]; then
  PREFIX=/opt/pg-sample-harness/pgbouncer-$VERSION
else
  PREFIX=${XDG_CACHE_HOME:-$HOME/.cache}/pg-sample-harness/pgbouncer-$VERSION
fi
case "${1:-}" in
  --prefix) echo "$PREFIX"; exit 0 ;;
  "") ;;
  *) echo "pgbouncer-1.24: unknown argument $1 (use --prefix or nothing)" >&2; exit 2 ;;
esac

if "$PREFIX/bin/pgbouncer" --version 2>/dev/null | grep -q "PgBouncer $VERSION"; then
  exit 0   # built on an earlier run
fi

# The mirror this machine's apt already uses (its Debian main archive), else Debian's own.
mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
url="${mirror%/}/pool/main/p/pgbouncer/$TARBALL"

missing=()
for pkg in "${BUILD_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "pgbouncer-1.24: missing Debian packages to build PgBouncer $VERSION: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "pgbouncer-1.24: installing Debian packages to build PgBouncer $VERSION: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pgbouncer-$VERSION-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "pgbouncer-1.24: fetching $url"
curl -fsS --retry 3 -o "$work/$TARBALL" "$url"
echo "$SHA256  $work/$TARBALL" | sha256sum -c --quiet - || {
  echo "pgbouncer-1.24: $TARBALL does not have the pinned sha256 $SHA256: refusing it" >&2; exit 1; }
tar -xzf "$work/$TARBALL" -C "$work"
echo "pgbouncer-1.24: building PgBouncer $VERSION into $PREFIX (a minute or two)"
(
  cd "$work/pgbouncer-$VERSION"
  # DNS through libevent's evdns (no c-ares); no PAM or systemd: the harness uses neither.
  ./configure --prefix="$PREFIX" --without-cares --without-pam --without-systemd >"$work/configure.log" 2>&1 \
    || { tail -n 30 "$work/configure.log" >&2; exit 1; }
  make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -n 30 "$work/make.log" >&2; exit 1; }
  make install DESTDIR="$work/root" >>"$work/make.log" 2>&1 || { tail -n 30 "$work/make.log" >&2; exit 1; }
)
rm -rf "$PREFIX.new"
mkdir -p "$(dirname "$PREFIX")"
cp -a "$work/root$PREFIX" "$PREFIX.new"
# The tarball that made it, beside it: the container image is built from the same bytes.
mkdir -p "$PREFIX.new/src"
cp "$work/$TARBALL" "$PREFIX.new/src/$TARBALL"
chmod -R a+rX "$PREFIX.new"
rm -rf "$PREFIX"
mv "$PREFIX.new" "$PREFIX"   # complete or absent: a killed build leaves only *.new behind
"$PREFIX/bin/pgbouncer" --version | head -n 1
