#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctrwatch import of umoci/skopeo-built images: OCI layout (directory, tar,
# tar.gz) and docker-archive; whiteouts and opaque directories in the layer
# store; layers shared between images stored once; images, image inspect,
# rmi (untag, in use, layer removal).
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd umoci skopeo python3 jq
# shellcheck source=tests/integration/image-fixtures.bash
. "$(dirname "$0")/image-fixtures.bash"

# A store of our own: the layer counts below must not see other suites.
export CTRWATCH_ROOT=$CTW_WORK/root-20
export CTRWATCH_STATE=$CTW_WORK/state-20
mkdir -p "$CTRWATCH_STATE"
on_exit "rm -rf '$CTRWATCH_ROOT' '$CTRWATCH_STATE' '$CTW_WORK/img20'"
W=$CTW_WORK/img20
mkdir -p "$W"
L=$W/oci
layers=$CTRWATCH_ROOT/layers/sha256

t_ok "build a 3-layer OCI image with umoci" img_layout "$L"

# Unnamed, a layout tagged only v1 (umoci's ref.name "v1") is named
# LAYOUT:v1, as `umoci new --image oci:v1` calls it (the store then gets
# app:v1 as its first name below: this one is taken off again).
t_match "a layout tagged only v1: named from the ref annotation" '^Imported oci:v1 sha256:' \
	"$(ctw import "$L" 2>&1)"
t_match "  ... untagged again" '^Untagged: oci:v1' "$(ctw rmi oci:v1 2>&1)"

id=$(ctw import -q "$L" app:v1 2>"$W/err")
t_match "import an OCI layout directory" '^sha256:[0-9a-f]{64}$' "$id$(cat "$W/err")"
t_eq "three layers stored" 3 "$(count_entries "$layers")"
t_eq "nothing left in the store's tmp" 0 "$(count_entries "$CTRWATCH_ROOT/tmp")"

json=$(ctw images --json)
t_eq "images --json names app:v1" "app:v1" "$(jq -r '.[0].names[0]' <<<"$json")"
t_eq "images --json lists 3 layers" 3 "$(jq -r '.[0].layers | length' <<<"$json")"
t_match "images table" '^app +v1 +[0-9a-f]{12} +3 ' "$(ctw images | sed -n 2p)"

insp=$(ctw image inspect app:v1)
l1=$(jq -r '.[0].layer_dirs[0]' <<<"$insp")
l2=$(jq -r '.[0].layer_dirs[1]' <<<"$insp")
l3=$(jq -r '.[0].layer_dirs[2]' <<<"$insp")
t_eq "inspect: id" "$id" "$(jq -r '.[0].id' <<<"$insp")"
t_eq "inspect: Cmd" '["/bin/sh","-c","echo hi from $FOO in $(pwd)"]' \
	"$(jq -c '.[0].config.config.Cmd' <<<"$insp")"
t_eq "inspect: WorkingDir" /data "$(jq -r '.[0].config.config.WorkingDir' <<<"$insp")"
t_eq "inspect: Env" '["FOO=bar","PATH=/bin"]' "$(jq -c '.[0].config.config.Env' <<<"$insp")"

t_ok "layer 1 has busybox" test -x "$l1/bin/busybox"
t_eq "layer 1 keeps the file layer 2 deletes" base "$(cat "$l1/etc/gone.txt" 2>&1)"
t_eq "whiteout .wh.gone.txt became a 0:0 char device" "character special file 0:0" \
	"$(stat -c '%F %t:%T' "$l2/etc/gone.txt" 2>&1)"
t_eq "whiteout for a directory (data/sub)" "character special file 0:0" \
	"$(stat -c '%F %t:%T' "$l2/data/sub" 2>&1)"
t_eq "no .wh. files left in any layer" "" "$(find "$layers" -name '.wh.*')"
opq() { python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())' "$1" 2>&1; }
t_eq "opaque dir got trusted.overlay.opaque=y" y "$(opq "$l3/data")"
t_match "a dir without .wh..wh..opq is not opaque" "No data|ENODATA" "$(opq "$l2/data")"
t_eq "the opaque layer's own file" opaque "$(cat "$l3/data/opaque-only.txt" 2>&1)"

