#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make oci-image`: the agent's container image as an OCI image layout tar,
# built without a container engine.
#
#   scripts/oci-image.sh BINARY OUT.tar [NAME:TAG]
#
# One layer: BINARY as /usr/bin/ctrwatch, every shared library `ldd` says it
# loads and those it loads on first use (and the dynamic loader) at their
# paths under a merged /usr, minimal /etc/passwd, /etc/group and /tmp.  Entrypoint /usr/bin/ctrwatch, Cmd
# `agent --listen 0.0.0.0:9464` (the Helm chart passes its own args).
# The layer is reproducible (sorted, owner 0, mtime SOURCE_DATE_EPOCH or the
# last commit's time).  `ctrwatch import OUT.tar` accepts the result, and so do
# skopeo (oci-archive:OUT.tar) and podman load.
set -euo pipefail

bin=${1:?usage: oci-image.sh BINARY OUT.tar [NAME:TAG]}
out=${2:?usage: oci-image.sh BINARY OUT.tar [NAME:TAG]}
src=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^#define CTW_VERSION "\(.*\)"/\1/p' "$src/lib/lib.h")
name=${3:-ctrwatch:$version}
tag=${name##*:}
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
# The binary's own revision (HEAD may have moved since it was linked).
revision=$("$bin" version 2>/dev/null | sed -n 's/^revision: *//p')
: "${revision:=unknown}"
case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) arch=$(uname -m) ;;
esac

[ -x "$bin" ] || { echo "oci-image: $bin: not an executable" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ctrwatch-oci.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/usr/bin "$root"/usr/lib "$root"/usr/lib64 "$root"/etc "$root"/tmp \
	"$root"/proc "$root"/sys "$root"/dev "$root"/run "$root"/var/lib/ctrwatch
chmod 1777 "$root/tmp"
# Merged /usr, as Debian 12 has it: /lib/x86_64-linux-gnu/... resolves.
ln -s usr/bin "$root/bin"
ln -s usr/bin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
install -m 0755 "$bin" "$root/usr/bin/ctrwatch"
strip --strip-debug "$root/usr/bin/ctrwatch" 2>/dev/null || true

# Libraries: the path the loader asks for (the soname link), with the
# content of the file behind it.  "=> /path (addr)" and "/path (addr)"
# (the loader itself) both count; "linux-vdso" has no path.
# Plus the libraries ctrwatch loads on first use (dlopen, see lib/lib.h): the
# sonames its *_dl.c wrappers name, found by ldconfig, with their own needs.
ldd_paths() { ldd "$@" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'; }
dl=()
for so in $(sed -n 's/.*\.soname = "\([^"]*\)".*/\1/p' "$src"/*/*_dl.c | sort -u); do
	# (awk reads it all: an early exit would SIGPIPE ldconfig under pipefail)
	p=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|AArch64/ && !p { p = $NF } END { print p }')
	[ -n "$p" ] || { echo "oci-image: $so (loaded on first use) is not installed" >&2; exit 1; }
	dl+=("$p")
done
libs=$( { ldd_paths "$bin"; for p in "${dl[@]}"; do echo "$p"; ldd_paths "$p"; done; } | sort -u)
[ -n "$libs" ] || { echo "oci-image: ldd $bin found no libraries" >&2; exit 1; }
for lib in $libs; do
	case $lib in
	/usr/*) dst=$lib ;;
	*) dst=/usr$lib ;;
	esac
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$lib" "$root$dst"
done

printf 'root:x:0:0:root:/root:/usr/bin/ctrwatch\nnobody:x:65534:65534:nobody:/nonexistent:/usr/bin/ctrwatch\n' \
	>"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
: >"$root/etc/hostname"
: >"$root/etc/hosts"
: >"$root/etc/resolv.conf"

layout=$work/layout
blobs=$layout/blobs/sha256
mkdir -p "$blobs"
blob() { # file -> moves it into blobs/, prints "digest size"
	local d s
	d=$(sha256sum "$1" | cut -d' ' -f1)
	s=$(stat -c %s "$1")
	mv "$1" "$blobs/$d"
	echo "sha256:$d $s"
}

tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	--format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	-C "$root" -cf "$work/layer.tar" .
diff_id=sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n "$work/layer.tar"
read -r layer_digest layer_size < <(blob "$work/layer.tar.gz")

cat >"$work/config.json" <<JSON
{"architecture":"$arch","os":"linux","created":"$created",
 "config":{"Entrypoint":["/usr/bin/ctrwatch"],"Cmd":["agent","--listen","0.0.0.0:9464"],
  "Env":["PATH=/usr/bin"],"WorkingDir":"/","StopSignal":"SIGTERM",
  "ExposedPorts":{"9464/tcp":{}},
  "Labels":{"org.opencontainers.image.title":"ctrwatch",
   "org.opencontainers.image.version":"$version",
   "org.opencontainers.image.revision":"$revision",
   "org.opencontainers.image.licenses":"Apache-2.0"}},
 "rootfs":{"type":"layers","diff_ids":["$diff_id"]},
 "history":[{"created":"$created","created_by":"scripts/oci-image.sh (ctrwatch $version, $revision)"}]}
JSON
read -r config_digest config_size < <(blob "$work/config.json")

cat >"$work/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$config_digest","size":$config_size},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"$layer_digest","size":$layer_size}],
 "annotations":{"org.opencontainers.image.created":"$created"}}
JSON
read -r manifest_digest manifest_size < <(blob "$work/manifest.json")

cat >"$layout/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
 "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",
  "digest":"$manifest_digest","size":$manifest_size,
  "platform":{"architecture":"$arch","os":"linux"},
  "annotations":{"org.opencontainers.image.ref.name":"$tag","io.containerd.image.name":"$name"}}]}
JSON
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

mkdir -p "$(dirname "$out")"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$layout" \
	-cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
echo "oci-image: $out ($name, $(echo "$libs" | wc -w) libraries, layer $(numfmt --to=iec "$layer_size"))"
