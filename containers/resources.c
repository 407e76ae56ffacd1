// SPDX-License-Identifier: Apache-2.0
/* A container's cpu, memory and pids from its cgroup files: v2 first, the
 * v1 controllers on hybrid hosts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "internal.h"
#include "../lib/lib.h"

#define RES_V2_MEMORY 1
#define RES_V2_PIDS 2
#define RES_REPROBE_NS (60 * 1000000000ull)
#define RES_LIMIT_EVERY 10 /* refreshes between reads of the memory limit */

/* The files read at every refresh are kept open and read again with
 * pread: opening a cgroup file cost 12-30 us on the test VM (a path walk,
 * a struct file, kernfs' open), pread 2-8 us; for 1 000 containers on a
 * hybrid host (5 files each) a refresh took ~300 ms.  Each open cgroup
 * file holds ~4.6 KB of kernel memory (its seq_file buffer; measured: 4 000
 * open files, +18 MB of slab), so at most half the fd limit is kept open
 * and the memory limit (which seldom changes) is read by path every
 * RES_LIMIT_EVERY refreshes instead. */
enum { RES_F_CPU, RES_F_MEM, RES_F_OOM, RES_F_PIDS };
enum { SRC_V2 = 1, SRC_V1 };

static size_t kept_fds;

static bool may_keep(void)
{
	static size_t max;
	if (!max) {
		struct rlimit rl;
		max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
			      ? rl.rlim_cur / 2
			      : 512;
		if (!max)
			max = 1;
	}
	return __atomic_load_n(&kept_fds, __ATOMIC_RELAXED) < max;
}

static void close_kept(struct entry *e, int slot)
{
	if (!e->res_fd[slot])
		return;
	close(e->res_fd[slot] - 1);
	e->res_fd[slot] = 0;
	e->res_src[slot] = 0;
	__atomic_sub_fetch(&kept_fds, 1, __ATOMIC_RELAXED);
}

void entry_free(struct entry *e)
{
	if (!e)
		return;
	for (int i = 0; i < 4; i++)
		close_kept(e, i);
	entry_release(e);
	free(e);
}

/* dir/file into buf (NUL-terminated, truncated to size - 1), through the
 * entry's kept file of `slot` when it is that file (src), else opened
 * (and kept, when the slot is free); slot < 0: never kept.  No
 * allocation: these run a few thousand times per refresh. */
static bool read_small(struct entry *e, int slot, int src, const char *dir, const char *file,
		       char *buf, size_t size)
{
	if (slot >= 0 && e->res_fd[slot] && e->res_src[slot] == src) {
		ssize_t n = pread(e->res_fd[slot] - 1, buf, size - 1, 0);
		if (n >= 0) {
			buf[n] = '\0';
			return true;
		}
		close_kept(e, slot); /* the cgroup went: try it by its path */
	}
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0) {
		close(fd);
		return false;
	}
	buf[n] = '\0';
	if (slot >= 0 && !e->res_fd[slot] && may_keep()) {
		e->res_fd[slot] = fd + 1;
		e->res_src[slot] = (uint8_t)src;
		__atomic_add_fetch(&kept_fds, 1, __ATOMIC_RELAXED);
	} else {
		close(fd);
	}
	return true;
}

static bool read_u64_file(struct entry *e, int slot, int src, const char *dir, const char *file,
			  uint64_t *v)
{
	char buf[64];
	if (!read_small(e, slot, src, dir, file, buf, sizeof(buf)))
		return false;
	if (!strncmp(buf, "max", 3) && (!buf[3] || buf[3] == '\n')) {
		*v = UINT64_MAX;
		return true;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return false;
	*v = x;
	return true;
}

static bool read_keyed(struct entry *e, int slot, int src, const char *dir, const char *file,
		       const char *key, uint64_t *v)
{
	char buf[4096];
	if (!read_small(e, slot, src, dir, file, buf, sizeof(buf)))
		return false;
	return ctw_keyed_u64(buf, key, v);
}

/* The memory limit (UINT64_MAX or a huge v1 value: none), read by path
 * every RES_LIMIT_EVERY refreshes. */
static void read_limit(struct entry *e, const char *dir, const char *file, uint64_t none_from,
		       struct ctw_cgroup_resources *out)
{
	uint64_t v;
	if (e->res_limit_age++ % RES_LIMIT_EVERY == 0) {
		e->res_has_limit = read_u64_file(e, -1, 0, dir, file, &v) && v < none_from;
		e->res_limit = v;
	}
	out->memory_limit = e->res_limit;
	out->has_limit = e->res_has_limit;
}

int ctw_registry_resources(struct ctw_registry *r, const struct ctw_container *c,
			   struct ctw_cgroup_resources *out)
{
	size_t j;
	if (!idmap_get(&r->ids, c->cgroup_id, &j))
		return -ENOENT;
	struct entry *e = r->ents[j];
	const char *v2 = e->c.cgroup_path;
	uint64_t v;
	memset(out, 0, sizeof(*out));
	if (e->res_missing) {
		uint64_t now = ctw_now_ns();
		if (now - e->res_probe_ns >= RES_REPROBE_NS)
			e->res_missing = 0;
	}
	if (!e->res_missing)
		e->res_probe_ns = ctw_now_ns();
	/* v2 first (cpu.stat exists in every v2 cgroup); v1 files on hybrid hosts. */
	if (read_keyed(e, RES_F_CPU, SRC_V2, v2, "cpu.stat", "usage_usec", &v)) {
		out->cpu_seconds = v / 1e6;
		out->has_cpu = true;
	} else if (e->v1_cpuacct &&
		   read_u64_file(e, RES_F_CPU, SRC_V1, e->v1_cpuacct, "cpuacct.usage", &v)) {
		out->cpu_seconds = v / 1e9;
		out->has_cpu = true;
	}
	bool v2mem = !(e->res_missing & RES_V2_MEMORY) &&
		     read_u64_file(e, RES_F_MEM, SRC_V2, v2, "memory.current", &v);
	if (!v2mem)
		e->res_missing |= RES_V2_MEMORY;
	if (v2mem) {
		out->memory_bytes = v;
		out->has_memory = true;
		read_limit(e, v2, "memory.max", UINT64_MAX, out);
		if (read_keyed(e, RES_F_OOM, SRC_V2, v2, "memory.events", "oom_kill", &v)) {
			out->oom_events = v;
			out->has_oom = true;
		}
	} else if (e->v1_memory &&
		   read_u64_file(e, RES_F_MEM, SRC_V1, e->v1_memory, "memory.usage_in_bytes", &v)) {
		out->memory_bytes = v;
		out->has_memory = true;
		/* v1 "no limit" is a huge page-rounded number */
		read_limit(e, e->v1_memory, "memory.limit_in_bytes", 1ull << 62, out);
		if (read_keyed(e, RES_F_OOM, SRC_V1, e->v1_memory, "memory.oom_control", "oom_kill",
			       &v)) {
			out->oom_events = v;
			out->has_oom = true;
		}
	}
	bool pids = !(e->res_missing & RES_V2_PIDS) &&
		    read_u64_file(e, RES_F_PIDS, SRC_V2, v2, "pids.current", &v);
	if (!pids) {
		e->res_missing |= RES_V2_PIDS;
		pids = e->v1_pids &&
		       read_u64_file(e, RES_F_PIDS, SRC_V1, e->v1_pids, "pids.current", &v);
	}
	if (pids) {
		out->pids = v;
		out->has_pids = true;
	}
	return 0;
}
