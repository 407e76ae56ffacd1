// SPDX-License-Identifier: Apache-2.0
/*
 * linux.resources on a container's cgroups, as runc writes them: the v2
 * files on unified hosts (memory.max, memory.swap.max = swap - limit,
 * cpu.weight from shares, cpu.max, cpuset.*, io.*, hugetlb.*, pids.max, and
 * `unified` as written), the v1 controllers' files on hybrid hosts
 * (memory.limit_in_bytes and memsw, cpu.shares and CFS, cpuset, blkio,
 * hugetlb, net_cls/net_prio, pids.max).  Used at create and by `update`
 * (only what is set is written).  Also what the OCI commands read back:
 * the freezer (v2's cgroup.freeze, on both layouts: the hybrid v2 tree has
 * it too), the processes, and the statistics `events --stats` prints.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "internal.h"

/* What a resource is called in errors: the flag of `ctrwatch run`, else
 * the field of config.json. */
static const char *res_name(const struct cg_set *c, const char *field, const char *flag)
{
	return c->run_flags && flag ? flag : field;
}

static bool blkio_set(const struct ctw_spec_blkio *b)
{
	bool set = (b->weight.set && b->weight.v) || (b->leaf_weight.set && b->leaf_weight.v);
	for (int l = 0; l < CTW_BLKIO_MAX; l++)
		set |= b->n_dev[l] > 0;
	return set;
}

unsigned cg_ctrls_for(const struct ctw_spec_resources *r)
{
	unsigned m = CG_BASE_CTRLS;
	if (!r)
		return m;
	if ((r->cpu.cpus && *r->cpu.cpus) || (r->cpu.mems && *r->cpu.mems))
		m |= 1u << CG_C_CPUSET;
	if (blkio_set(&r->blkio))
		m |= 1u << CG_C_BLKIO;
	if (r->n_hugepages)
		m |= 1u << CG_C_HUGETLB;
	if (r->net_class_id.set)
		m |= 1u << CG_C_NET_CLS;
	if (r->net_priorities.n)
		m |= 1u << CG_C_NET_PRIO;
	return m;
}

/* Is the word w in the space-separated list? ("cpu" is not "cpuset") */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* v2 controllers a container may use. */
static const char *const v2_ctrls[] = {"memory", "cpu", "pids", "cpuset", "io", "hugetlb"};

static unsigned v2_needed(const struct ctw_spec_resources *r)
{
	unsigned m = 0;
	if (!r)
		return 0;
	const struct ctw_spec_memory *mem = &r->memory;
	if (mem->limit.set || mem->reservation.set || mem->swap.set)
		m |= 1;
	const struct ctw_spec_cpu *cpu = &r->cpu;
	if ((cpu->shares.set && cpu->shares.v) || cpu->quota.set || cpu->period.set ||
	    cpu->burst.set || cpu->idle.set)
		m |= 2;
	if (r->pids_limit.set && r->pids_limit.v > 0)
		m |= 4;
	if ((cpu->cpus && *cpu->cpus) || (cpu->mems && *cpu->mems))
		m |= 8;
	if (blkio_set(&r->blkio))
		m |= 16;
	if (r->n_hugepages)
		m |= 32;
	return m;
}

/*
 * Enable the controllers a container may use (memory, cpu and pids always,
 * others when this one needs them) in every cgroup.subtree_control from
 * below base down to the container's parent, where the cgroup has them to
 * give: only in cgroups that are ours (base itself is not).  Always, not
 * only for a container with limits, so that a later one's limits find them
 * in a parent made by an earlier one.  Failures are left for the check of
 * the container's cgroup.controllers to report.
 */
void cg_enable_v2(const struct cg_set *c, const struct ctw_spec_resources *res)
{
	unsigned want = 7 | v2_needed(res);
	char dir[PATH_MAX], path[PATH_MAX], have[256], on[256];
	const char *cg = c->v2;
	size_t bl = strlen(c->base);
	if (strncmp(cg, c->base, bl) || cg[bl] != '/')
		return;
	for (const char *p = strchr(cg + bl + 1, '/'); p; p = strchr(p + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(p - cg), cg);
		snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
		have[0] = on[0] = '\0';
		ctw_read_line(path, have, sizeof(have));
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
		ctw_read_line(path, on, sizeof(on));
		for (size_t i = 0; i < ARRAY_SIZE(v2_ctrls); i++) {
			if (!(want & (1u << i)) || !has_word(have, v2_ctrls[i]) ||
			    has_word(on, v2_ctrls[i]))
				continue;
			char buf[32];
			snprintf(buf, sizeof(buf), "+%s", v2_ctrls[i]);
			cg_write(dir, "cgroup.subtree_control", buf, NULL);
		}
	}
}

