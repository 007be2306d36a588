#!/usr/bin/env bash
# Builds a small busybox image archive from Debian's busybox-static, without
# docker: `make-busybox-image.sh [--oci] OUT.tar [name:tag]` (default busybox:latest).
#
#   default  a `docker save` archive: manifest.json, repositories, <id>.json, <id>/layer.tar
#   --oci    an OCI image archive: oci-layout, index.json (ref.name annotation),
#            blobs/sha256/... with a gzip-compressed layer
#
# The rootfs holds /bin/busybox, a symlink per applet, /etc/passwd and /etc/group,
# /tmp, /root, /home. The config runs `sh` with a usual PATH. The output is
# reproducible: timestamps come from /bin/busybox's mtime (or SOURCE_DATE_EPOCH).
# Load it with `skiff image load OUT.tar`.
set -euo pipefail

oci=0
if [ "${1:-}" = "--oci" ]; then oci=1; shift; fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 [--oci] OUT.tar [name:tag]" >&2
  exit 2
fi
out=$1
ref=${2:-busybox:latest}
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
  echo "$0: $busybox is not a busybox binary (apt-get install busybox-static)" >&2
  exit 1
fi
case "$ref" in *:*) ;; *) ref="$ref:latest" ;; esac

epoch=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$busybox")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,proc,sys,dev,var}
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
# Relative symlinks, so the tree is also correct when looked at from the host.
"$busybox" --list-full | while read -r applet; do
  [ "$applet" = "bin/busybox" ] && continue
  dir=${applet%/*}
  case "$dir" in
    bin) target=busybox ;;
    sbin) target=../bin/busybox ;;
    usr/bin | usr/sbin) target=../../bin/busybox ;;
    *) continue ;;
  esac
  [ -e "$root/$applet" ] || ln -s "$target" "$root/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
  -C "$root" -cf "$work/layer.tar" .

python3 - "$work" "$ref" "$epoch" "$oci" <<'PY'
import gzip, hashlib, json, os, shutil, sys, time
work, ref, epoch, oci = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()
layer = os.path.join(work, "layer.tar")
diff_id = sha(layer)
created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
config = {
    "architecture": "amd64", "os": "linux", "created": created,
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    "history": [{"created": created, "created_by": "scripts/make-busybox-image.sh"}],
}
config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
config_hex = hashlib.sha256(config_bytes).hexdigest()
out = os.path.join(work, "out")
os.makedirs(out)
def write(rel, data):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
name, tag = ref.rsplit(":", 1)
if not oci:
    layer_id = hashlib.sha256(("layer" + diff_id).encode()).hexdigest()
    os.makedirs(os.path.join(out, layer_id))
    shutil.copy(layer, os.path.join(out, layer_id, "layer.tar"))
    write(layer_id + "/VERSION", b"1.0")
    write(layer_id + "/json", json.dumps({"id": layer_id, "created": created}).encode())
    write(config_hex + ".json", config_bytes)
    write("manifest.json", json.dumps([{"Config": config_hex + ".json", "RepoTags": [ref],
                                        "Layers": [layer_id + "/layer.tar"]}]).encode())
    write("repositories", json.dumps({name: {tag: layer_id}}).encode())
else:
    gz = os.path.join(work, "layer.tar.gz")
    with open(layer, "rb") as src, open(gz, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as dst:
            shutil.copyfileobj(src, dst)
    layer_hex = sha(gz)
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    shutil.copy(gz, os.path.join(out, "blobs", "sha256", layer_hex))
    write("blobs/sha256/" + config_hex, config_bytes)
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + config_hex, "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + layer_hex, "size": os.path.getsize(gz)}],
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    manifest_hex = hashlib.sha256(manifest_bytes).hexdigest()
    write("blobs/sha256/" + manifest_hex, manifest_bytes)
    write("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    write("index.json", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + manifest_hex, "size": len(manifest_bytes),
                       "annotations": {"org.opencontainers.image.ref.name": ref}}]}).encode())
PY
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$work/out" \
  -cf "$out.tmp" .
mv "$out.tmp" "$out"
