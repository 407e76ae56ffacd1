#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hostile archives: each import below is an attack run for real, and must
# fail fast (within a timeout, where it used to hang or spin), say what was
# wrong, and leave nothing in the store:
#   - a layer blob (or index.json) that is a FIFO or a character device
#     (/dev/zero), in an OCI layout directory, an OCI layout tar and a docker
#     save archive;
#   - a blob whose digest lies, holding a gzip bomb: rejected before anything
#     is extracted (the import writes almost nothing: /proc/self/io wchar of
#     the shell that waited for it);
#   - a layer larger than the extraction cap (--max-size, also
#     CTRWATCH_IMPORT_MAX_SIZE), named in the error;
#   - trusted.* / security.* xattrs other than security.capability in a layer
#     are not applied (user.* and security.capability are).
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd python3 jq gzip mkfifo mknod timeout

export CTRWATCH_ROOT=$CTW_WORK/root-24
W=$CTW_WORK/img24
mkdir -p "$W"
on_exit "rm -rf '$CTRWATCH_ROOT' '$W'"
layers=$CTRWATCH_ROOT/layers/sha256
BOUND=${HOSTILE_BOUND:-30} # seconds: "fails fast"; before the fixes these never returned
# Debian's python starts in 50 ms, a pyenv shim's in seconds.
PY=$(command -v /usr/bin/python3 || command -v python3)

# mk_image OUT oci|docker LAYER.tar[.gz]...: a layout (or docker save
# directory) holding one image "hostile:v1" whose layers are the given
# blobs, with honest digests, sizes and diff_ids.
mk_image() {
	"$PY" - "$@" <<'PY'
import gzip, hashlib, json, os, shutil, sys
out, fmt, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()
os.makedirs(out)
blobs, diffids = [], []
for path in layers:
    data = open(path, "rb").read()
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    blobs.append(data)
    diffids.append(sha(raw))
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diffids}}).encode()
if fmt == "docker":
    open(os.path.join(out, sha(cfg)[7:] + ".json"), "wb").write(cfg)
    names = []
    for i, b in enumerate(blobs):
        os.makedirs(os.path.join(out, "l%d" % i))
        open(os.path.join(out, "l%d" % i, "layer.tar"), "wb").write(b)
        names.append("l%d/layer.tar" % i)
    json.dump([{"Config": sha(cfg)[7:] + ".json", "RepoTags": ["hostile:v1"],
                "Layers": names}], open(os.path.join(out, "manifest.json"), "w"))
    sys.exit(0)
bdir = os.path.join(out, "blobs", "sha256")
os.makedirs(bdir)
def put(b):
    open(os.path.join(bdir, sha(b)[7:]), "wb").write(b)
    return {"digest": sha(b), "size": len(b)}
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
       "layers": [dict(put(b), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
                  for b in blobs]}
m = dict(put(json.dumps(man).encode()), mediaType=man["mediaType"],
         annotations={"org.opencontainers.image.ref.name": "v1"})
json.dump({"schemaVersion": 2, "manifests": [m]}, open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
}

# mk_tar OUT [xattr] : a small layer tar; "xattr" adds PAX xattrs
# (SCHILY.xattr.*) on a directory and a file.
mk_tar() {
	"$PY" - "$@" <<'PY'
import io, struct, sys, tarfile
out = sys.argv[1]
xattrs = len(sys.argv) > 2
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
d = tarfile.TarInfo("etc")
d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1700000000
f = tarfile.TarInfo("etc/app.conf")
f.mode, f.mtime, f.size = 0o755, 1700000000, 3
if xattrs:
    # What overlayfs would interpret, and what an image may rightly carry.
    d.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y",
                     "SCHILY.xattr.trusted.overlay.redirect": "/etc/shadow",
                     "SCHILY.xattr.user.overlay.opaque": "y",
                     "SCHILY.xattr.user.keep": "dir"}
    cap = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)  # cap_net_raw+ep
    f.pax_headers = {"SCHILY.xattr.trusted.overlay.metacopy": "",
                     "SCHILY.xattr.trusted.evil": "1",
                     "SCHILY.xattr.security.selinux": "system_u:object_r:shadow_t:s0",
                     "SCHILY.xattr.security.ima": "x",
                     "SCHILY.xattr.user.keep": "file",
                     "SCHILY.xattr.security.capability": cap.decode("latin-1")}