/* Every controller the resources need is in the container's
 * cgroup.controllers, else an error naming who would have to delegate it. */
static int v2_check(const struct cg_set *c, const struct ctw_spec_resources *r, struct ctw_err *err)
{
	static const char *const fields[][2] = {
		{"linux.resources.memory", "--memory"},	  {"linux.resources.cpu", "--cpus"},
		{"linux.resources.pids", "--pids-limit"}, {"linux.resources.cpu.cpus", NULL},
		{"linux.resources.blockIO", NULL},	  {"linux.resources.hugepageLimits", NULL},
	};
	unsigned need = v2_needed(r);
	if (!need)
		return 0;
	char path[PATH_MAX], ctrls[256] = "";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", c->v2);
	ctw_read_line(path, ctrls, sizeof(ctrls));
	for (size_t i = 0; i < ARRAY_SIZE(v2_ctrls); i++) {
		if (!(need & (1u << i)) || has_word(ctrls, v2_ctrls[i]))
			continue;
		const char *what = res_name(c, fields[i][0], fields[i][1]);
		char bctl[256] = "";
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", c->base);
		ctw_read_line(path, bctl, sizeof(bctl));
		if (!has_word(bctl, v2_ctrls[i]))
			return ctw_err_setx(err, EOPNOTSUPP,
					    "cgroup: %s needs the %s controller, which %s does "
					    "not enable for its children (cgroup.subtree_control: "
					    "\"%s\"; ctrwatch does not write to cgroups it did not "
					    "create: use an absolute %s below one that does)",
					    what, v2_ctrls[i], c->base, bctl,
					    c->run_flags ? "--cgroup-parent" : "cgroupsPath");
		return ctw_err_setx(err, EOPNOTSUPP,
				    "cgroup: %s needs the %s controller, which could not be "
				    "enabled below %s (available: \"%s\")",
				    what, v2_ctrls[i], c->base, ctrls);
	}
	return 0;
}

static int put_u64(const char *dir, const char *file, uint64_t v, struct ctw_err *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cg_write(dir, file, buf, err);
}

/* -1 (or less) is "max" on v2. */
static int put_max(const char *dir, const char *file, int64_t v, struct ctw_err *err)
{
	char buf[32];
	if (v < 0)
		ctw_strlcpy(buf, "max", sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return cg_write(dir, file, buf, err);
}

static bool file_exists(const char *dir, const char *file)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return ctw_path_exists(path);
}

/* ---- v2 ---- */

/* runc's conversions: shares [2, 262144] → weight [1, 10000]; blkio
 * weight [10, 1000] → io weight [1, 10000]. */
static uint64_t cpu_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static uint64_t io_weight(uint64_t w)
{
	if (w < 10)
		w = 10;
	if (w > 1000)
		w = 1000;
	return 1 + (w - 10) * 9999 / 990;
}

static int v2_memory(const struct cg_set *c, const struct ctw_spec_memory *m, struct ctw_err *err)
{
	const char *d = c->v2;
	int r = 0;
	if (m->limit.set && (r = put_max(d, "memory.max", m->limit.v, err)))
		return r;
	if (m->reservation.set && (r = put_max(d, "memory.low", m->reservation.v, err)))
		return r;
	/* swap is memory + swap (v1's memsw): v2's swap.max is the rest. */
	if (m->swap.set && file_exists(d, "memory.swap.max")) {
		int64_t sw = m->swap.v;
		if (sw >= 0 && m->limit.set && m->limit.v >= 0)
			sw = sw > m->limit.v ? sw - m->limit.v : 0;
		else if (sw >= 0 && !(m->limit.set && m->limit.v < 0))
			return ctw_err_setx(err, EINVAL,
					    "cgroup: memory.swap needs memory.limit on cgroup v2");
		r = put_max(d, "memory.swap.max", sw, err);
	}
	if (!r && m->disable_oom_killer)
		pr_warn("cgroup: disableOOMKiller is not available on cgroup v2 (ignored)");
	return r;
}

