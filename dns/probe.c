// SPDX-License-Identifier: Apache-2.0
/*
 * The DNS probe: loads bpf/dns.bpf.c once, attaches its egress and ingress
 * programs to cgroups (a watched container's, or one above them all: the
 * programs see the packets of every cgroup below and name each by its
 * socket's cgroup), and drains the ring buffer into the pairer.
 *
 * Attachment uses BPF links (bpf_program__attach_cgroup): a cgroup link is
 * always attached in BPF_F_ALLOW_MULTI mode, so other programs on the same
 * cgroup (policy, other tools) keep running, and the kernel detaches it when
 * the last fd goes, so a `ctrwatch dns` killed with SIGKILL leaves nothing
 * attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dns.h"
#include "../bpf/dns.h"
#include "../lib/lib.h"
#include "dns.skel.h"

struct attachment {
	struct attachment *next;
	uint64_t cgroup_id;
	struct bpf_link *egress, *ingress;
};

struct ctw_dns_probe {
	struct dns_bpf *skel;
	struct ring_buffer *rb;
	struct ctw_dns_pairer *pairer;
	struct ctw_dns_probe_opts opts;
	struct attachment *att;
	size_t natt;
	int nrecords; /* consumed by the current consume() call */
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct ctw_dns_probe *p = ctx;

	p->nrecords++;
	ctw_dns_handle_record(p->pairer, data, size, p->opts.on_query, p->opts.ctx);
	return 0;
}

int ctw_dns_probe_new(const struct ctw_dns_probe_opts *opts, struct ctw_dns_probe **out)
{
	struct ctw_dns_probe *p = xcalloc(1, sizeof(*p));
	int err;

	p->opts = *opts;
	p->skel = dns_bpf__open();
	if (!p->skel) {
		err = -errno;
		pr_debug("dns: open BPF object: %s", strerror(-err));
		goto out_free;
	}
	p->skel->rodata->dns_port = opts->port ? opts->port : 53;
	p->skel->rodata->capture_tcp = !opts->no_tcp;
	if (opts->ringbuf_bytes &&
	    (err = bpf_map__set_max_entries(p->skel->maps.dns_events, opts->ringbuf_bytes))) {
		pr_debug("dns: ring buffer size %u: %s", opts->ringbuf_bytes, strerror(-err));
		goto out_destroy;
	}
	err = dns_bpf__load(p->skel);
	if (err) {
		pr_debug("dns: load BPF object: %s", strerror(-err));
		goto out_destroy;
	}
	p->pairer = ctw_dns_pairer_new(opts->timeout_ns, 0, opts->on_txn, opts->ctx);
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.dns_events), on_record, p, NULL);
	if (!p->rb) {
		err = -errno;
		pr_debug("dns: ring buffer: %s", strerror(-err));
		goto out_pairer;
	}
	*out = p;
	return 0;

out_pairer:
	ctw_dns_pairer_free(p->pairer);
out_destroy:
	dns_bpf__destroy(p->skel);
out_free:
	free(p);
	return err;
}

static void detach_one(struct attachment *a)
{
	bpf_link__destroy(a->egress);
	bpf_link__destroy(a->ingress);
	free(a);
}

void ctw_dns_probe_free(struct ctw_dns_probe *p)
{
	if (!p)
		return;
	while (p->att) {
		struct attachment *a = p->att;
		p->att = a->next;
		detach_one(a);
	}
	ring_buffer__free(p->rb);
	ctw_dns_pairer_free(p->pairer);
	dns_bpf__destroy(p->skel);
	free(p);
}

static struct attachment **find_att(struct ctw_dns_probe *p, uint64_t cgroup_id)
{
	struct attachment **pa = &p->att;

	while (*pa && (*pa)->cgroup_id != cgroup_id)
		pa = &(*pa)->next;
	return pa;
}