t.addfile(d)
t.addfile(f, io.BytesIO(b"ok\n"))
t.close()
PY
}

# The store must be as before a failed import: no layer, no image, no tmp.
nothing_imported() { # label
	t_eq "$1: no layer stored" 0 "$(find "$layers" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
	t_eq "$1: no image recorded" "[]" "$(ctw images --json | jq -c .)"
	t_eq "$1: store tmp empty" 0 "$(find "$CTRWATCH_ROOT/tmp" -mindepth 1 2>/dev/null | wc -l)"
}

# hostile LABEL PATTERN import-args...: the import fails within BOUND seconds
# with an error matching PATTERN; sets WCHAR (bytes the import wrote).
hostile() {
	local label=$1 pat=$2 out rc
	shift 2
	out=$(timeout -k 5 "$BOUND" bash -c '"$@" 2>&1; rc=$?; echo "wchar $(sed -n "s/^wchar: //p" /proc/$$/io)"; exit $rc' \
		sh "$CTW_BIN" import "$@")
	rc=$?
	WCHAR=$(sed -n 's/^wchar //p' <<<"$out")
	out=$(grep -v '^wchar ' <<<"$out")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		t_fail "$label: import returns within ${BOUND}s (it hung or spun)" true
	else
		t_eq "$label: import fails (exit 1) within ${BOUND}s" 1 "$rc"
	fi
	t_match "$label: error says why" "$pat" "$out"
	nothing_imported "$label"
}

mk_tar "$W/small.tar"
gzip -c "$W/small.tar" >"$W/small.tgz"

# ---- blobs that are not regular files ----
for fmt in oci docker; do
	for kind in fifo chardev; do
		D=$W/$fmt-$kind
		mk_image "$D" "$fmt" "$W/small.tgz"
		if [ "$fmt" = oci ]; then
			blob=$D/blobs/sha256/$(jq -r '.layers[0].digest' \
				"$D/blobs/sha256/$(jq -r '.manifests[0].digest' "$D/index.json" | cut -c8-)" | cut -c8-)
		else
			blob=$D/l0/layer.tar
		fi
		rm -f "$blob"
		if [ $kind = fifo ]; then mkfifo "$blob"; else mknod "$blob" c 1 5; fi # /dev/zero
		hostile "$fmt dir, layer blob is a $kind" "not a regular file" "$D" "h:$fmt$kind"
		# The same as a tar of the layout / a docker save archive.
		(cd "$D" && tar cf "$W/$fmt-$kind.tar" .)
		hostile "$fmt tar, layer blob is a $kind" "not a regular file" "$W/$fmt-$kind.tar" "h:$fmt$kind"
	done
done
D=$W/oci-index-fifo
mk_image "$D" oci "$W/small.tgz"
rm "$D/index.json" && mkfifo "$D/index.json"
hostile "oci dir, index.json is a FIFO" "index.json.*not a regular file" "$D"
hostile "the archive itself is /dev/zero" "not a regular file or a directory" /dev/zero

# ---- a lying digest in front of a gzip bomb ----
# 256 MiB of zeros in four files: about 1 MiB gzipped.
mkdir "$W/zeros"
for i in 0 1 2 3; do truncate -s 64M "$W/zeros/z$i"; done
tar -C "$W/zeros" -cf - . | gzip -1 >"$W/bomb.tgz"
rm -rf "$W/zeros"
D=$W/lie-size
mk_image "$D" oci "$W/small.tgz"
small=$(jq -r '.layers[0].digest' "$D/blobs/sha256/$(jq -r '.manifests[0].digest' "$D/index.json" | cut -c8-)" | cut -c8-)
cp "$W/bomb.tgz" "$D/blobs/sha256/$small"
hostile "bomb behind another layer's digest and size" "size [0-9]+, descriptor says" "$D"
t_cmp "  ... nothing extracted (wrote $WCHAR bytes)" "${WCHAR:-0}" -lt 1048576
# Same, with the descriptor's size made to match: only the digest lies.
D2=$W/lie-digest
cp -a "$D" "$D2"
man=$D2/blobs/sha256/$(jq -r '.manifests[0].digest' "$D2/index.json" | cut -c8-)
jq --argjson s "$(stat -c %s "$W/bomb.tgz")" '.layers[0].size = $s' "$man" >"$W/m" && cp "$W/m" "$man"
# (the manifest's own digest now lies too: re-point index.json at it)
mhex=$(sha256sum "$man" | cut -c1-64)
mv "$man" "$D2/blobs/sha256/$mhex"
jq --arg d "sha256:$mhex" --argjson s "$(stat -c %s "$D2/blobs/sha256/$mhex")" \
	'.manifests[0].digest = $d | .manifests[0].size = $s' "$D2/index.json" >"$W/i" && cp "$W/i" "$D2/index.json"
