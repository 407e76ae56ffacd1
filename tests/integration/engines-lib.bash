# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034
# Real container engines inside a test: dockerd, podman and containerd,
# each with its own data root, state dir and socket under a temp dir, the
# cgroupfs driver, a cgroup parent below the caller's own cgroup in every
# hierarchy, no iptables and no network to the outside.  Sourced before
# tests/lib.sh (engines_subreaper re-runs the suite), used after it.  Shared
# by the 9x-engines-*.sh suites and by suites that run an engine with another
# OCI runtime (set ENG_OCI_RUNTIME before starting).
#
#   engines_subreaper "$@"  first thing, before tests/lib.sh: re-runs the
#                           suite under a child subreaper
#   engines_init            makes ENG_DIR, ENG_CG and the mount namespace
#                           every engine runs in; cleans all up on exit
#   docker_start [ARGS...]  dockerd (extra daemon ARGS appended); sets
#                           DOCKER_PID, DOCKER_DATA, DOCKER_EXEC, DOCKER_CG
#   dk ARGS...              the docker CLI against it
#   podman_setup            podman's config (no daemon); sets PODMAN_ROOT, PODMAN_CG
#   pm ARGS...              podman with that config
#   containerd_start        containerd; sets CTRD_PID, CTRD_ROOT, CTRD_STATE, CTRD_CG
#   ctrd ARGS...            ctr against it (add -n NAMESPACE yourself)
#   ctrd_run NS ID ARGS...  ctr run -d with the test's cgroup, fifo dir, runc root
#   eng_stop PID            SIGTERM, then SIGKILL after 10 s; waits until gone
#   eng_busybox_tar         path of a busybox rootfs tar (Debian's busybox-static)
#   eng_busybox_oci         path of an OCI image archive of it (for ctr import)
#   eng_cgroup2 REL         the v2 dir of a cgroup path relative to our own
#
# Isolation.  Every engine process runs in one private mount namespace (a
# holder process keeps it) with fresh tmpfs on /run and /dev/shm: what the
# engines hard-code there (containerd's shim sockets in /run/containerd/s,
# runc roots, podman's SHM locks) stays private, and the rootfs, netns and
# shm mounts they make vanish with the namespace, also when a test dies.
# Their files otherwise live under ENG_DIR, so the host's /var/lib/docker,
# /run/docker and friends are never touched.  Cgroups: ENG_CG is relative
# (below our own cgroup in every hierarchy, never at a hierarchy root), and
# each engine is told to put containers below it (docker --cgroup-parent
# relative, podman --cgroups=no-conmon so conmon stays in our cgroup and the
# relative parent is resolved by runc from there, ctr --cgroup relative).
# Networks: dockerd --bridge none --iptables=false, containers --network none;
# podman netns none; ctr run without --net-host gets an empty netns.
# Cleanup (on_exit): every process in our mount namespace or in our cgroups
# is killed by PID, the namespace goes with its holder, then our cgroups and
# ENG_DIR are removed.

ENG_OCI_RUNTIME=${ENG_OCI_RUNTIME:-runc}
DOCKER_BIN=${DOCKER_BIN:-/usr/bin/docker} # not a newer client earlier in PATH

# First thing in a suite, before tests/lib.sh: run the suite under a child
# subreaper (tini -s), which reaps what the engines daemonize (containerd
# shims, conmon); without one they are reparented to the machine's PID 1,
# which may leave them as zombies.
engines_subreaper() {
	if [ -z "${ENG_REAPED:-}" ] && command -v tini >/dev/null 2>&1; then
		ENG_REAPED=1 exec tini -s -g -- bash "$0" "$@"
	fi
	[ -n "${ENG_REAPED:-}" ] && ENG_REAPER=$PPID
}

engines_init() {
	ENG_DIR=$(mktemp -d "$CTW_WORK/engines.XXXXXX")
	chmod 711 "$ENG_DIR"
	ENG_CG=$CTRWATCH_CGROUP_PARENT/eng$$
	on_exit engines_cleanup
	# The holder: a shell that makes the namespace's mounts, then sleeps.
	unshare --mount --propagation private -- sh -c '
		mount -t tmpfs -o mode=755 ctw-eng-run /run &&
		mount -t tmpfs -o mode=1777 ctw-eng-shm /dev/shm &&
		touch "$1/ns-ready" && exec sleep infinity' sh "$ENG_DIR" &
	ENG_NS_PID=$!
	if ! wait_for 10 test -e "$ENG_DIR/ns-ready"; then
		echo "# engines: the mount namespace did not come up"
		return 1
	fi
}

# Run a command in the engines' mount namespace.
eng_ns() { nsenter -t "$ENG_NS_PID" -m -- "$@"; }

eng_cgroup2() { cgroup2_dir "$1"; }