int ctw_dns_probe_attach(struct ctw_dns_probe *p, const char *path, uint64_t *cgroup_id)
{
	struct attachment *a;
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A cgroup v2 directory's inode number is its cgroup id. */
	struct statfs sf;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0) {
		err = -errno;
		goto out_close;
	}
	if (sf.f_type != CGROUP2_SUPER_MAGIC) {
		err = -ENOTDIR; /* no cgroup v2 directory */
		goto out_close;
	}
	if (cgroup_id)
		*cgroup_id = st.st_ino;
	if (*find_att(p, st.st_ino)) {
		err = 0;
		goto out_close;
	}
	a = xcalloc(1, sizeof(*a));
	a->cgroup_id = st.st_ino;
	a->egress = bpf_program__attach_cgroup(p->skel->progs.dns_egress, fd);
	if (!a->egress) {
		err = -errno;
		free(a);
		goto out_close;
	}
	a->ingress = bpf_program__attach_cgroup(p->skel->progs.dns_ingress, fd);
	if (!a->ingress) {
		err = -errno;
		bpf_link__destroy(a->egress);
		free(a);
		goto out_close;
	}
	a->next = p->att;
	p->att = a;
	p->natt++;
	err = 0;
out_close:
	close(fd);
	return err;
}

int ctw_dns_probe_detach(struct ctw_dns_probe *p, uint64_t cgroup_id)
{
	struct attachment **pa = find_att(p, cgroup_id), *a = *pa;

	if (!a)
		return -ENOENT;
	*pa = a->next;
	p->natt--;
	detach_one(a);
	/* What is still pending for it will never be answered through us. */
	ctw_dns_pairer_forget(p->pairer, cgroup_id);
	return 0;
}

void ctw_dns_probe_forget(struct ctw_dns_probe *p, uint64_t cgroup_id)
{
	ctw_dns_pairer_forget(p->pairer, cgroup_id);
}

bool ctw_dns_probe_attached(const struct ctw_dns_probe *p, uint64_t cgroup_id)
{
	for (const struct attachment *a = p->att; a; a = a->next)
		if (a->cgroup_id == cgroup_id)
			return true;
	return false;
}

size_t ctw_dns_probe_nattached(const struct ctw_dns_probe *p)
{
	return p->natt;
}

int ctw_dns_probe_fd(const struct ctw_dns_probe *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

int ctw_dns_probe_consume(struct ctw_dns_probe *p)
{
	int err;

	p->nrecords = 0;
	err = ring_buffer__consume(p->rb);
	ctw_dns_pairer_expire(p->pairer, ctw_now_ns());
	return err < 0 ? err : p->nrecords;
}

int ctw_dns_probe_poll(struct ctw_dns_probe *p, int timeout_ms)
{
	int err;

	p->nrecords = 0;
	err = ring_buffer__poll(p->rb, timeout_ms);
	ctw_dns_pairer_expire(p->pairer, ctw_now_ns());
	if (err == -EINTR)
		return 0;
	return err < 0 ? err : p->nrecords;
}

void ctw_dns_probe_flush(struct ctw_dns_probe *p)
{
	ctw_dns_pairer_flush(p->pairer);
}

void ctw_dns_probe_forget_lost(struct ctw_dns_probe *p, uint64_t cgroup_id)
{
	__u64 key = cgroup_id;

	bpf_map_delete_elem(bpf_map__fd(p->skel->maps.dns_lost), &key);
}

struct lost_ctx {
	void (*fn)(void *ctx, uint64_t cgroup_id, uint64_t n);
	void *ctx;
};

static void lost_one(void *ctx, uint64_t key, uint64_t val)
{
	struct lost_ctx *l = ctx;

	if (val)
		l->fn(l->ctx, key, val);
}

void ctw_dns_probe_lost(struct ctw_dns_probe *p,
			void (*fn)(void *ctx, uint64_t cgroup_id, uint64_t n), void *ctx)
{
	struct lost_ctx l = {fn, ctx};

	/* in batches: key by key was two syscalls per container per scrape */
	ctw_bpf_map_each_u64(bpf_map__fd(p->skel->maps.dns_lost), lost_one, &l);
}