# The same image through other formats: same id, no new layers.
t_ok "skopeo: docker-archive of the image" skopeo copy -q "oci:$L:v1" "docker-archive:$W/d.tar:dock/app:v2"
out=$(ctw import "$W/d.tar" 2>&1)
t_match "docker save archive: name from RepoTags" "^Imported docker.io/dock/app:v2 $id\$" "$out"
# Every RepoTag of a docker save archive is kept; --ref picks by any of
# them, with or without docker.io/, and run finds the image by it.
t_ok "skopeo: docker-archive with two tags" skopeo copy -q --additional-tag dock/app:latest \
	"oci:$L:v1" "docker-archive:$W/d2.tar:dock/app:v3"
out=$(ctw import --ref dock/app:latest "$W/d2.tar" 2>&1)
t_match "two RepoTags, --ref the second: both names kept" \
	"^Imported docker.io/dock/app:v3, docker.io/dock/app:latest $id\$" "$out"
t_eq "  ... images lists both" "docker.io/dock/app:latest docker.io/dock/app:v3" \
	"$(ctw images --json | jq -r --arg id "$id" '.[] | select(.id == $id) | .names[]' | grep -v -e :v2 -e "^app" | sort | xargs)"
t_eq "  ... run dock/app:latest (the --ref) finds it" "hi from bar in /data" \
	"$(ctw run dock/app:latest 2>&1)"
t_fail "--ref that is no RepoTag: refused" ctw import --ref dock/app:v9 "$W/d2.tar"
t_match "  ... saying so" 'no image with RepoTag `dock/app:v9`' \
	"$(ctw import --ref dock/app:v9 "$W/d2.tar" 2>&1)"
ctw rmi docker.io/dock/app:v3 docker.io/dock/app:latest >/dev/null
(cd "$L" && tar cf "$W/oci.tar" .)
t_eq "OCI layout tar: same id" "$id" "$(ctw import -q "$W/oci.tar" app:tar 2>&1)"
gzip -c "$W/oci.tar" >"$W/oci.tar.gz"
t_eq "OCI layout tar.gz: same id" "$id" "$(ctw import -q "$W/oci.tar.gz" app:tgz 2>&1)"
t_ok "an OCI layout with uncompressed layers" img_uncompressed "$L" v1 "$W/plain"
t_eq "  ... really uncompressed" "application/vnd.oci.image.layer.v1.tar" \
	"$(jq -r .layers[0].mediaType "$(img_blob "$W/plain" v1 manifest)")"
t_eq "uncompressed layers: same id" "$id" "$(ctw import -q "$W/plain" app:plain 2>&1)"
t_eq "still three layers stored" 3 "$(count_entries "$layers")"

# A second image sharing all three layers and adding one.
t_ok "image v2 = v1 + one layer" img_add_layer "$L" v1 v2 "f:etc/v2.txt:two"
id2=$(ctw import -q --ref v2 "$L" app:v2 2>&1)
t_match "import by --ref from a two-image layout" '^sha256:' "$id2"
t_eq "shared layers stored once (3 + 1)" 4 "$(count_entries "$layers")"
t_fail "two images and no --ref: refused" ctw import "$L"
t_match "  ... with a hint" "holds 2 images" "$(ctw import "$L" 2>&1)"

# rmi
out=$(ctw rmi app:tar 2>&1)
t_match "rmi of one of several names untags" "^Untagged: app:tar" "$out"
t_eq "  ... layers stay" 4 "$(count_entries "$layers")"
mkdir -p "$CTRWATCH_STATE/c0ffee"
echo "{\"id\":\"c0ffee\",\"name\":\"web\",\"image_id\":\"$id2\"}" >"$CTRWATCH_STATE/c0ffee/state.json"
out=$(ctw rmi app:v2 2>&1)
rc=$?
t_eq "rmi refuses an image a container uses" 1 "$rc"
t_match "  ... naming the container" "in use by container web" "$out"
out=$(ctw rmi -f app:v2 2>&1)
t_match "rmi -f untags the image in use" "Untagged: app:v2" "$out"
t_eq "  ... and keeps its layers" 4 "$(count_entries "$layers")"
rm -rf "$CTRWATCH_STATE/c0ffee"
out=$(ctw rmi "${id2#sha256:}" 2>&1)
t_match "rmi by id once unused deletes it" "Deleted: $id2" "$out"
t_eq "  ... and the layer only it used" 3 "$(count_entries "$layers")"
t_fail "rmi by id of a many-named image needs -f" ctw rmi "$id"
out=$(ctw rmi -f "$id" 2>&1)
t_match "rmi -f by id removes all names" "Deleted: $id" "$out"
t_eq "no layers left" 0 "$(count_entries "$layers")"
t_eq "no images left" "[]" "$(ctw images --json | jq -c .)"
t_fail "rmi of a missing image fails" ctw rmi app:v1