static int v2_cpu(const struct cg_set *c, const struct ctw_spec_cpu *cpu, struct ctw_err *err)
{
	const char *d = c->v2;
	int r = 0;
	if (cpu->realtime_runtime.set || cpu->realtime_period.set)
		return ctw_err_setx(err, EOPNOTSUPP,
				    "cgroup: linux.resources.cpu.realtime*: not available on "
				    "cgroup v2");
	if (cpu->shares.set && cpu->shares.v &&
	    (r = put_u64(d, "cpu.weight", cpu_weight(cpu->shares.v), err)))
		return r;
	if (cpu->quota.set || cpu->period.set) {
		char buf[64];
		uint64_t period = cpu->period.set && cpu->period.v ? cpu->period.v : 100000;
		if (cpu->quota.set && cpu->quota.v > 0)
			snprintf(buf, sizeof(buf), "%lld %llu", (long long)cpu->quota.v,
				 (unsigned long long)period);
		else
			snprintf(buf, sizeof(buf), "max %llu", (unsigned long long)period);
		if ((r = cg_write(d, "cpu.max", buf, err)))
			return r;
	}
	if (cpu->burst.set && (r = put_u64(d, "cpu.max.burst", cpu->burst.v, err)))
		return r;
	if (cpu->idle.set && (r = put_max(d, "cpu.idle", cpu->idle.v, err)))
		return r;
	if (cpu->cpus && *cpu->cpus && (r = cg_write(d, "cpuset.cpus", cpu->cpus, err)))
		return r;
	if (cpu->mems && *cpu->mems && (r = cg_write(d, "cpuset.mems", cpu->mems, err)))
		return r;
	return 0;
}

static int v2_io(const struct cg_set *c, const struct ctw_spec_blkio *b, struct ctw_err *err)
{
	static const char *const keys[CTW_BLKIO_MAX] = {[CTW_BLKIO_READ_BPS] = "rbps",
							[CTW_BLKIO_WRITE_BPS] = "wbps",
							[CTW_BLKIO_READ_IOPS] = "riops",
							[CTW_BLKIO_WRITE_IOPS] = "wiops"};
	const char *d = c->v2;
	char buf[96];
	int r = 0;
	if (b->weight.set && b->weight.v) {
		snprintf(buf, sizeof(buf), "default %llu",
			 (unsigned long long)io_weight(b->weight.v));
		if ((r = cg_write(d, "io.weight", buf, err)))
			return r;
	}
	for (size_t i = 0; i < b->n_dev[CTW_BLKIO_WEIGHT_DEVICE]; i++) {
		const struct ctw_spec_blkio_dev *w = &b->dev[CTW_BLKIO_WEIGHT_DEVICE][i];
		if (!w->weight.set)
			continue;
		snprintf(buf, sizeof(buf), "%lld:%lld %llu", (long long)w->major,
			 (long long)w->minor, (unsigned long long)io_weight(w->weight.v));
		if ((r = cg_write(d, "io.weight", buf, err)))
			return r;
	}
	for (int l = CTW_BLKIO_READ_BPS; l < CTW_BLKIO_MAX; l++) {
		for (size_t i = 0; i < b->n_dev[l]; i++) {
			const struct ctw_spec_blkio_dev *t = &b->dev[l][i];
			snprintf(buf, sizeof(buf), "%lld:%lld %s=%llu", (long long)t->major,
				 (long long)t->minor, keys[l], (unsigned long long)t->rate);
			if ((r = cg_write(d, "io.max", buf, err)))
				return r;
		}
	}
	return 0;
}

/* "2MB" → the file's name part, which is the same on both layouts. */
static int hugetlb(const char *dir, const struct ctw_spec_hugepage *h, bool v2, struct ctw_err *err)
{
	char file[64];
	snprintf(file, sizeof(file), "hugetlb.%s.%s", h->page_size, v2 ? "max" : "limit_in_bytes");
	if (!file_exists(dir, file))
		return ctw_err_setx(err, EOPNOTSUPP,
				    "cgroup: linux.resources.hugepageLimits: no %s pages on this "
				    "host",
				    h->page_size);
	return put_u64(dir, file, h->limit, err);
}

