#!/bin/sh
# meson test: install into a scratch DESTDIR, run the installed generator the way
# systemd would (its own interpreter line, a test root), and verify what it wrote.
set -eu
build=$1 src=$2 generatordir=$3
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
gen=$dest$generatordir/ccgen-generator
pydir=$(sed -n 's/^sys.path.insert(0, "\(.*\)")$/\1/p' "$gen")
root=$dest/root
mkdir -p "$root/usr/share/oem" "$root/var/lib/ccgen" "$dest/out"
cp "$src/examples/oem-cloud-config.yml" "$root/usr/share/oem/cloud-config.yml"
cp "$src/examples/user-data.yml" "$root/var/lib/ccgen/user-data"
# The installed script, its package path pointed into DESTDIR first (the real
# directory stays behind it, for PyYAML when the extension is not built).
sed "s|^sys.path.insert(0, \"$pydir\")\$|sys.path[:0] = [\"$dest$pydir\", \"$pydir\"]|" "$gen" > "$dest/gen"
chmod +x "$dest/gen"
CCGEN_ROOT=$root "$dest/gen" "$dest/out"
test -f "$dest/out/web.service"
test -L "$dest/out/multi-user.target.wants/ccgen.target"
head -1 "$gen" | grep -qx '#!/usr/bin/python3 -IS'
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify --man=no "$dest/out/web.service" "$dest/out/ccgen.target"
fi
echo "installed generator ran and its units verify"
