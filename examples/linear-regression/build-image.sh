#!/usr/bin/env bash
# Prints the path of a rootfs tarball for the image variant: a small Debian (bookworm) with python3 and
# python3-numpy, built with mmdebstrap from Debian's packages (about 2 minutes and 200 MB the first time) and
# cached as ${XDG_CACHE_HOME:-~/.cache}/pfs-examples/images/regression-numpy-<key>.tar, where <key> hashes the
# build's settings, so a change of package list builds a new one. `pfs image import` takes it as a rootfs tarball.
set -euo pipefail
suite=bookworm
include=python3-minimal,python3-numpy
# --skip=output/dev: no device nodes in the tarball (the container runtime provides /dev).
opts=(--variant=essential "--include=$include" --skip=output/dev
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
      --dpkgopt='path-exclude=/usr/share/locale/*')
key="$(echo "$suite ${opts[*]}" | sha256sum | cut -c1-12)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pfs-examples/images"
out="$cache/regression-numpy-$key.tar"
if [ -s "$out" ]; then echo "$out"; exit 0; fi
command -v mmdebstrap >/dev/null ||
  { echo "linear-regression: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 1; }
mkdir -p "$cache"
echo "linear-regression: building $out (Debian $suite with $include, via mmdebstrap)" >&2
rm -rf "$out.part"
mmdebstrap --quiet --format=tar "${opts[@]}" "$suite" "$out.part" >&2
mv "$out.part" "$out"
# Older builds (other settings) are not used any more.
for f in "$cache"/regression-numpy-*.tar; do [ "$f" = "$out" ] || rm -rf "$f"; done
echo "$out"