static int apply_v2(const struct cg_set *c, const struct ctw_spec_resources *r, struct ctw_err *err)
{
	int ret = v2_check(c, r, err);
	if (ret)
		return ret;
	if (r->net_class_id.set || r->net_priorities.n)
		return ctw_err_setx(err, EOPNOTSUPP,
				    "cgroup: linux.resources.network: no net_cls or net_prio on "
				    "cgroup v2");
	if ((ret = v2_memory(c, &r->memory, err)) || (ret = v2_cpu(c, &r->cpu, err)) ||
	    (ret = v2_io(c, &r->blkio, err)))
		return ret;
	if (r->pids_limit.set && r->pids_limit.v != 0 &&
	    (ret = put_max(c->v2, "pids.max", r->pids_limit.v, err)))
		return ret;
	for (size_t i = 0; i < r->n_hugepages; i++)
		if ((ret = hugetlb(c->v2, &r->hugepages[i], true, err)))
			return ret;
	return 0;
}

/* ---- v1 (hybrid) ---- */

/* A controller's directory, or an error saying the host lacks it. */
static int v1_dir(const struct cg_set *c, enum cg_ctrl ctrl, const char *what, const char **out,
		  struct ctw_err *err)
{
	*out = cg_set_v1(c, ctrl);
	if (!*out)
		return ctw_err_setx(err, EOPNOTSUPP,
				    "cgroup: %s needs the %s controller, which is not mounted "
				    "on this host",
				    what, cg_ctrl_name(ctrl));
	return 0;
}

static int v1_memory(const struct cg_set *c, const struct ctw_spec_memory *m, struct ctw_err *err)
{
	const char *d;
	int r;
	if (!m->limit.set && !m->reservation.set && !m->swap.set && !m->swappiness.set &&
	    !m->kernel_tcp.set && !m->disable_oom_killer_set && !m->use_hierarchy_set)
		return 0;
	if ((r = v1_dir(c, CG_C_MEMORY, res_name(c, "linux.resources.memory", "--memory"), &d,
			err)))
		return r;
	/* memsw must stay >= the limit: when the limit grows past the old
	 * memsw, memsw goes first. */
	bool memsw = file_exists(d, "memory.memsw.limit_in_bytes");
	if (m->limit.set) {
		r = put_max(d, "memory.limit_in_bytes", m->limit.v, NULL);
		if (r && memsw && m->swap.set) {
			r = put_max(d, "memory.memsw.limit_in_bytes", m->swap.v, err);
			memsw = false;
			if (!r)
				r = put_max(d, "memory.limit_in_bytes", m->limit.v, err);
		} else if (r) {
			r = put_max(d, "memory.limit_in_bytes", m->limit.v, err);
		}
		if (r)
			return r;
	}
	if (m->swap.set && memsw && (r = put_max(d, "memory.memsw.limit_in_bytes", m->swap.v, err)))
		return r;
	if (m->reservation.set &&
	    (r = put_max(d, "memory.soft_limit_in_bytes", m->reservation.v, err)))
		return r;
	if (m->swappiness.set && (r = put_u64(d, "memory.swappiness", m->swappiness.v, err)))
		return r;
	if (m->kernel_tcp.set &&
	    (r = put_max(d, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp.v, err)))
		return r;
	if (m->disable_oom_killer_set && m->disable_oom_killer &&
	    (r = cg_write(d, "memory.oom_control", "1", err)))
		return r;
	return 0;
}

