#!/usr/bin/env bash
# Renders vireo's icon, assets/vireo.svg, into the PNGs packages ship:
#   tools/icons.sh OUT     OUT/hicolor/<N>x<N>/apps/APP_ID.png for N in 16..512
#                          and OUT/hicolor/scalable/apps/APP_ID.svg
#                          and OUT/vireo.icns (macOS) and OUT/vireo.ico (Windows),
#                          PNG-compressed, packed by the Python below
#   tools/icons.sh --window  assets/vireo.png, the 256 px window icon built in
# Needs rsvg-convert (Debian: librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
svg=assets/vireo.svg
app_id=$(sed -n 's/^pub const APP_ID: &str = "\(.*\)";$/\1/p' src/settings/mod.rs)
[ -n "$app_id" ] || { echo "icons: no APP_ID in src/settings/mod.rs" >&2; exit 1; }
command -v rsvg-convert >/dev/null || { echo "icons: rsvg-convert is missing (apt-get install librsvg2-bin)" >&2; exit 1; }
if [ "${1:-}" = "--window" ]; then
    rsvg-convert -w 256 -h 256 "$svg" -o assets/vireo.png
    exit 0
fi
out=${1:?usage: tools/icons.sh OUT | --window}
for n in 16 32 48 64 128 256 512; do
    mkdir -p "$out/hicolor/${n}x$n/apps"
    rsvg-convert -w "$n" -h "$n" "$svg" -o "$out/hicolor/${n}x$n/apps/$app_id.png"
done
mkdir -p "$out/hicolor/scalable/apps"
cp "$svg" "$out/hicolor/scalable/apps/$app_id.svg"

# macOS and Windows icon files: containers of PNGs at fixed sizes.
mkdir -p "$out/png"
for n in 16 24 32 48 64 128 256 512 1024; do
    rsvg-convert -w "$n" -h "$n" "$svg" -o "$out/png/$n.png"
done
python3 - "$out" <<'PY'
import struct, sys
out = sys.argv[1]
png = lambda n: open(f"{out}/png/{n}.png", "rb").read()
# .icns: "icns", total length, then (type, length with header, PNG) each.
types = {"icp4": 16, "icp5": 32, "icp6": 64, "ic07": 128, "ic08": 256, "ic09": 512, "ic10": 1024}
body = b"".join(t.encode() + struct.pack(">I", 8 + len(png(n))) + png(n) for t, n in types.items())
open(f"{out}/vireo.icns", "wb").write(b"icns" + struct.pack(">I", 8 + len(body)) + body)
# .ico: a header, a 16-byte entry per size (0 means 256), then the PNGs.
sizes = [16, 24, 32, 48, 64, 128, 256]
data = [png(n) for n in sizes]
offset = 6 + 16 * len(sizes)
entries = b""
for n, d in zip(sizes, data):
    entries += struct.pack("<BBBBHHII", n % 256, n % 256, 0, 0, 1, 32, len(d), offset)
    offset += len(d)
open(f"{out}/vireo.ico", "wb").write(struct.pack("<HHH", 0, 1, len(sizes)) + entries + b"".join(data))
PY
rm -r "$out/png"
