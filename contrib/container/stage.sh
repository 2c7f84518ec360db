#!/bin/sh
# Lays out the build context of contrib/Containerfile in DIR: the built nsvisor tree (its runtime dependencies only)
# and the example's app and configuration. Run from a checkout after `npm ci` (which builds the addon and dist/).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR (an empty or new directory: the build context)" >&2; exit 2; }
out=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/contrib/container
for f in build/Release/nsvisor.node build/Release/nsvisor-init dist/src/cli/main.js; do
  [ -e "$repo/$f" ] || { echo "$0: $repo/$f is missing: build the checkout first (npm ci)" >&2; exit 1; }
done
mkdir -p "$out/nsvisor/build/Release"
cp -r "$repo/package.json" "$repo/bin" "$repo/schema" "$out/nsvisor/"
mkdir -p "$out/nsvisor/dist" && cp -r "$repo/dist/src" "$out/nsvisor/dist/"
cp "$repo/build/Release/nsvisor.node" "$repo/build/Release/nsvisor-init" "$out/nsvisor/build/Release/"
# The packages npm would install with --omit=dev, copied from this checkout's node_modules (no registry needed).
cd "$repo"
npm ls --omit=dev --parseable --all 2>/dev/null | sed -n "s|^$repo/||p" | grep '^node_modules/' | while read -r dir; do
  mkdir -p "$out/nsvisor/$dir"
  cp -r "$dir/." "$out/nsvisor/$dir/"
done
cp -r "$here/app" "$here/nsvisor.yaml" "$out/"
cp "$repo/contrib/Containerfile" "$out/"
echo "$out: build context ready (podman build -t nsvisor-example $out)"