static int v1_cpu(const struct cg_set *c, const struct ctw_spec_cpu *cpu, struct ctw_err *err)
{
	const char *d;
	int r;
	bool any = (cpu->shares.set && cpu->shares.v) || cpu->quota.set || cpu->period.set ||
		   cpu->burst.set || cpu->realtime_runtime.set || cpu->realtime_period.set ||
		   cpu->idle.set;
	if (any) {
		if ((r = v1_dir(c, CG_C_CPU, res_name(c, "linux.resources.cpu", "--cpus"), &d,
				err)))
			return r;
		if (cpu->shares.set && cpu->shares.v &&
		    (r = put_u64(d, "cpu.shares", cpu->shares.v, err)))
			return r;
		if (cpu->period.set && cpu->period.v &&
		    (r = put_u64(d, "cpu.cfs_period_us", cpu->period.v, err)))
			return r;
		if (cpu->quota.set &&
		    (r = put_max(d, "cpu.cfs_quota_us", cpu->quota.v > 0 ? cpu->quota.v : -1, err)))
			return r;
		if (cpu->burst.set && (r = put_u64(d, "cpu.cfs_burst_us", cpu->burst.v, err)))
			return r;
		if (cpu->realtime_period.set &&
		    (r = put_u64(d, "cpu.rt_period_us", cpu->realtime_period.v, err)))
			return r;
		if (cpu->realtime_runtime.set &&
		    (r = put_max(d, "cpu.rt_runtime_us", cpu->realtime_runtime.v, err)))
			return r;
		if (cpu->idle.set && (r = put_max(d, "cpu.idle", cpu->idle.v, err)))
			return r;
	}
	if ((cpu->cpus && *cpu->cpus) || (cpu->mems && *cpu->mems)) {
		if ((r = v1_dir(c, CG_C_CPUSET, "linux.resources.cpu.cpus", &d, err)))
			return r;
		if (cpu->cpus && *cpu->cpus && (r = cg_write(d, "cpuset.cpus", cpu->cpus, err)))
			return r;
		if (cpu->mems && *cpu->mems && (r = cg_write(d, "cpuset.mems", cpu->mems, err)))
			return r;
	}
	return 0;
}

static int v1_blkio(const struct cg_set *c, const struct ctw_spec_blkio *b, struct ctw_err *err)
{
	static const char *const files[CTW_BLKIO_MAX] = {
		[CTW_BLKIO_READ_BPS] = "blkio.throttle.read_bps_device",
		[CTW_BLKIO_WRITE_BPS] = "blkio.throttle.write_bps_device",
		[CTW_BLKIO_READ_IOPS] = "blkio.throttle.read_iops_device",
		[CTW_BLKIO_WRITE_IOPS] = "blkio.throttle.write_iops_device",
	};
	if (!blkio_set(b))
		return 0;
	const char *d;
	char buf[96];
	int r = v1_dir(c, CG_C_BLKIO, "linux.resources.blockIO", &d, err);
	if (r)
		return r;
	/* With BFQ the weight files carry its name. */
	bool bfq = !file_exists(d, "blkio.weight") && file_exists(d, "blkio.bfq.weight");
	if (b->weight.set && b->weight.v &&
	    (r = put_u64(d, bfq ? "blkio.bfq.weight" : "blkio.weight", b->weight.v, err)))
		return r;
	if (b->leaf_weight.set && b->leaf_weight.v &&
	    (r = put_u64(d, "blkio.leaf_weight", b->leaf_weight.v, err)))
		return r;
	for (size_t i = 0; i < b->n_dev[CTW_BLKIO_WEIGHT_DEVICE]; i++) {
		const struct ctw_spec_blkio_dev *w = &b->dev[CTW_BLKIO_WEIGHT_DEVICE][i];
		snprintf(buf, sizeof(buf), "%lld:%lld %llu", (long long)w->major,
			 (long long)w->minor, (unsigned long long)w->weight.v);
		if (w->weight.set &&
		    (r = cg_write(d, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", buf,
				  err)))
			return r;
	}
	for (int l = CTW_BLKIO_READ_BPS; l < CTW_BLKIO_MAX; l++) {
		for (size_t i = 0; i < b->n_dev[l]; i++) {
			const struct ctw_spec_blkio_dev *t = &b->dev[l][i];
			snprintf(buf, sizeof(buf), "%lld:%lld %llu", (long long)t->major,
				 (long long)t->minor, (unsigned long long)t->rate);
			if ((r = cg_write(d, files[l], buf, err)))
				return r;
		}
	}
	return 0;
}

