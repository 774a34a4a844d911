#!/usr/bin/env bash
# Vendor the third-party files the report inlines, from npm, at pinned versions:
#   d3 (charts, map projection, zoom), topojson-client (decodes the world outline),
#   world-atlas (Natural Earth 1:110m countries as TopoJSON).
# The files are committed, so nothing is fetched when a report is written or served. Re-run this script
# only to change a version; it rewrites MANIFEST.json with each file's version, licence and sha256.
set -euo pipefail

D3_VERSION=7.9.2
TOPOJSON_CLIENT_VERSION=3.1.0
WORLD_ATLAS_VERSION=2.0.2

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "d3@$D3_VERSION" "topojson-client@$TOPOJSON_CLIENT_VERSION" "world-atlas@$WORLD_ATLAS_VERSION" >/dev/null
for tarball in *.tgz; do
    mkdir -p "${tarball%.tgz}"
    tar xzf "$tarball" -C "${tarball%.tgz}"
done

cp "d3-$D3_VERSION/package/dist/d3.min.js" "$here/d3.min.js"
cp "d3-$D3_VERSION/package/LICENSE" "$here/d3.LICENSE"
cp "topojson-client-$TOPOJSON_CLIENT_VERSION/package/dist/topojson-client.min.js" "$here/topojson-client.min.js"
cp "topojson-client-$TOPOJSON_CLIENT_VERSION/package/LICENSE" "$here/topojson-client.LICENSE"
cp "world-atlas-$WORLD_ATLAS_VERSION/package/countries-110m.json" "$here/countries-110m.json"
cp "world-atlas-$WORLD_ATLAS_VERSION/package/LICENSE" "$here/world-atlas.LICENSE"

python3 - "$here" "$D3_VERSION" "$TOPOJSON_CLIENT_VERSION" "$WORLD_ATLAS_VERSION" <<'EOF'
import hashlib
import json
import sys
from pathlib import Path

here, d3, topojson_client, world_atlas = sys.argv[1:]
entries = [
    ("d3.min.js", "d3", d3, "ISC", "d3.LICENSE", "dist/d3.min.js"),
    ("topojson-client.min.js", "topojson-client", topojson_client, "ISC", "topojson-client.LICENSE",
     "dist/topojson-client.min.js"),
    ("countries-110m.json", "world-atlas", world_atlas, "ISC (data: Natural Earth, public domain)",
     "world-atlas.LICENSE", "countries-110m.json"),
]
files = []
for name, package, version, licence, licence_file, member in entries:
    files.append({
        "file": name,
        "package": package,
        "version": version,
        "license": licence,
        "license_file": licence_file,
        "from": f"npm pack {package}@{version}: package/{member}",
        "sha256": hashlib.sha256(Path(here, name).read_bytes()).hexdigest(),
    })
manifest = {"fetched_by": "fetch_assets.sh", "files": files}
Path(here, "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
EOF
echo "vendored into $here:"
cat "$here/MANIFEST.json"
