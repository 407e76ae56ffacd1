# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Cgroup helpers for scripts that create cgroups below their own (tests, the
# demo): what a relative --cgroup-parent means, and removing such a subtree.

# Directories of a relative cgroup path in every hierarchy, below this
# process's own cgroup there (what a relative --cgroup-parent means).
cgroup_dirs() { # relpath
	local rel=$1 line hid ctrls path mnt
	while IFS= read -r line; do
		hid=${line%%:*}; line=${line#*:}
		ctrls=${line%%:*}; path=${line#*:}
		if [ "$hid" = 0 ]; then
			if [ -d /sys/fs/cgroup/unified ]; then mnt=/sys/fs/cgroup/unified; else mnt=/sys/fs/cgroup; fi
		else
			ctrls=${ctrls#name=}
			mnt=/sys/fs/cgroup/${ctrls%%,*}
			[ -d "$mnt" ] || continue
		fi
		path=${path%/}
		echo "$mnt$path/$rel"
	done </proc/self/cgroup
}

# The cgroup v2 directory of a relative path below this process's own v2
# cgroup (the one BPF keys on).
cgroup2_dir() { # relpath
	local mnt=/sys/fs/cgroup own
	[ -d /sys/fs/cgroup/unified ] && mnt=/sys/fs/cgroup/unified
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	echo "$mnt${own%/}/$1"
}

# Remove a cgroup subtree we created (rmdir only: a cgroup with processes
# in it stays and is reported by the caller).
cgroup_rm_tree() { # relpath
	local d
	while IFS= read -r d; do
		if [ -d "$d" ]; then find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || :; fi
	done < <(cgroup_dirs "$1")
	return 0
}


# For runtimes that read a relative cgroupsPath against PID 1's cgroups
# (runc, crun): an absolute path that lies below our own cgroup in every
# hierarchy is our deepest own path + /REL (on a hybrid host our v1 memory
# cgroup may be the only one not at the root).  Sets OCI_CG_PATH to it and
# adds to OCI_CG_MADE the directories of it that do not exist yet in some
# hierarchy: the runtimes make them, and they are ours to remove
# (oci_cgroup_rm).  Call before the runtimes run; REL is ours alone (it
# starts with a run id), and so is all below it.
OCI_CG_MADE=()
OCI_CG_OURS=()
oci_cgroup_path() { # rel
	local own p c mnt comps
	own=$(awk -F: '{ if (length($3) > length(p)) p = $3 } END { print p }' /proc/self/cgroup)
	OCI_CG_PATH="${own%/}/$1"
	for mnt in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -e "$mnt/cgroup.procs" ] || continue
		OCI_CG_OURS+=("${mnt%/}$OCI_CG_PATH")
		p=
		IFS=/ read -ra comps <<<"${OCI_CG_PATH#/}"
		for c in "${comps[@]}"; do
			p=$p/$c
			[ -d "${mnt%/}$p" ] || OCI_CG_MADE+=("${mnt%/}$p")
		done
	done
}

# Remove all below REL, then what oci_cgroup_path found missing, deepest
# first (rmdir only: a cgroup with processes in it stays, and a directory
# above REL only when empty: another user of that path may have come since).
# Every step whatever the one before said, also under `set -e` (a benchmark's
# trap): a directory the runtime removed itself is no error.
oci_cgroup_rm() {
	local i d
	for d in "${OCI_CG_OURS[@]}"; do
		if [ -d "$d" ]; then find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || :; fi
	done
	for ((i = ${#OCI_CG_MADE[@]} - 1; i >= 0; i--)); do
		rmdir "${OCI_CG_MADE[i]}" 2>/dev/null || :
	done
	return 0
}