static int apply_v1(const struct cg_set *c, const struct ctw_spec_resources *res,
		    struct ctw_err *err)
{
	const char *d;
	int r;
	if ((r = v1_memory(c, &res->memory, err)) || (r = v1_cpu(c, &res->cpu, err)) ||
	    (r = v1_blkio(c, &res->blkio, err)))
		return r;
	if (res->pids_limit.set && res->pids_limit.v != 0) {
		if ((r = v1_dir(c, CG_C_PIDS, res_name(c, "linux.resources.pids", "--pids-limit"),
				&d, err)) ||
		    (r = put_max(d, "pids.max", res->pids_limit.v, err)))
			return r;
	}
	for (size_t i = 0; i < res->n_hugepages; i++)
		if ((r = v1_dir(c, CG_C_HUGETLB, "linux.resources.hugepageLimits", &d, err)) ||
		    (r = hugetlb(d, &res->hugepages[i], false, err)))
			return r;
	if (res->net_class_id.set &&
	    ((r = v1_dir(c, CG_C_NET_CLS, "linux.resources.network.classID", &d, err)) ||
	     (r = put_u64(d, "net_cls.classid", res->net_class_id.v, err))))
		return r;
	for (size_t i = 0; i < res->net_priorities.n; i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "%s %s", res->net_priorities.v[i].key,
			 res->net_priorities.v[i].value);
		if ((r = v1_dir(c, CG_C_NET_PRIO, "linux.resources.network.priorities", &d, err)) ||
		    (r = cg_write(d, "net_prio.ifpriomap", buf, err)))
			return r;
	}
	return 0;
}

/* Values whose 0 means "not set" to runc (libcontainer's config: 0 is
 * "leave it"): engines send whole objects with zeros for what they do not
 * change (dockerd's update: memory.limit 0 would be refused as below the
 * usage, or remove the limit). */
static void zero_is_unset(struct ctw_spec_resources *r)
{
	struct ctw_oi64 *i64[] = {&r->memory.limit,	    &r->memory.reservation, &r->memory.swap,
				  &r->memory.kernel,	    &r->memory.kernel_tcp,  &r->cpu.quota,
				  &r->cpu.realtime_runtime, &r->pids_limit};
	struct ctw_ou64 *u64[] = {&r->cpu.shares, &r->cpu.period, &r->cpu.realtime_period,
				  &r->blkio.weight, &r->blkio.leaf_weight};
	for (size_t i = 0; i < ARRAY_SIZE(i64); i++)
		if (i64[i]->set && !i64[i]->v)
			i64[i]->set = false;
	for (size_t i = 0; i < ARRAY_SIZE(u64); i++)
		if (u64[i]->set && !u64[i]->v)
			u64[i]->set = false;
}

int cg_set_apply(const struct cg_set *c, const struct ctw_spec_resources *given,
		 struct ctw_err *err)
{
	struct ctw_spec_resources copy = *given; /* shallow: only flags change */
	const struct ctw_spec_resources *res = &copy;
	zero_is_unset(&copy);
	int r = cg_layout() == CG_HYBRID ? apply_v1(c, res, err) : apply_v2(c, res, err);
	if (r)
		return r;
	/* unified: files of the v2 cgroup, as written (on hybrid hosts too,
	 * where the v2 tree offers no controller: the kernel says no). */
	for (size_t i = 0; i < res->unified.n; i++) {
		r = cg_write(c->v2, res->unified.v[i].key, res->unified.v[i].value, err);
		if (r)
			return ctw_err_prefix(err, "linux.resources.unified.%s",
					      res->unified.v[i].key);
	}
	return 0;
}

int cg_cpuset_inherit(const char *dir, struct ctw_err *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char parent[PATH_MAX], val[4096];
	ctw_strlcpy(parent, dir, sizeof(parent));
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (ctw_read_line(path, val, sizeof(val)) == 0 && val[0])
			continue;
		/* The parent may be new and empty too: from the top down. */
		if (cg_cpuset_inherit(parent, err))
			return -EIO;
		snprintf(path, sizeof(path), "%s/%s", parent, files[i]);
		if (ctw_read_line(path, val, sizeof(val)) || !val[0])
			continue;
		int r = cg_write(dir, files[i], val, err);
		if (r)
			return r;
	}
	return 0;
}

/* ---- what the OCI commands read back ---- */