# PIDs in our mount namespace (daemons, shims, conmon) and in our cgroups
# (the containers, which have mount namespaces of their own).
_eng_pids() {
	local ns d
	ns=$(stat -L -c %i "/proc/$ENG_NS_PID/ns/mnt" 2>/dev/null) || ns=none
	# in our mount namespace, or daemonized to our subreaper (shims and
	# conmon make mount namespaces of their own)
	ps -e -o pid= -o ppid= -o mntns= | awk -v ns="$ns" -v reaper="${ENG_REAPER:-none}" \
		-v self=$$ '$1 != self && ($3 == ns || $2 == reaper) { print $1 }'
	d=$(eng_cgroup2 "$ENG_CG")
	[ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
}

eng_stop() { # pid
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait_for 5 sh -c "! kill -0 $pid" || true
}

engines_cleanup() {
	local pids p
	[ -n "${ENG_NS_PID:-}" ] || return 0
	# Containers first (their engines would restart nothing: they die too).
	for _ in $(seq 1 50); do
		pids=$(_eng_pids | grep -vx "$ENG_NS_PID" | sort -u)
		[ -n "$pids" ] || break
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
		sleep 0.05
	done
	kill -KILL "$ENG_NS_PID" 2>/dev/null
	wait "$ENG_NS_PID" 2>/dev/null
	# Cgroups: rmdir only, retried while dying tasks still hold them.
	local d
	for _ in $(seq 1 30); do
		while IFS= read -r d; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done < <(cgroup_dirs "$ENG_CG")
		[ -d "$(eng_cgroup2 "$ENG_CG")" ] || break
		sleep 0.1
	done
	rm -rf "$ENG_DIR"
	ENG_NS_PID=
}

# ---- images ----

# A busybox rootfs (Debian's busybox-static, its applets as symlinks),
# made once per test run.
eng_busybox_tar() {
	local tar=$CTW_WORK/engines-busybox.tar dir
	if [ ! -s "$tar" ]; then
		dir=$(mktemp -d "$CTW_WORK/bbroot.XXXXXX")
		mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/proc" "$dir/sys" "$dir/dev"
		cp /bin/busybox "$dir/bin/busybox"
		local a
		for a in $("$dir/bin/busybox" --list); do
			[ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
		done
		tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
		rm -rf "$dir"
	fi
	echo "$tar"
}

# The same rootfs as an OCI image archive named docker.io/ctwtest/busybox:1
# (what `ctr images import` takes).
eng_busybox_oci() {
	local out=$CTW_WORK/engines-busybox-oci.tar tar d l c m diff
	if [ ! -s "$out" ]; then
		tar=$(eng_busybox_tar)
		d=$(mktemp -d "$CTW_WORK/bboci.XXXXXX")
		mkdir -p "$d/blobs/sha256"
		diff=$(sha256sum "$tar" | cut -d' ' -f1)
		gzip -n -c "$tar" >"$d/layer"
		l=$(sha256sum "$d/layer" | cut -d' ' -f1)
		mv "$d/layer" "$d/blobs/sha256/$l"
		printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
			"$diff" >"$d/config"
		c=$(sha256sum "$d/config" | cut -d' ' -f1)
		mv "$d/config" "$d/blobs/sha256/$c"
		printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
			"$c" "$(stat -c %s "$d/blobs/sha256/$c")" "$l" "$(stat -c %s "$d/blobs/sha256/$l")" >"$d/manifest"
		m=$(sha256sum "$d/manifest" | cut -d' ' -f1)
		printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"docker.io/ctwtest/busybox:1"}}]}' \
			"$m" "$(stat -c %s "$d/manifest")" >"$d/index.json"
		mv "$d/manifest" "$d/blobs/sha256/$m"
		echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
		tar -C "$d" -cf "$out.tmp" oci-layout index.json blobs && mv "$out.tmp" "$out"
		rm -rf "$d"
	fi
	echo "$out"
}

# ---- docker ----