hostile "bomb behind another layer's digest" "blob sha256:$small: sha256 mismatch" "$D2"
t_cmp "  ... nothing extracted (wrote $WCHAR bytes)" "${WCHAR:-0}" -lt 1048576
# docker save has only diff_ids: the bomb is checked before extraction too.
D=$W/docker-lie
mk_image "$D" docker "$W/small.tar"
cp "$W/bomb.tgz" "$D/l0/layer.tar"
hostile "docker save: bomb behind another layer's diff_id" "does not match the config's diff_id" "$D"
t_cmp "  ... nothing extracted (wrote $WCHAR bytes)" "${WCHAR:-0}" -lt 1048576

# ---- the extraction cap ----
D=$W/big
mk_image "$D" oci "$W/small.tgz" "$W/bomb.tgz"
bomb=$(jq -r '.layers[1].digest' "$D/blobs/sha256/$(jq -r '.manifests[0].digest' "$D/index.json" | cut -c8-)")
hostile "honest 256 MiB layer over --max-size 100m" \
	"layer $bomb: more than 100 MiB uncompressed \\(the import limit, --max-size\\)" \
	--max-size 100m "$D" big:v1
t_cmp "  ... stopped at the cap (wrote $WCHAR bytes)" "${WCHAR:-0}" -lt $((110 << 20))
out=$(CTRWATCH_IMPORT_MAX_SIZE=32m ctw import "$D" big:v1 2>&1)
t_match "CTRWATCH_IMPORT_MAX_SIZE sets the cap too (a 64 MiB file is over it)" \
	"layer $bomb: entry \`./z0\`: 67108864 bytes, more than 32 MiB \\(the import limit" "$out"
out=$(ctw import --max-size lots "$D" big:v1 2>&1)
t_eq "a bad --max-size is a usage error" 2 "$(ctw import --max-size lots "$D" >/dev/null 2>&1; echo $?)"
t_match "  ... naming the option" "max-size" "$out"
nothing_imported "over the cap"
t_ok "under a higher cap the same image imports" ctw import -q --max-size 1g "$D" big:v1
ctw rmi big:v1 >/dev/null 2>&1

# ---- xattrs overlayfs would interpret ----
mk_tar "$W/x.tar" xattr
D=$W/xattr
mk_image "$D" oci "$W/x.tar"
t_ok "a layer with trusted.*/security.* xattrs imports" ctw import -q "$D" x:v1
ldir=$(ctw image inspect x:v1 | jq -r '.[0].layer_dirs[0]')
xattrs() {
	"$PY" -c 'import os,sys; print(" ".join(sorted(os.listxattr(sys.argv[1], follow_symlinks=False))))' "$1" 2>&1
}
t_eq "directory: only user.keep applied" "user.keep" "$(xattrs "$ldir/etc")"
t_eq "file: only security.capability and user.keep applied" "security.capability user.keep" \
	"$(xattrs "$ldir/etc/app.conf")"
t_match "  ... the file capability is the image's (cap_net_raw+ep)" "cap_net_raw[+=]ep" \
	"$(getcap "$ldir/etc/app.conf" 2>&1)"
docker_x=$W/xattr-docker
mk_image "$docker_x" docker "$W/x.tar"
ctw rmi x:v1 >/dev/null 2>&1
t_ok "the same layer through docker save imports" ctw import -q "$docker_x" x:v2
ldir=$(ctw image inspect x:v2 | jq -r '.[0].layer_dirs[0]')
t_eq "  ... no trusted.* on the directory" "user.keep" "$(xattrs "$ldir/etc")"