int cg_set_freeze(const struct cg_set *c, bool frozen, struct ctw_err *err)
{
	int r = cg_write(c->v2, "cgroup.freeze", frozen ? "1" : "0", err);
	if (r)
		return r;
	/* Done when cgroup.events says so (every task stopped). */
	for (int i = 0; i < 500; i++) {
		if (cg_set_frozen(c) == frozen)
			return 0;
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	return ctw_err_setx(err, ETIMEDOUT, "cgroup: %s did not %s within a second", c->v2,
			    frozen ? "freeze" : "thaw");
}

bool cg_set_frozen(const struct cg_set *c)
{
	return c->v2[0] && cg_read_key(c->v2, "cgroup.events", "frozen") == 1;
}

static void pids_in(const char *dir, int depth, pid_t **v, size_t *n)
{
	char path[PATH_MAX], *data;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (ctw_read_file(path, &data, NULL) == 0) {
		for (char *save, *t = strtok_r(data, "\n", &save); t;
		     t = strtok_r(NULL, "\n", &save)) {
			*v = xrealloc(*v, (*n + 1) * sizeof(pid_t));
			(*v)[(*n)++] = (pid_t)atoi(t);
		}
		free(data);
	}
	DIR *d = depth < 16 ? opendir(dir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		pids_in(path, depth + 1, v, n);
	}
	if (d)
		closedir(d);
}

int cg_set_pids(const struct cg_set *c, pid_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!c->v2[0])
		return -ENOENT;
	pids_in(c->v2, 0, out, n);
	return 0;
}

int cg_set_signal(const struct cg_set *c, int sig)
{
	if (sig == SIGKILL && cg_write(c->v2, "cgroup.kill", "1", NULL) == 0)
		return 0;
	pid_t *pids;
	size_t n;
	int r = cg_set_pids(c, &pids, &n);
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH && !r)
			r = -errno;
	free(pids);
	return r;
}

/* ---- statistics, in runc's `events --stats` shape ---- */