# dockerd with its data root in the config file (not on the command line:
# ctrwatch must find it either way) and everything else on the command line.
# Its own containerd (managed by dockerd) lives under the exec root.
docker_start() {
	DOCKER_DATA=$ENG_DIR/docker-data
	DOCKER_EXEC=$ENG_DIR/docker-exec
	DOCKER_SOCK=$ENG_DIR/docker.sock
	DOCKER_CG=${DOCKER_CG:-$ENG_CG/moby}
	local conf=$ENG_DIR/docker-daemon.json log=$ENG_DIR/dockerd.log
	# DOCKER_CONF_EXTRA: more of the config file (", \"runtimes\": {...}")
	printf '{"data-root": "%s"%s}\n' "$DOCKER_DATA" "${DOCKER_CONF_EXTRA:-}" >"$conf"
	local rt=()
	if [ "$ENG_OCI_RUNTIME" != runc ]; then
		rt=(--add-runtime "ctw=$ENG_OCI_RUNTIME" --default-runtime ctw)
	fi
	eng_ns /usr/sbin/dockerd --config-file "$conf" --exec-root "$DOCKER_EXEC" \
		--pidfile "$ENG_DIR/dockerd.pid" -H "unix://$DOCKER_SOCK" \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$DOCKER_CG" \
		--bridge none --iptables=false --ip6tables=false --ip-masq=false \
		--ip-forward=false --userland-proxy=false --storage-driver overlay2 \
		--log-level warn "${rt[@]}" "$@" >"$log" 2>&1 &
	DOCKER_PID=$! # for eng_stop
	if ! wait_for 30 dk version; then
		echo "# dockerd did not come up:"
		tail -20 "$log" | sed 's/^/#   /'
		return 1
	fi
}

dk() { eng_ns "$DOCKER_BIN" -H "unix://$DOCKER_SOCK" "$@"; }

# ---- podman ----

# Podman has no daemon: its config files say where everything goes.  The
# nofile/nproc limits are the ones podman itself runs with (raising them
# fails where CAP_SYS_RESOURCE is not granted, as in some VMs).
podman_setup() {
	local d=$ENG_DIR/podman nofile nproc
	PODMAN_ROOT=$d/root
	# In the namespace's private /run: podman wants a runroot of at most
	# 50 characters (its sockets live there).
	PODMAN_RUNROOT=/run/ctw-podman
	PODMAN_RUNC_ROOT=$d/runc
	PODMAN_CG=${PODMAN_CG:-$ENG_CG/libpod}
	mkdir -p "$d/tmp" "$d/net"
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
	cat >"$d/containers.conf" <<-EOF
		[containers]
		netns = "none"
		cgroups = "no-conmon"
		default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$d/events.log"
		tmp_dir = "$d/tmp"
		runtime = "$ENG_OCI_RUNTIME"
		static_dir = "$PODMAN_ROOT/libpod"
		volume_path = "$PODMAN_ROOT/volumes"
		[network]
		network_config_dir = "$d/net"
	EOF
	cat >"$d/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		runroot = "$PODMAN_RUNROOT"
		graphroot = "$PODMAN_ROOT"
	EOF
}

pm() {
	local d=$ENG_DIR/podman
	eng_ns env CONTAINERS_CONF="$d/containers.conf" CONTAINERS_STORAGE_CONF="$d/storage.conf" \
		podman --root "$PODMAN_ROOT" --runroot "$PODMAN_RUNROOT" \
		--runtime-flag "root=$PODMAN_RUNC_ROOT" "$@"
}

# ---- containerd ----

containerd_start() {
	CTRD_ROOT=$ENG_DIR/containerd-root
	CTRD_STATE=$ENG_DIR/containerd-state
	CTRD_SOCK=$ENG_DIR/containerd.sock
	CTRD_CG=${CTRD_CG:-$ENG_CG/ctr}
	local conf=$ENG_DIR/containerd.toml log=$ENG_DIR/containerd.log
	mkdir -p "$ENG_DIR/ctr-fifo"
	cat >"$conf" <<-EOF
		version = 2
		root = "$CTRD_ROOT"
		state = "$CTRD_STATE"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
		[grpc]
		  address = "$CTRD_SOCK"
		[ttrpc]
		  address = "$CTRD_SOCK.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
	EOF
	eng_ns containerd --config "$conf" --log-level warn >"$log" 2>&1 &
	CTRD_PID=$! # for eng_stop
	if ! wait_for 30 ctrd version; then
		echo "# containerd did not come up:"
		tail -20 "$log" | sed 's/^/#   /'
		return 1
	fi
}

ctrd() { eng_ns ctr -a "$CTRD_SOCK" "$@"; }

# ctr run -d in namespace NS: flags (--label k=v ...) come first, then the
# image and the command.  The container's cgroup is CTRD_CG/NS-ID; its IO
# FIFOs and runc state live in ENG_DIR.
ctrd_run() { # ns id [ctr run flags...] image [cmd...]
	local ns=$1 id=$2 flags=()
	shift 2
	while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
		flags+=("$1" "$2")
		shift 2
	done
	local image=$1
	shift
	[ "$ENG_OCI_RUNTIME" != runc ] && flags+=(--runc-binary "$ENG_OCI_RUNTIME")
	ctrd -n "$ns" run -d --cgroup "$CTRD_CG/$ns-$id" --fifo-dir "$ENG_DIR/ctr-fifo" \
		--runc-root "$ENG_DIR/ctr-runc" "${flags[@]}" "$image" "$id" "$@"
}
