#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Imports that must fail and leave nothing behind: layer entries escaping the
# layer (.., absolute path, through a symlink, hard link out), corrupted
# layer and config blobs (OCI and docker-archive), and things that are not
# images.  Each error names what was wrong.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd umoci skopeo python3 jq
# shellcheck source=tests/integration/image-fixtures.bash
. "$(dirname "$0")/image-fixtures.bash"

export CTRWATCH_ROOT=$CTW_WORK/root-21
W=$CTW_WORK/img21
mkdir -p "$W"
on_exit "rm -rf '$CTRWATCH_ROOT' '$W' /tmp/ctw-escaped-$$"
L=$W/oci
layers=$CTRWATCH_ROOT/layers/sha256

t_ok "build the base image with umoci" img_layout "$L"

# Nothing may be imported by a failing import: the base layers are new to
# this store, so any of them left behind would show.
nothing_imported() { # label
	t_eq "$1: no layer stored" 0 "$(count_entries "$layers")"
	t_eq "$1: no image recorded" "[]" "$(ctw images --json | jq -c .)"
	t_eq "$1: store tmp empty" 0 "$(count_entries "$CTRWATCH_ROOT/tmp")"
}

reject() { # tag entry-in-message label tar-spec...
	local tag=$1 entry=$2 label=$3 out rc
	shift 3
	img_add_layer "$L" v1 "$tag" "$@" || { t_fail "$label: build" true; return; }
	out=$(ctw import --ref "$tag" "$L" "bad:$tag" 2>&1)
	rc=$?
	t_eq "$label: import fails" 1 "$rc"
	t_match "$label: error names the entry" "entry \`$entry\`" "$out"
	nothing_imported "$label"
}

reject dotdot "sub/../../escaped" "'..' in a path" "f:ok.txt:x" "f:sub/../../escaped:x"
t_ok "  ... nothing written next to the layers" test ! -e "$CTRWATCH_ROOT/layers/escaped"
reject absolute "/tmp/ctw-escaped-$$" "absolute path" "f:/tmp/ctw-escaped-$$:x"
t_ok "  ... the absolute path was not written" test ! -e "/tmp/ctw-escaped-$$"
reject symlink "up/tmp/ctw-escaped-$$" "path through a symlink" \
	"l:up:/" "f:up/tmp/ctw-escaped-$$:x"
t_ok "  ... nothing written through the symlink" test ! -e "/tmp/ctw-escaped-$$"
reject symlink2 "lnk/escaped" "path through a relative symlink" \
	"d:d" "l:lnk:../.." "f:lnk/escaped:x"
reject hardlink "h" "hard link out of the layer" "h:h:../../../../etc/passwd"

# Corrupted blobs, each in a copy of the layout.
corrupt_copy() { # dst
	rm -rf "$1"
	cp -a "$L" "$1"
}
C=$W/corrupt-layer
corrupt_copy "$C"
blob=$(img_blob "$C" v1 layer 2)
chmod u+w "$blob"
printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc status=none
out=$(ctw import "$C" app:v1 2>&1)
t_eq "corrupted last layer: import fails" 1 "$?"
t_match "  ... sha256 mismatch named" "blob sha256:[0-9a-f]{64}: sha256 mismatch" "$out"
nothing_imported "corrupted layer"

C=$W/corrupt-config
corrupt_copy "$C"
blob=$(img_blob "$C" v1 config)
chmod u+w "$blob"
sed -i 's/FOO=bar/FOO=baz/' "$blob"
out=$(ctw import "$C" app:v1 2>&1)
t_eq "corrupted config: import fails" 1 "$?"
t_match "  ... config blob mismatch named" "config blob sha256:[0-9a-f]{64}: sha256 mismatch" "$out"
nothing_imported "corrupted config"

C=$W/truncated
corrupt_copy "$C"
blob=$(img_blob "$C" v1 layer 0)
chmod u+w "$blob"
truncate -s 1000 "$blob"
out=$(ctw import "$C" app:v1 2>&1)
t_eq "truncated layer: import fails" 1 "$?"
nothing_imported "truncated layer"

# docker save: layers are named by path; diff_ids in the config check them.
t_ok "skopeo: docker-archive" skopeo copy -q "oci:$L:v1" "docker-archive:$W/d.tar:app:v1"
mkdir -p "$W/dx"
tar -C "$W/dx" -xf "$W/d.tar"
last=$(jq -r '.[0].Layers[2]' "$W/dx/manifest.json")
chmod u+w "$W/dx/$last" && printf 'Z' | dd of="$W/dx/$last" bs=1 seek=1000 conv=notrunc status=none
(cd "$W/dx" && tar cf "$W/dbad.tar" .)
out=$(ctw import "$W/dbad.tar" 2>&1)
t_eq "docker-archive with a tampered layer: import fails" 1 "$?"
t_match "  ... diff_id mismatch named" "does not match the config's diff_id" "$out"
nothing_imported "tampered docker-archive"

# Layers named through the archive's own symlinks (<v1 id>/layer.tar ->
# ../<hex>.tar) are followed inside the archive only: a link to a host path
# resolves below the unpacked archive, never to the host file.
mkdir -p "$W/dl"
tar -C "$W/dl" -xf "$W/d.tar"
first=$(jq -r '.[0].Layers[0]' "$W/dl/manifest.json")
link=$(find "$W/dl" -name layer.tar -lname "../$first" -printf '%P\n' | head -1)
t_match "skopeo's archive has layer.tar symlinks" "/layer.tar\$" "$link"
jq --arg l "$link" '.[0].Layers[0] = $l' "$W/dl/manifest.json" >"$W/dl/m" && mv "$W/dl/m" "$W/dl/manifest.json"
(cd "$W/dl" && tar cf "$W/dlink.tar" .)
t_ok "a layer named by a relative symlink in the archive imports" ctw import "$W/dlink.tar" app:link
t_eq "  ... 3 layers" 3 "$(count_entries "$layers")"
ctw rmi app:link >/dev/null 2>&1
ln -sf /etc/passwd "$W/dl/$link"
(cd "$W/dl" && tar cf "$W/dhost.tar" .)
out=$(ctw import "$W/dhost.tar" app:host 2>&1)
t_eq "a layer symlinked to a host file: import fails" 1 "$?"
t_match "  ... the host file was not read" "No such file or directory" "$out"
nothing_imported "symlink to a host file"

t_ok "the intact docker-archive imports" ctw import "$W/d.tar"
t_eq "  ... 3 layers" 3 "$(count_entries "$layers")"

echo "not an image" >"$W/junk"
out=$(ctw import "$W/junk" 2>&1)
t_eq "a file that is not an archive: import fails" 1 "$?"
t_match "  ... clear error" "unpack .*junk.*: not a valid tar archive" "$out"
mkdir -p "$W/empty"
out=$(ctw import "$W/empty" 2>&1)
t_match "an empty directory: neither OCI nor docker" "neither an OCI image layout" "$out"
t_eq "bad name: usage error" 1 "$(ctw import "$L" 'Bad Name' >/dev/null 2>&1; echo $?)"
t_eq "import without PATH: exit 2" 2 "$(ctw import >/dev/null 2>&1; echo $?)"
