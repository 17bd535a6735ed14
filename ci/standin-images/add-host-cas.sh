#!/bin/sh
# Adds to the image's trust store every certificate of the given bundle (the build machine's
# /etc/ssl/certs/ca-certificates.crt) that Debian's ca-certificates does not already ship, e.g.
# a proxy's or a company's root CA. One file per certificate, so that update-ca-certificates'
# hooks (the JDK's cacerts through ca-certificates-java) import each of them.
set -eu
bundle="$1"
work=$(mktemp -d)
split() {  # split <bundle> <dir>: one PEM file per certificate
  mkdir -p "$2"
  awk -v d="$2" '/-----BEGIN CERTIFICATE-----/ {n++; f = sprintf("%s/%04d.pem", d, n); inside = 1}
                 inside {print > f}
                 /-----END CERTIFICATE-----/ {inside = 0; close(f)}' "$1"
}
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" 2>/dev/null | cut -d= -f2; }

split /etc/ssl/certs/ca-certificates.crt "$work/known"
for f in "$work"/known/*.pem; do [ -e "$f" ] && fingerprint "$f"; done | sort -u > "$work/known.txt"

split "$bundle" "$work/host"
added=0
mkdir -p /usr/local/share/ca-certificates
for f in "$work"/host/*.pem; do
  [ -e "$f" ] || continue
  fp=$(fingerprint "$f")
  [ -n "$fp" ] || continue
  if ! grep -qx "$fp" "$work/known.txt"; then
    added=$((added + 1))
    cp "$f" "/usr/local/share/ca-certificates/build-host-$(printf %03d "$added").crt"
  fi
done
echo "add-host-cas: $added certificate(s) of the build machine's bundle added to the image's trust store"
update-ca-certificates >/dev/null
rm -rf "$work"
