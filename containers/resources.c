// SPDX-License-Identifier: Apache-2.0
/* A container's cpu, memory and pids from its cgroup files: v2 first, the
 * v1 controllers on hybrid hosts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "../lib/lib.h"

#define RES_V2_MEMORY 1
#define RES_V2_PIDS 2
#define RES_REPROBE_NS (60 * 1000000000ull)

/* dir/file into buf (NUL-terminated, truncated to size - 1); no allocation:
 * these run a few hundred times per resources refresh. */
static bool read_small(const char *dir, const char *file, char *buf, size_t size)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

static bool read_u64_file(const char *dir, const char *file, uint64_t *v)
{
	char buf[64];
	if (!read_small(dir, file, buf, sizeof(buf)))
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

static bool read_keyed(const char *dir, const char *file, const char *key, uint64_t *v)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return ctw_read_keyed_u64(p, key, v);
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
	if (read_keyed(v2, "cpu.stat", "usage_usec", &v)) {
		out->cpu_seconds = v / 1e6;
		out->has_cpu = true;
	} else if (e->v1_cpuacct[0] && read_u64_file(e->v1_cpuacct, "cpuacct.usage", &v)) {
		out->cpu_seconds = v / 1e9;
		out->has_cpu = true;
	}
	bool v2mem = !(e->res_missing & RES_V2_MEMORY) && read_u64_file(v2, "memory.current", &v);
	if (!v2mem)
		e->res_missing |= RES_V2_MEMORY;
	if (v2mem) {
		out->memory_bytes = v;
		out->has_memory = true;
		if (read_u64_file(v2, "memory.max", &v) && v != UINT64_MAX) {
			out->memory_limit = v;
			out->has_limit = true;
		}
		if (read_keyed(v2, "memory.events", "oom_kill", &v)) {
			out->oom_events = v;
			out->has_oom = true;
		}
	} else if (e->v1_memory[0] && read_u64_file(e->v1_memory, "memory.usage_in_bytes", &v)) {
		out->memory_bytes = v;
		out->has_memory = true;
		/* v1 "no limit" is a huge page-rounded number */
		if (read_u64_file(e->v1_memory, "memory.limit_in_bytes", &v) && v < (1ull << 62)) {
			out->memory_limit = v;
			out->has_limit = true;
		}
		if (read_keyed(e->v1_memory, "memory.oom_control", "oom_kill", &v)) {
			out->oom_events = v;
			out->has_oom = true;
		}
	}
	bool pids = !(e->res_missing & RES_V2_PIDS) && read_u64_file(v2, "pids.current", &v);
	if (!pids) {
		e->res_missing |= RES_V2_PIDS;
		pids = e->v1_pids[0] && read_u64_file(e->v1_pids, "pids.current", &v);
	}
	if (pids) {
		out->pids = v;
		out->has_pids = true;
	}
	return 0;
}