static uint64_t read_u64(const char *dir, const char *file)
{
	char path[PATH_MAX], buf[64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (ctw_read_line(path, buf, sizeof(buf)))
		return 0;
	return strcmp(buf, "max") ? strtoull(buf, NULL, 10) : UINT64_MAX;
}

/* "key value" lines into an object. */
static json_t *flat_keyed(const char *dir, const char *file)
{
	char path[PATH_MAX], *data;
	json_t *o = json_object();
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (ctw_read_file(path, &data, NULL))
		return o;
	for (char *save, *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		json_object_set_new(o, l, json_integer((json_int_t)strtoull(sp + 1, NULL, 10)));
	}
	free(data);
	return o;
}

static json_t *jkey(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_integer(json_is_integer(v) ? json_integer_value(v) : 0);
}

static json_t *stats_v2(const struct cg_set *c)
{
	const char *d = c->v2;
	json_t *cpu_stat = flat_keyed(d, "cpu.stat"), *mem_stat = flat_keyed(d, "memory.stat");
	json_t *usage = json_pack(
		"{s:I, s:[], s:I, s:I}", "total",
		(json_int_t)json_integer_value(json_object_get(cpu_stat, "usage_usec")) * 1000,
		"percpu", "kernel",
		(json_int_t)json_integer_value(json_object_get(cpu_stat, "system_usec")) * 1000,
		"user",
		(json_int_t)json_integer_value(json_object_get(cpu_stat, "user_usec")) * 1000);
	json_t *thr = json_pack(
		"{s:o, s:o, s:I}", "periods", jkey(cpu_stat, "nr_periods"), "throttledPeriods",
		jkey(cpu_stat, "nr_throttled"), "throttledTime",
		(json_int_t)json_integer_value(json_object_get(cpu_stat, "throttled_usec")) * 1000);
	uint64_t limit = read_u64(d, "memory.max");
	json_t *mem =
		json_pack("{s:{s:I, s:I, s:I, s:i}, s:{s:I, s:I}, s:O}", "usage", "usage",
			  (json_int_t)read_u64(d, "memory.current"), "max",
			  (json_int_t)read_u64(d, "memory.peak"), "limit",
			  (json_int_t)(limit == UINT64_MAX ? INT64_MAX : limit), "failcnt", 0,
			  "swap", "usage", (json_int_t)read_u64(d, "memory.swap.current"), "limit",
			  (json_int_t)read_u64(d, "memory.swap.max"), "raw", mem_stat);
	json_object_set_new(mem, "cache", jkey(mem_stat, "file"));
	uint64_t plim = read_u64(d, "pids.max");
	json_t *o = json_pack("{s:{s:o, s:o}, s:o, s:{s:I, s:I}}", "cpu", "usage", usage,
			      "throttling", thr, "memory", mem, "pids", "current",
			      (json_int_t)read_u64(d, "pids.current"), "limit",
			      (json_int_t)(plim == UINT64_MAX ? 0 : plim));
	json_decref(cpu_stat);
	json_decref(mem_stat);
	return o;
}

static json_t *percpu_v1(const char *d)
{
	char path[PATH_MAX], *data;
	json_t *a = json_array();
	snprintf(path, sizeof(path), "%s/cpuacct.usage_percpu", d);
	if (ctw_read_file(path, &data, NULL))
		return a;
	for (char *save, *t = strtok_r(data, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		json_array_append_new(a, json_integer((json_int_t)strtoull(t, NULL, 10)));
	free(data);
	return a;
}

static json_t *stats_v1(const struct cg_set *c)
{
	const char *acct = cg_set_v1(c, CG_C_CPUACCT), *cpu = cg_set_v1(c, CG_C_CPU);
	const char *mem = cg_set_v1(c, CG_C_MEMORY), *pids = cg_set_v1(c, CG_C_PIDS);
	const char *none = "/nonexistent";
	/* cpuacct.stat is in clock ticks (USER_HZ): nanoseconds as runc. */
	long hz = sysconf(_SC_CLK_TCK);
	json_t *ast = flat_keyed(acct ? acct : none, "cpuacct.stat");
	json_t *cst = flat_keyed(cpu ? cpu : none, "cpu.stat");
	json_t *mst = flat_keyed(mem ? mem : none, "memory.stat");
	json_int_t tick = hz > 0 ? 1000000000 / hz : 10000000;
	json_t *usage = json_pack(
		"{s:I, s:o, s:I, s:I}", "total",
		(json_int_t)read_u64(acct ? acct : none, "cpuacct.usage"), "percpu",
		percpu_v1(acct ? acct : none), "kernel",
		(json_int_t)json_integer_value(json_object_get(ast, "system")) * tick, "user",
		(json_int_t)json_integer_value(json_object_get(ast, "user")) * tick);
	json_t *thr =
		json_pack("{s:o, s:o, s:o}", "periods", jkey(cst, "nr_periods"), "throttledPeriods",
			  jkey(cst, "nr_throttled"), "throttledTime", jkey(cst, "throttled_time"));
	const char *m = mem ? mem : none;
	json_t *memo =
		json_pack("{s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}, s:O}", "usage", "usage",
			  (json_int_t)read_u64(m, "memory.usage_in_bytes"), "max",
			  (json_int_t)read_u64(m, "memory.max_usage_in_bytes"), "limit",
			  (json_int_t)read_u64(m, "memory.limit_in_bytes"), "failcnt",
			  (json_int_t)read_u64(m, "memory.failcnt"), "swap", "usage",
			  (json_int_t)read_u64(m, "memory.memsw.usage_in_bytes"), "max",
			  (json_int_t)read_u64(m, "memory.memsw.max_usage_in_bytes"), "limit",
			  (json_int_t)read_u64(m, "memory.memsw.limit_in_bytes"), "failcnt",
			  (json_int_t)read_u64(m, "memory.memsw.failcnt"), "raw", mst);
	json_object_set_new(memo, "cache", jkey(mst, "cache"));
	uint64_t plim = read_u64(pids ? pids : none, "pids.max");
	json_t *o = json_pack("{s:{s:o, s:o}, s:o, s:{s:I, s:I}}", "cpu", "usage", usage,
			      "throttling", thr, "memory", memo, "pids", "current",
			      (json_int_t)read_u64(pids ? pids : none, "pids.current"), "limit",
			      (json_int_t)(plim == UINT64_MAX ? 0 : plim));
	json_decref(ast);
	json_decref(cst);
	json_decref(mst);
	return o;
}

char *cg_set_stats_json(const struct cg_set *c, const char *id)
{
	json_t *data = cg_layout() == CG_HYBRID ? stats_v1(c) : stats_v2(c);
	json_t *o = json_pack("{s:s, s:s, s:o}", "type", "stats", "id", id, "data", data);
	char *txt = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return txt;
}
