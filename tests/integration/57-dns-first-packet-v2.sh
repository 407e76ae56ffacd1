#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The same as 56-dns-first-packet.sh with pure cgroup v2 (what real users
# mostly have): on a hybrid host the suite re-runs itself in a private
# mount namespace with the v2 hierarchy mounted at /sys/fs/cgroup (as
# suite 14 does); the hierarchy is the same one, so the cgroups are real.
if [ -z "${CTW_V2_INNER:-}" ] && [ "$(id -u)" -eq 0 ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
	command -v unshare >/dev/null; then
	CTW_V2_INNER=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
if [ -z "${CTW_V2_INNER:-}" ]; then
	t_skip "$(basename "$0")" "not a hybrid host: 56-dns-first-packet.sh covers this layout"
	exit 0
fi
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] &&
	! mount -t cgroup2 cgroup2 /sys/fs/cgroup; then
	t_skip "$(basename "$0")" "cannot mount cgroup2 in a private mount namespace"
	exit 0
fi
t_eq "/sys/fs/cgroup is the unified hierarchy" cgroup2fs "$(stat -f -c %T /sys/fs/cgroup)"
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"
# shellcheck source=tests/integration/dns-first-packet.bash
. "$(dirname "$0")/dns-first-packet.bash"
dns_first_packet dns57
