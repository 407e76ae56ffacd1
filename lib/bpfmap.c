// SPDX-License-Identifier: Apache-2.0
/* Reading a whole BPF hash map: in batches where the kernel can (5.6+). */
#include <errno.h>
#include <stdbool.h>

#include <bpf/bpf.h>

#include "lib.h"

#define BATCH 256

/* Key by key: two syscalls per entry. */
static int each_by_key(int fd, void (*fn)(void *ctx, uint64_t key, uint64_t val), void *ctx)
{
	__u64 key, next, val, *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, &val) == 0)
			fn(ctx, next, val);
		key = next;
		prev = &key;
	}
	return 0;
}

int ctw_bpf_map_each_u64(int fd, void (*fn)(void *ctx, uint64_t key, uint64_t val), void *ctx)
{
	__u64 keys[BATCH], vals[BATCH];
	__u64 in = 0, out = 0; /* opaque batch positions (a bucket for a hash map) */
	for (bool first = true;; first = false) {
		__u32 n = BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, NULL);
		int e = err ? errno : 0;
		if (err && e != ENOENT) {
			/* no batch ops here (old kernel, map type): key by key;
			 * ENOSPC: a bucket of more than BATCH entries */
			if (first)
				return each_by_key(fd, fn, ctx);
			return -e;
		}
		for (__u32 i = 0; i < n; i++)
			fn(ctx, keys[i], vals[i]);
		if (e == ENOENT) /* the last batch */
			return 0;
		in = out;
	}
}
