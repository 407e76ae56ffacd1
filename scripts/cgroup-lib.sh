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
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done < <(cgroup_dirs "$1")
	return 0
}

