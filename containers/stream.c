// SPDX-License-Identifier: Apache-2.0
/*
 * The kernel's cgroup stream (bpf/cgroups.bpf.c): every mkdir and rmdir of
 * a cgroup v2 directory, fed to the registry as it happens, so a container
 * has its name before its first syscall and keeps it after its exit (for
 * the exit grace).  Records the ring could not take are counted by the
 * program; the owner rescans when ctw_cgroup_stream_lost() moves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "../lib/lib.h"
#include "cgroups.h"
#include "cgroups.skel.h"

struct ctw_cgroup_stream {
	struct ctw_registry *r;
	struct cgroups_bpf *skel;
	struct ring_buffer *rb;
	uint64_t made, gone;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct ctw_cgroup_stream *s = ctx;
	struct cgroup_event e;
	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e)); /* ring records need not be aligned */
	e.path[sizeof(e.path) - 1] = '\0';
	if (e.type == CGROUP_EV_MKDIR) {
		s->made++;
		if (e.flags & CGROUP_EV_F_CUT) {
			pr_debug(
				"cgroups: cgroup %llu: path longer than %d bytes: left to the scan",
				(unsigned long long)e.id, CGROUP_EV_PATH);
			return 0;
		}
		ctw_registry_cgroup_made(s->r, e.id, e.parent_id, e.path);
	} else if (e.type == CGROUP_EV_RMDIR) {
		s->gone++;
		ctw_registry_cgroup_gone(s->r, e.id);
	}
	return 0;
}

struct ctw_cgroup_stream *ctw_cgroup_stream_new(struct ctw_registry *r)
{
	struct ctw_cgroup_stream *s = xcalloc(1, sizeof(*s));
	int err;
	s->r = r;
	s->skel = cgroups_bpf__open_and_load();
	if (!s->skel) {
		err = -errno;
		goto out_free;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.cgroup_events), on_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		goto out_destroy;
	}
	err = cgroups_bpf__attach(s->skel);
	if (err)
		goto out_destroy;
	return s;

out_destroy:
	ring_buffer__free(s->rb);
	cgroups_bpf__destroy(s->skel);
out_free:
	free(s);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void ctw_cgroup_stream_free(struct ctw_cgroup_stream *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	cgroups_bpf__destroy(s->skel);
	free(s);
}

int ctw_cgroup_stream_fd(const struct ctw_cgroup_stream *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

int ctw_cgroup_stream_consume(struct ctw_cgroup_stream *s)
{
	return ring_buffer__consume(s->rb);
}

uint64_t ctw_cgroup_stream_lost(const struct ctw_cgroup_stream *s)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t z = 0;
	uint64_t sum = 0;
	if (ncpu <= 0)
		return 0;
	uint64_t *v = xcalloc(ncpu, sizeof(*v));
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.cgroups_lost), &z, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

void ctw_cgroup_stream_counts(const struct ctw_cgroup_stream *s, uint64_t *made, uint64_t *gone)
{
	*made = s->made;
	*gone = s->gone;
}
