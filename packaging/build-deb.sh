#!/bin/sh
# Build the Debian package from a clean copy of the tree: packaging/debian becomes
# debian/ at the top, as a distribution's source package has it.
#   packaging/build-deb.sh OUTDIR
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/ccgen-$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$src/generator/__init__.py")
mkdir "$tree"
(cd "$src" && git ls-files -z | xargs -0 tar -cf - 2>/dev/null || tar --exclude=.git --exclude=.venv --exclude=build -cf - .) | tar -xf - -C "$tree"
cp -r "$tree/packaging/debian" "$tree/debian"
(cd "$tree" && dpkg-buildpackage -us -uc -b)
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
