# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Test images for the 2x-image-* suites, built with Debian's umoci (and
# python3's tarfile for crafted layers).  Sourced, not run: run.sh only runs
# *.sh files.
#
#   img_layout DIR          OCI layout DIR, tag v1, three layers:
#     1. busybox (bin/sh, ls, cat, ...), etc/gone.txt, data/lower.txt,
#        data/sub/y, etc/keep.txt
#     2. umoci's diff after deleting etc/gone.txt and replacing data/:
#        whiteouts etc/.wh.gone.txt, data/.wh.lower.txt, data/.wh.sub, and
#        data/upper.txt
#     3. a crafted layer: data/.wh..wh..opq (opaque) + data/opaque-only.txt
#   config: Cmd ["/bin/sh","-c","echo hi from \$FOO in \$(pwd)"], Env FOO=bar,
#   WorkingDir /data
#   img_add_layer DIR FROM TO TARSPEC...   tag TO = FROM + a crafted layer
#   img_tar OUT SPEC...      crafted tar; SPEC is f:NAME:DATA, d:NAME,
#                            l:NAME:TARGET (symlink), h:NAME:TARGET (hard link)

img_tar() {
	local out=$1; shift
	python3 - "$out" "$@" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
for spec in sys.argv[2:]:
    kind, rest = spec.split(":", 1)
    name, _, data = rest.partition(":")
    ti = tarfile.TarInfo(name)
    ti.mtime = 1700000000
    if kind == "f":
        b = data.encode()
        ti.size, ti.mode = len(b), 0o644
        t.addfile(ti, io.BytesIO(b))
        continue
    if kind == "d":
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
    elif kind == "l":
        ti.type, ti.linkname = tarfile.SYMTYPE, data
    elif kind == "h":
        ti.type, ti.linkname = tarfile.LNKTYPE, data
    t.addfile(ti)
t.close()
PY
}

img_layout() {
	local dir=$1 b=$1.bundle a
	umoci init --layout "$dir" || return 1
	umoci new --image "$dir:v1" || return 1
	umoci unpack --image "$dir:v1" "$b" >/dev/null || return 1
	mkdir -p "$b/rootfs/bin" "$b/rootfs/etc" "$b/rootfs/data/sub" "$b/rootfs/tmp"
	cp /bin/busybox "$b/rootfs/bin/busybox"
	for a in sh ls cat echo test pwd stat sleep; do ln -s busybox "$b/rootfs/bin/$a"; done
	echo base >"$b/rootfs/etc/gone.txt"
	echo keep >"$b/rootfs/etc/keep.txt"
	echo lower >"$b/rootfs/data/lower.txt"
	echo y >"$b/rootfs/data/sub/y"
	umoci repack --refresh-bundle --image "$dir:v1" "$b" || return 1
	rm "$b/rootfs/etc/gone.txt"
	rm -rf "$b/rootfs/data"
	mkdir "$b/rootfs/data"
	echo upper >"$b/rootfs/data/upper.txt"
	umoci repack --refresh-bundle --image "$dir:v1" "$b" || return 1
	rm -rf "$b"
	img_tar "$dir.opq.tar" d:data f:data/.wh..wh..opq: "f:data/opaque-only.txt:opaque
" || return 1
	umoci raw add-layer --image "$dir:v1" "$dir.opq.tar" || return 1
	rm -f "$dir.opq.tar"
	# shellcheck disable=SC2016 # expanded in the container
	umoci config --image "$dir:v1" --config.cmd=/bin/sh --config.cmd=-c \
		--config.cmd='echo hi from $FOO in $(pwd)' --config.env=FOO=bar \
		--config.env=PATH=/bin --config.workingdir=/data || return 1
}

img_add_layer() {
	local dir=$1 from=$2 to=$3; shift 3
	umoci tag --image "$dir:$from" "$to" || return 1
	img_tar "$dir.$to.tar" "$@" || return 1
	umoci raw add-layer --image "$dir:$to" "$dir.$to.tar" || return 1
	rm -f "$dir.$to.tar"
}

# The path of a blob of tag TAG: img_blob DIR TAG manifest|config|layer N
img_blob() {
	local dir=$1 tag=$2 what=$3 n=${4:-0} man d
	man=$(jq -r --arg t "$tag" \
		'.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
		"$dir/index.json") || return 1
	if [ "$what" = manifest ]; then
		d=$man
	elif [ "$what" = config ]; then
		d=$(jq -r .config.digest "$dir/blobs/sha256/${man#sha256:}")
	else
		d=$(jq -r ".layers[$n].digest" "$dir/blobs/sha256/${man#sha256:}")
	fi
	echo "$dir/blobs/sha256/${d#sha256:}"
}

# Entries under a directory, for "nothing was left" checks.
count_entries() { find "$1" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# img_uncompressed SRC TAG DST: copy image TAG of layout SRC into a new layout DST whose layers are
# uncompressed tars (skopeo and umoci always write gzip).
img_uncompressed() {
	python3 - "$1" "$2" "$3" <<'PY'
import gzip, hashlib, json, os, shutil, sys
src, tag, dst = sys.argv[1:]
def blob(d, dg): return os.path.join(d, "blobs", "sha256", dg.split(":", 1)[1])
def put(data):
    dg = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob(dst, dg), "wb") as f: f.write(data)
    return {"digest": dg, "size": len(data)}
os.makedirs(os.path.join(dst, "blobs", "sha256"))
shutil.copy(os.path.join(src, "oci-layout"), dst)
idx = json.load(open(os.path.join(src, "index.json")))
desc = [m for m in idx["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
man = json.load(open(blob(src, desc["digest"])))
shutil.copy(blob(src, man["config"]["digest"]), blob(dst, man["config"]["digest"]))
for l in man["layers"]:
    l.update(put(gzip.decompress(open(blob(src, l["digest"]), "rb").read())))
    l["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
m = put(json.dumps(man).encode())
m.update(mediaType=desc["mediaType"], annotations=desc["annotations"])
json.dump({"schemaVersion": 2, "manifests": [m]}, open(os.path.join(dst, "index.json"), "w"))
PY
}
