// SPDX-License-Identifier: Apache-2.0
/*
 * The tcplife probe's loader, shared by `ctrwatch tcplife` and the agent's
 * tcp module: open -> set rodata -> load -> attach, then a ring buffer.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../lib/lib.h"
#include "tcp.h"
#include "tcplife.skel.h"

struct ctw_tcp_probe {
	struct tcplife_bpf *obj;
	struct ring_buffer *rb;
	ctw_tcp_event_fn fn;
	void *ctx;
};

static int on_sample(void *ctx, void *data, size_t len)
{
	struct ctw_tcp_probe *p = ctx;
	struct tcplife_event e;

	if (len < sizeof(e))
		return 0;
	/* Ring buffer records are 8-byte aligned, but copy anyway: the record
	 * is the kernel's until we return. */
	memcpy(&e, data, sizeof(e));
	return p->fn(p->ctx, &e);
}

int ctw_tcp_probe_open(const struct ctw_tcp_probe_opts *o, ctw_tcp_event_fn fn, void *ctx,
		       struct ctw_tcp_probe **out, struct ctw_err *err)
{
	struct ctw_tcp_probe *p = xcalloc(1, sizeof(*p));
	int ret;

	p->fn = fn;
	p->ctx = ctx;
	p->obj = tcplife_bpf__open();
	if (!p->obj) {
		ret = ctw_err_set(err, errno, "open BPF object");
		goto out_free;
	}
	p->obj->rodata->target_family = o->family;
	p->obj->rodata->filter_cgroup = o->filter_cgroup;
	p->obj->rodata->track_open = o->track_open;
	p->obj->rodata->wakeup_bytes = o->wakeup_bytes;
	p->obj->rodata->n_lports = o->n_lports;
	p->obj->rodata->n_dports = o->n_dports;
	for (__u32 i = 0; i < TCPLIFE_MAX_PORTS; i++) {
		p->obj->rodata->lports[i] = o->lports[i];
		p->obj->rodata->dports[i] = o->dports[i];
	}
	if (o->ringbuf_bytes) {
		ret = bpf_map__set_max_entries(p->obj->maps.events, o->ringbuf_bytes);
		if (ret) {
			ret = ctw_err_set(err, -ret, "ring buffer size %zu", o->ringbuf_bytes);
			goto out_free;
		}
	}
	ret = tcplife_bpf__load(p->obj);
	if (ret) {
		ret = ctw_err_set(err, -ret, "load BPF program");
		goto out_free;
	}
	ret = tcplife_bpf__attach(p->obj);
	if (ret) {
		ret = ctw_err_set(err, -ret, "attach tp_btf/inet_sock_set_state");
		goto out_free;
	}
	p->rb = ring_buffer__new(bpf_map__fd(p->obj->maps.events), on_sample, p, NULL);
	if (!p->rb) {
		ret = ctw_err_set(err, errno, "ring buffer");
		goto out_free;
	}
	*out = p;
	return 0;

out_free:
	ctw_tcp_probe_free(p);
	return ret;
}

void ctw_tcp_probe_free(struct ctw_tcp_probe *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	tcplife_bpf__destroy(p->obj);
	free(p);
}

int ctw_tcp_probe_fd(struct ctw_tcp_probe *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

int ctw_tcp_probe_poll(struct ctw_tcp_probe *p, int timeout_ms)
{
	int n = ring_buffer__poll(p->rb, timeout_ms);

	if (n == 0) /* timed out: records may be waiting below wakeup_bytes */
		n = ring_buffer__consume(p->rb);
	return n;
}

int ctw_tcp_probe_consume(struct ctw_tcp_probe *p)
{
	return ring_buffer__consume(p->rb);
}

int ctw_tcp_probe_watch_cgroup(struct ctw_tcp_probe *p, __u64 cgroup_id, bool on)
{
	__u8 one = 1;
	int fd = bpf_map__fd(p->obj->maps.cgroups);
	int err;

	if (on)
		err = bpf_map_update_elem(fd, &cgroup_id, &one, BPF_ANY);
	else
		err = bpf_map_delete_elem(fd, &cgroup_id);
	if (err && !(!on && errno == ENOENT))
		return -errno;
	return 0;
}

__u64 ctw_tcp_probe_lost(struct ctw_tcp_probe *p, __u32 why)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 sum = 0;

	if (ncpu <= 0)
		return 0;
	__u64 *v = xcalloc(ncpu, sizeof(*v));
	if (bpf_map_lookup_elem(bpf_map__fd(p->obj->maps.lost), &why, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

struct open_ctx {
	void (*cb)(void *ctx, __u64 cgroup_id, __s64 n);
	void *ctx;
};

static void open_one(void *ctx, uint64_t key, uint64_t val)
{
	struct open_ctx *o = ctx;

	o->cb(o->ctx, key, (__s64)val);
}

int ctw_tcp_probe_open_counts(struct ctw_tcp_probe *p,
			      void (*cb)(void *ctx, __u64 cgroup_id, __s64 n), void *ctx)
{
	struct open_ctx o = {cb, ctx};

	/* in batches: key by key was two syscalls per container per scrape */
	return ctw_bpf_map_each_u64(bpf_map__fd(p->obj->maps.open_conns), open_one, &o);
}

void ctw_tcp_probe_forget_cgroup(struct ctw_tcp_probe *p, __u64 cgroup_id)
{
	bpf_map_delete_elem(bpf_map__fd(p->obj->maps.open_conns), &cgroup_id);
}
