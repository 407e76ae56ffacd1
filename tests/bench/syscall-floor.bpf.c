// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor for tests/bench/syscall-bench.sh: the least a tp_btf program on
 * every syscall can do, bump a per-CPU counter.  GPL-compatible license
 * for symmetry with the project's programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* key 0: syscalls entered, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} floor_count SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_enter, struct pt_regs *regs, long id)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&floor_count, &key);

	if (v)
		(*v)++;
	return 0;
}
