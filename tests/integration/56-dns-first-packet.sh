#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A container's first DNS packet, with the programs attached once above the
# containers (see dns-first-packet.bash), in this host's cgroup layout
# (hybrid here: v2 at /sys/fs/cgroup/unified).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"
# shellcheck source=tests/integration/dns-first-packet.bash
. "$(dirname "$0")/dns-first-packet.bash"
dns_first_packet dns56
