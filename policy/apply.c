// SPDX-License-Identifier: Apache-2.0
/*
 * Put a compiled policy into the kernel.  Everything lives pinned under
 * ctw_pin_dir()/policy: the maps (pinned by name by libbpf, so a second
 * load reuses them) and the XDP and cgroup links (link_xdp_<ifname>,
 * link_cg_<cgid>_{eg,in}), so enforcement does not depend on any process.
 *
 * Apply = fill the inactive slot completely, attach what is new, flip the
 * active slot in one map update, then detach what the new policy no longer
 * names.  A process that dies anywhere in between leaves the old policy
 * enforced (the flip is the only visible step).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <linux/if_link.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pol_internal.h"
#include "../exporters/exporters.h"
#include "cgroup_fw.h"
#include "xdp_fw.skel.h"
#include "cgroup_fw.skel.h"

static const char *const map_names[] = {
	"ctw_pol_cfg",	"ctw_pol_rules", "ctw_pol_stats", "ctw_pol_meta", "ctw_pol_attach",
	"ctw_xdp_lpm4", "ctw_xdp_lpm6",	 "ctw_cg_lpm4",	  "ctw_cg_lpm6",  "ctw_cg_dns",
};
enum { M_CFG, M_RULES, M_STATS, M_META, M_ATTACH, M_LPM4, M_LPM6, M_CG4, M_CG6, M_DNS, M_N };

struct fw {
	int fd[M_N];
	struct xdp_fw_bpf *x;
	struct cgroup_fw_bpf *cg;
	char *dir;
	int ncpu;
};

static char *pin_dir(void)
{
	return xasprintf("%s/%s", ctw_pin_dir(), CTW_FW_PIN_SUBDIR);
}

char *ctw_policy_state_path(void)
{
	return xasprintf("%s/policy/active.yaml", ctw_state_dir());
}

static void fw_close(struct fw *f)
{
	for (int i = 0; i < M_N; i++)
		if (f->fd[i] > 0 && !(f->x || f->cg))
			close(f->fd[i]);
	xdp_fw_bpf__destroy(f->x);
	cgroup_fw_bpf__destroy(f->cg);
	free(f->dir);
	memset(f, 0, sizeof(*f));
}

/* The bpffs that holds our pins; mounted here when the host has none. */
static int ensure_bpffs(struct ctw_err *err)
{
	struct statfs sf;
	const char *root = ctw_pin_dir();

	if (ctw_str_has_prefix(root, "/sys/fs/bpf") &&
	    (statfs("/sys/fs/bpf", &sf) < 0 || sf.f_type != BPF_FS_MAGIC)) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
			return ctw_err_set(err, errno, "mount bpffs on /sys/fs/bpf");
	}
	char *dir = pin_dir();
	int r = ctw_mkdir_p(dir, 0700);
	free(dir);
	if (r < 0)
		return ctw_err_set(err, -r, "create %s/%s", root, CTW_FW_PIN_SUBDIR);
	return 0;
}

/* Open the pinned maps only (show, stats): -ENOENT when no policy. */
static int fw_open_pinned(struct fw *f, struct ctw_err *err)
{
	memset(f, 0, sizeof(*f));
	f->dir = pin_dir();
	f->ncpu = libbpf_num_possible_cpus();
	for (int i = 0; i < M_N; i++) {
		char *p = xasprintf("%s/%s", f->dir, map_names[i]);
		f->fd[i] = bpf_obj_get(p);
		int e = errno;
		free(p);
		if (f->fd[i] < 0) {
			f->fd[i] = 0;
			fw_close(f);
			if (e == ENOENT)
				return ctw_err_setx(err, ENOENT, "no policy applied");
			return ctw_err_set(err, e, "open pinned map %s", map_names[i]);
		}
	}
	return 0;
}

/* Load both programs, reusing (or creating and pinning) the maps. */
static int fw_load(struct fw *f, struct ctw_err *err)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = ensure_bpffs(err);
	if (r < 0)
		return r;
	f->dir = pin_dir();
	f->ncpu = libbpf_num_possible_cpus();
	struct bpf_object_open_opts o = {.sz = sizeof(o), .pin_root_path = f->dir};
	f->x = xdp_fw_bpf__open_opts(&o);
	if (!f->x) {
		r = ctw_err_set(err, errno, "open xdp_fw");
		goto fail;
	}
	r = xdp_fw_bpf__load(f->x);
	if (r) {
		r = ctw_err_set(err, -r, "load xdp_fw");
		goto fail;
	}
	f->cg = cgroup_fw_bpf__open_opts(&o);
	if (!f->cg) {
		r = ctw_err_set(err, errno, "open cgroup_fw");
		goto fail;
	}
	r = cgroup_fw_bpf__load(f->cg);
	if (r) {
		r = ctw_err_set(err, -r, "load cgroup_fw");
		goto fail;
	}
	f->fd[M_CFG] = bpf_map__fd(f->x->maps.ctw_pol_cfg);
	f->fd[M_RULES] = bpf_map__fd(f->x->maps.ctw_pol_rules);
	f->fd[M_STATS] = bpf_map__fd(f->x->maps.ctw_pol_stats);
	f->fd[M_META] = bpf_map__fd(f->x->maps.ctw_pol_meta);
	f->fd[M_ATTACH] = bpf_map__fd(f->x->maps.ctw_pol_attach);
	f->fd[M_LPM4] = bpf_map__fd(f->x->maps.ctw_xdp_lpm4);
	f->fd[M_LPM6] = bpf_map__fd(f->x->maps.ctw_xdp_lpm6);
	f->fd[M_CG4] = bpf_map__fd(f->cg->maps.ctw_cg_lpm4);
	f->fd[M_CG6] = bpf_map__fd(f->cg->maps.ctw_cg_lpm6);
	f->fd[M_DNS] = bpf_map__fd(f->cg->maps.ctw_cg_dns);
	return 0;
fail:
	fw_close(f);
	return r;
}

static int read_cfg(struct fw *f, struct ctw_fw_cfg *cfg)
{
	uint32_t zero = 0;
	memset(cfg, 0, sizeof(*cfg));
	return bpf_map_lookup_elem(f->fd[M_CFG], &zero, cfg) < 0 ? -errno : 0;
}

/* Delete every key of a slot from a trie or hash.  `slot_of` tells a key's
 * slot. */
static int clear_keys(int fd, size_t ksz, uint32_t slot, uint32_t (*slot_of)(const void *))
{
	uint8_t *keys = NULL, cur[64], next[64];
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		if (slot_of(next) == slot) {
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				keys = xrealloc(keys, cap * ksz);
			}
			memcpy(keys + n * ksz, next, ksz);
			n++;
		}
		memcpy(cur, next, ksz);
		prev = cur;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * ksz);
	free(keys);
	return 0;
}

static uint32_t slot_xdp4(const void *k)
{
	return ntohl(((const struct ctw_xdp_lpm4_key *)k)->slot);
}
static uint32_t slot_xdp6(const void *k)
{
	return ntohl(((const struct ctw_xdp_lpm6_key *)k)->slot);
}
static uint32_t slot_cg4(const void *k)
{
	return ntohl(((const struct ctw_cg_lpm4_key *)k)->slot_dir) >> 1;
}
static uint32_t slot_cg6(const void *k)
{
	return ntohl(((const struct ctw_cg_lpm6_key *)k)->slot_dir) >> 1;
}
static uint32_t slot_dns(const void *k)
{
	return ((const struct ctw_cg_dns_key *)k)->slot;
}

static int write_lpm(struct fw *f, uint32_t slot, const struct ctw_pol_lpm_entry *e)
{
	struct ctw_fw_match m = {.n = e->n};
	memcpy(m.ids, e->ids, sizeof(m.ids));
	if (e->scope == CTW_FW_SCOPE_XDP) {
		if (e->family == AF_INET) {
			struct ctw_xdp_lpm4_key k = {.prefixlen = CTW_FW_LPM_SLOT_BITS + e->plen,
						     .slot = htonl(slot)};
			memcpy(k.addr, e->addr, 4);
			return bpf_map_update_elem(f->fd[M_LPM4], &k, &m, BPF_ANY);
		}
		struct ctw_xdp_lpm6_key k = {.prefixlen = CTW_FW_LPM_SLOT_BITS + e->plen,
					     .slot = htonl(slot)};
		memcpy(k.addr, e->addr, 16);
		return bpf_map_update_elem(f->fd[M_LPM6], &k, &m, BPF_ANY);
	}
	uint32_t sd = htonl(slot << 1 | e->dir);
	if (e->family == AF_INET) {
		struct ctw_cg_lpm4_key k = {.prefixlen = CTW_CG_LPM_FIXED_BITS + e->plen,
					    .slot_dir = sd,
					    .cgroup_id = e->cgid};
		memcpy(k.addr, e->addr, 4);
		return bpf_map_update_elem(f->fd[M_CG4], &k, &m, BPF_ANY);
	}
	struct ctw_cg_lpm6_key k = {
		.prefixlen = CTW_CG_LPM_FIXED_BITS + e->plen, .slot_dir = sd, .cgroup_id = e->cgid};
	memcpy(k.addr, e->addr, 16);
	return bpf_map_update_elem(f->fd[M_CG6], &k, &m, BPF_ANY);
}

static void copy_counter(struct fw *f, uint32_t from, uint32_t to)
{
	struct ctw_fw_counter *v = xcalloc((size_t)f->ncpu, sizeof(*v));
	if (bpf_map_lookup_elem(f->fd[M_STATS], &from, v) == 0)
		bpf_map_update_elem(f->fd[M_STATS], &to, v, BPF_ANY);
	free(v);
}

static bool pinned(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Attach (or re-point) one link and pin it. */
static int attach_one(struct fw *f, const char *pin, struct bpf_program *prog, int ifindex,
		      int cgfd, struct ctw_err *err)
{
	int lfd = bpf_obj_get(pin);
	if (lfd >= 0) {
		int r = bpf_link_update(lfd, bpf_program__fd(prog), NULL);
		close(lfd);
		if (r == 0)
			return 0;
		/* A link whose device or cgroup went away: start over. */
		unlink(pin);
	}
	struct bpf_link *l = ifindex ? bpf_program__attach_xdp(prog, ifindex)
				     : bpf_program__attach_cgroup(prog, cgfd);
	if (!l)
		return ctw_err_set(err, errno, "attach %s", bpf_program__name(prog));
	int r = bpf_link__pin(l, pin);
	bpf_link__destroy(l); /* closes our fd; the pin keeps the link */
	if (r)
		return ctw_err_set(err, -r, "pin link %s", pin);
	return 0;
}

struct want {
	char **names;
	size_t n;
};

static bool wanted(const struct want *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->names[i], name))
			return true;
	return false;
}

static void want_add(struct want *w, char *name)
{
	w->names = xrealloc(w->names, (w->n + 1) * sizeof(*w->names));
	w->names[w->n++] = name;
}

static void want_free(struct want *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->names[i]);
	free(w->names);
}

static int lock_state(void)
{
	char *dir = xasprintf("%s/policy", ctw_state_dir());
	ctw_mkdir_p(dir, 0700);
	char *p = xasprintf("%s/lock", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	free(dir);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

static void save_state(const struct ctw_policy *p)
{
	char *path = ctw_policy_state_path();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		ctw_policy_write_yaml(p, f);
		fclose(f);
		ctw_write_file_atomic(path, buf, len);
	}
	free(buf);
	free(path);
}

static int apply_compiled(struct fw *f, const struct ctw_pol_compiled *c, struct ctw_err *err)
{
	const struct ctw_fw_rule *rules = c->rules;
	const struct ctw_fw_meta *meta = c->meta;
	struct ctw_fw_cfg cfg;
	struct want keep = {0};
	uint32_t old, s, key;
	int r;

	r = read_cfg(f, &cfg);
	if (r < 0)
		return ctw_err_set(err, -r, "read policy config");
	old = cfg.active & 1;
	s = old ^ 1;

	/* 1. empty the inactive slot */
	clear_keys(f->fd[M_LPM4], sizeof(struct ctw_xdp_lpm4_key), s, slot_xdp4);
	clear_keys(f->fd[M_LPM6], sizeof(struct ctw_xdp_lpm6_key), s, slot_xdp6);
	clear_keys(f->fd[M_CG4], sizeof(struct ctw_cg_lpm4_key), s, slot_cg4);
	clear_keys(f->fd[M_CG6], sizeof(struct ctw_cg_lpm6_key), s, slot_cg6);
	clear_keys(f->fd[M_DNS], sizeof(struct ctw_cg_dns_key), s, slot_dns);
	{
		struct ctw_fw_counter *zero = xcalloc((size_t)f->ncpu, sizeof(*zero));
		for (uint32_t i = 0; i < CTW_FW_CNT_PER_SLOT; i++) {
			key = s * CTW_FW_CNT_PER_SLOT + i;
			bpf_map_update_elem(f->fd[M_STATS], &key, zero, BPF_ANY);
		}
		free(zero);
	}

	/* 2. fill it */
	for (uint32_t i = 0; i < CTW_FW_MAX_RULES; i++) {
		struct ctw_fw_rule zr = {0};
		struct ctw_fw_meta zm = {0};
		key = s * CTW_FW_MAX_RULES + i;
		r = bpf_map_update_elem(f->fd[M_RULES], &key, i < c->n_rules ? &rules[i] : &zr,
					BPF_ANY);
		if (r == 0)
			r = bpf_map_update_elem(f->fd[M_META], &key,
						i < c->n_rules ? &meta[i] : &zm, BPF_ANY);
		if (r < 0)
			return ctw_err_set(err, errno, "write rule %u", i);
	}
	for (size_t i = 0; i < c->n_lpm; i++) {
		if (write_lpm(f, s, &c->lpm[i]) < 0)
			return ctw_err_set(err, errno, "write prefix %zu of %zu", i, c->n_lpm);
	}
	for (size_t i = 0; i < c->n_dns; i++) {
		struct ctw_cg_dns_key k = {
			.slot = s, .cgroup_id = c->dns[i].cgid, .hash = c->dns[i].hash};
		struct ctw_cg_dns_val v = {.exact_rule = c->dns[i].exact_rule,
					   .wild_rule = c->dns[i].wild_rule,
					   .flags = c->dns[i].flags};
		if (bpf_map_update_elem(f->fd[M_DNS], &k, &v, BPF_ANY) < 0)
			return ctw_err_set(err, errno, "write DNS name %zu", i);
	}
	/* Counters carry on for rules that keep their name. */
	if (cfg.slot[old].generation) {
		for (uint32_t i = 0; i < c->n_rules; i++) {
			for (uint32_t j = 0; j < cfg.slot[old].n_rules && j < CTW_FW_MAX_RULES;
			     j++) {
				struct ctw_fw_meta om;
				key = old * CTW_FW_MAX_RULES + j;
				if (bpf_map_lookup_elem(f->fd[M_META], &key, &om) < 0)
					continue;
				if (strcmp(om.name, meta[i].name) || om.scope != meta[i].scope)
					continue;
				copy_counter(f, old * CTW_FW_CNT_PER_SLOT + j,
					     s * CTW_FW_CNT_PER_SLOT + i);
				break;
			}
		}
		for (uint32_t i = 0; i < CTW_FW_CNT_EXTRA; i++)
			copy_counter(f, old * CTW_FW_CNT_PER_SLOT + CTW_FW_MAX_RULES + i,
				     s * CTW_FW_CNT_PER_SLOT + CTW_FW_MAX_RULES + i);
	}

	/* 3. attach what is new (the programs still see the old slot) */
	struct ctw_fw_attach att[CTW_FW_MAX_ATTACH];
	size_t natt = 0;
	memset(att, 0, sizeof(att));
	for (size_t i = 0; i < c->n_ifaces; i++) {
		char *name = xasprintf("link_xdp_%s", c->ifaces[i].name);
		char *pin = xasprintf("%s/%s", f->dir, name);
		want_add(&keep, name);
		r = attach_one(f, pin, f->x->progs.ctw_xdp_fw, (int)c->ifaces[i].ifindex, -1, err);
		free(pin);
		if (r < 0) {
			ctw_err_prefix(err, "interface %s", c->ifaces[i].name);
			goto out;
		}
		struct bpf_xdp_query_opts q = {.sz = sizeof(q)};
		bpf_xdp_query((int)c->ifaces[i].ifindex, 0, &q);
		if (natt < CTW_FW_MAX_ATTACH) {
			ctw_strlcpy(att[natt].ifname, c->ifaces[i].name, sizeof(att[natt].ifname));
			att[natt].ifindex = c->ifaces[i].ifindex;
			att[natt].mode = q.attach_mode;
			natt++;
		}
	}
	for (size_t i = 0; i < c->n_cgroups; i++) {
		int cgfd = open(c->cgroups[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0) {
			r = ctw_err_set(err, errno, "open cgroup %s", c->cgroups[i].path);
			goto out;
		}
		for (int d = 0; d < 2; d++) {
			char *name =
				xasprintf("link_cg_%llu_%s", (unsigned long long)c->cgroups[i].cgid,
					  d ? "eg" : "in");
			char *pin = xasprintf("%s/%s", f->dir, name);
			want_add(&keep, name);
			r = attach_one(f, pin,
				       d ? f->cg->progs.ctw_cg_egress : f->cg->progs.ctw_cg_ingress,
				       0, cgfd, err);
			free(pin);
			if (r < 0) {
				close(cgfd);
				ctw_err_prefix(err, "cgroup %s", c->cgroups[i].path);
				goto out;
			}
		}
		close(cgfd);
		if (natt < CTW_FW_MAX_ATTACH) {
			ctw_strlcpy(att[natt].ifname, "cgroup", sizeof(att[natt].ifname));
			att[natt].cgroup_id = c->cgroups[i].cgid;
			natt++;
		}
	}

	/* 4. the flip */
	struct ctw_fw_slot_cfg *sc = &cfg.slot[s];
	uint64_t gen = cfg.slot[old].generation;
	memset(sc, 0, sizeof(*sc));
	sc->xdp_default = c->def_xdp;
	sc->egress_default = c->def_egress;
	sc->ingress_default = c->def_ingress;
	sc->n_rules = (uint32_t)c->n_rules;
	sc->generation = gen + 1;
	sc->applied_ns = ctw_realtime_ns();
	sc->source_hash = c->hash;
	ctw_strlcpy(sc->source, c->source, sizeof(sc->source));
	/* Write the slot's settings first (no reader uses them yet) ... */
	key = 0;
	if (bpf_map_update_elem(f->fd[M_CFG], &key, &cfg, BPF_ANY) < 0) {
		r = ctw_err_set(err, errno, "write policy config");
		goto out;
	}
	/* ... then switch.  Array values are updated in place, so readers see
	 * either the old or the new `active`. */
	cfg.active = s;
	if (bpf_map_update_elem(f->fd[M_CFG], &key, &cfg, BPF_ANY) < 0) {
		r = ctw_err_set(err, errno, "switch policy slot");
		goto out;
	}
	for (uint32_t i = 0; i < CTW_FW_MAX_ATTACH; i++)
		bpf_map_update_elem(f->fd[M_ATTACH], &i, &att[i], BPF_ANY);

	/* 5. detach what the new policy does not name */
	DIR *dir = opendir(f->dir);
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		if (!ctw_str_has_prefix(de->d_name, "link_"))
			continue;
		if (wanted(&keep, de->d_name))
			continue;
		char *pin = xasprintf("%s/%s", f->dir, de->d_name);
		unlink(pin);
		free(pin);
	}
	if (dir)
		closedir(dir);
	r = 0;
out:
	want_free(&keep);
	return r;
}

int ctw_policy_apply(const struct ctw_policy *p, const struct ctw_pol_resolver *res,
		     struct ctw_err *err)
{
	struct ctw_pol_resolver def;
	struct ctw_pol_compiled *c;
	struct fw f;
	int r, lock;

	if (!res) {
		ctw_pol_resolver_default(&def, NULL);
		res = &def;
	}
	r = ctw_policy_compile(p, res, &c, err);
	if (r < 0)
		return r;
	lock = lock_state();
	r = fw_load(&f, err);
	if (r == 0) {
		r = apply_compiled(&f, c, err);
		fw_close(&f);
	}
	if (r == 0)
		save_state(p);
	if (lock >= 0)
		close(lock);
	ctw_pol_compiled_free(c);
	return r;
}

int ctw_policy_flush(struct ctw_err *err)
{
	char *dir = pin_dir();
	int lock = lock_state();
	int r = 0;

	if (ctw_path_exists(dir)) {
		r = ctw_rm_rf(dir);
		if (r < 0)
			r = ctw_err_set(err, -r, "remove %s", dir);
	}
	char *st = ctw_policy_state_path();
	unlink(st);
	free(st);
	free(dir);
	if (lock >= 0)
		close(lock);
	return r;
}

bool ctw_policy_active(void)
{
	char *p = xasprintf("%s/%s/ctw_pol_cfg", ctw_pin_dir(), CTW_FW_PIN_SUBDIR);
	bool r = pinned(p);
	free(p);
	return r;
}

uint64_t ctw_policy_active_hash(void)
{
	struct ctw_err err = {0};
	struct ctw_fw_cfg cfg;
	struct fw f;
	uint64_t h = 0;

	if (!ctw_policy_active() || fw_open_pinned(&f, &err) < 0)
		return 0;
	if (read_cfg(&f, &cfg) == 0 && cfg.slot[cfg.active & 1].generation)
		h = cfg.slot[cfg.active & 1].source_hash;
	fw_close(&f);
	return h;
}

/* ---- show and stats ---- */

static const char *act_name(int a)
{
	return a == CTW_FW_DENY ? "deny" : "allow";
}

static void sum_counter(struct fw *f, uint32_t key, uint64_t *pk, uint64_t *by)
{
	struct ctw_fw_counter *v = xcalloc((size_t)f->ncpu, sizeof(*v));
	*pk = *by = 0;
	if (bpf_map_lookup_elem(f->fd[M_STATS], &key, v) == 0)
		for (int i = 0; i < f->ncpu; i++) {
			*pk += v[i].packets;
			*by += v[i].bytes;
		}
	free(v);
}

/* Open the pinned policy and read its config (which slot is live). */
static int fw_open_with_cfg(struct fw *f, struct ctw_fw_cfg *cfg, struct ctw_err *err)
{
	int r = fw_open_pinned(f, err);
	if (r < 0)
		return r;
	r = read_cfg(f, cfg);
	if (r < 0) {
		fw_close(f);
		return ctw_err_set(err, -r, "read policy config");
	}
	return 0;
}

int ctw_policy_read_stats(struct ctw_pol_stat **out, size_t *n, struct ctw_err *err)
{
	struct ctw_fw_cfg cfg;
	struct fw f;

	*out = NULL;
	*n = 0;
	int r = fw_open_with_cfg(&f, &cfg, err);
	if (r < 0)
		return r;
	uint32_t s = cfg.active & 1, nr = cfg.slot[s].n_rules;
	if (nr > CTW_FW_MAX_RULES)
		nr = CTW_FW_MAX_RULES;
	struct ctw_pol_stat *st = xcalloc(nr + 3, sizeof(*st));
	for (uint32_t i = 0; i < nr; i++) {
		struct ctw_fw_meta m;
		uint32_t key = s * CTW_FW_MAX_RULES + i;
		if (bpf_map_lookup_elem(f.fd[M_META], &key, &m) < 0)
			memset(&m, 0, sizeof(m));
		ctw_strlcpy(st[i].name, m.name, sizeof(st[i].name));
		st[i].action = m.action;
		st[i].scope = m.scope;
		st[i].dir = m.dir;
		sum_counter(&f, s * CTW_FW_CNT_PER_SLOT + i, &st[i].packets, &st[i].bytes);
	}
	static const struct {
		int idx, scope, dir;
	} defs[] = {
		{CTW_FW_CNT_XDP_DEFAULT, CTW_FW_SCOPE_XDP, CTW_FW_INGRESS},
		{CTW_FW_CNT_EGRESS_DEFAULT, CTW_FW_SCOPE_CONTAINER, CTW_FW_EGRESS},
		{CTW_FW_CNT_INGRESS_DEFAULT, CTW_FW_SCOPE_CONTAINER, CTW_FW_INGRESS},
	};
	for (size_t d = 0; d < ARRAY_SIZE(defs); d++) {
		struct ctw_pol_stat *x = &st[nr + d];
		ctw_strlcpy(x->name, "default", sizeof(x->name));
		x->is_default = true;
		x->scope = (uint8_t)defs[d].scope;
		x->dir = (uint8_t)defs[d].dir;
		x->action = d == 0   ? cfg.slot[s].xdp_default
			    : d == 1 ? cfg.slot[s].egress_default
				     : cfg.slot[s].ingress_default;
		sum_counter(&f, s * CTW_FW_CNT_PER_SLOT + CTW_FW_MAX_RULES + (uint32_t)defs[d].idx,
			    &x->packets, &x->bytes);
	}
	*out = st;
	*n = nr + 3;
	fw_close(&f);
	return 0;
}

static const char *scope_name(int scope, int dir)
{
	if (scope == CTW_FW_SCOPE_XDP)
		return "xdp";
	return dir == CTW_FW_EGRESS ? "egress" : "ingress";
}

int ctw_policy_print_stats(FILE *out, bool json, struct ctw_err *err)
{
	struct ctw_pol_stat *st;
	size_t n;
	int r = ctw_policy_read_stats(&st, &n, err);
	if (r < 0)
		return r;
	if (json) {
		fputs("[", out);
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "%s{\"rule\":", i ? "," : "");
			ctw_json_string(out, st[i].name);
			fprintf(out,
				",\"default\":%s,\"action\":\"%s\",\"scope\":\"%s\","
				"\"packets\":%llu,\"bytes\":%llu}",
				st[i].is_default ? "true" : "false", act_name(st[i].action),
				scope_name(st[i].scope, st[i].dir),
				(unsigned long long)st[i].packets, (unsigned long long)st[i].bytes);
		}
		fputs("]\n", out);
	} else {
		fprintf(out, "%-32s %-6s %-8s %14s %16s\n", "RULE", "ACTION", "SCOPE", "PACKETS",
			"BYTES");
		for (size_t i = 0; i < n; i++) {
			char name[80];
			snprintf(name, sizeof(name), st[i].is_default ? "(%s)" : "%s", st[i].name);
			fprintf(out, "%-32s %-6s %-8s %14llu %16llu\n", name,
				act_name(st[i].action), scope_name(st[i].scope, st[i].dir),
				(unsigned long long)st[i].packets, (unsigned long long)st[i].bytes);
		}
	}
	free(st);
	return 0;
}

static const char *mode_name(uint32_t m)
{
	switch (m) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "detached";
	}
}

int ctw_policy_show(FILE *out, bool json, struct ctw_err *err)
{
	struct ctw_fw_cfg cfg;
	struct fw f;
	int r = fw_open_with_cfg(&f, &cfg, err);
	if (r < 0)
		return r;
	uint32_t s = cfg.active & 1;
	const struct ctw_fw_slot_cfg *sc = &cfg.slot[s];
	char when[48];
	ctw_format_time(sc->applied_ns, when, sizeof(when));
	struct ctw_fw_attach att[CTW_FW_MAX_ATTACH];
	size_t natt = 0;
	for (uint32_t i = 0; i < CTW_FW_MAX_ATTACH; i++) {
		if (bpf_map_lookup_elem(f.fd[M_ATTACH], &i, &att[natt]) == 0 && att[natt].ifname[0])
			natt++;
	}
	/* A link is live when its pin is. */
	bool live[CTW_FW_MAX_ATTACH];
	for (size_t i = 0; i < natt; i++) {
		char *pin = att[i].cgroup_id ? xasprintf("%s/link_cg_%llu_eg", f.dir,
							 (unsigned long long)att[i].cgroup_id)
					     : xasprintf("%s/link_xdp_%s", f.dir, att[i].ifname);
		live[i] = pinned(pin);
		free(pin);
	}

	if (json) {
		fprintf(out, "{\"source\":");
		ctw_json_string(out, sc->source);
		fprintf(out,
			",\"generation\":%llu,\"slot\":%u,\"applied\":\"%s\",\"hash\":\"%016llx\","
			"\"defaults\":{\"interfaces\":\"%s\",\"egress\":\"%s\",\"ingress\":\"%s\"},"
			"\"attachments\":[",
			(unsigned long long)sc->generation, s, when,
			(unsigned long long)sc->source_hash, act_name(sc->xdp_default),
			act_name(sc->egress_default), act_name(sc->ingress_default));
		for (size_t i = 0; i < natt; i++) {
			if (att[i].cgroup_id) {
				const char *cn = pol_container_name(att[i].cgroup_id);
				fprintf(out,
					"%s{\"type\":\"cgroup\",\"cgroup_id\":%llu,\"container\":",
					i ? "," : "", (unsigned long long)att[i].cgroup_id);
				ctw_json_string(out, cn ? cn : "");
				fprintf(out, ",\"live\":%s}", live[i] ? "true" : "false");
			} else
				fprintf(out,
					"%s{\"type\":\"xdp\",\"interface\":\"%s\",\"ifindex\":%u,"
					"\"mode\":\"%s\",\"live\":%s}",
					i ? "," : "", att[i].ifname, att[i].ifindex,
					mode_name(att[i].mode), live[i] ? "true" : "false");
		}
		fputs("],\"rules\":[", out);
	} else {
		fprintf(out, "policy:   %s\n", sc->generation ? sc->source : "(none)");
		fprintf(out, "applied:  %s (generation %llu, slot %u)\n", when,
			(unsigned long long)sc->generation, s);
		fprintf(out, "defaults: interfaces %s, egress %s, ingress %s\n",
			act_name(sc->xdp_default), act_name(sc->egress_default),
			act_name(sc->ingress_default));
		fprintf(out, "attached:\n");
		for (size_t i = 0; i < natt; i++) {
			if (att[i].cgroup_id) {
				const char *cn = pol_container_name(att[i].cgroup_id);
				fprintf(out, "  cgroup %llu%s%s egress+ingress%s\n",
					(unsigned long long)att[i].cgroup_id, cn ? " " : "",
					cn ? cn : "", live[i] ? "" : " (gone)");
			} else
				fprintf(out, "  xdp    %s (ifindex %u, %s)%s\n", att[i].ifname,
					att[i].ifindex, mode_name(att[i].mode),
					live[i] ? "" : " (gone)");
		}
		if (!natt)
			fprintf(out, "  (nothing)\n");
		fprintf(out, "rules:\n  %-3s %-24s %-6s %-8s %s\n", "#", "NAME", "ACTION", "SCOPE",
			"MATCH");
	}
	uint32_t nr = sc->n_rules > CTW_FW_MAX_RULES ? CTW_FW_MAX_RULES : sc->n_rules;
	for (uint32_t i = 0; i < nr; i++) {
		struct ctw_fw_meta m;
		uint32_t key = s * CTW_FW_MAX_RULES + i;
		if (bpf_map_lookup_elem(f.fd[M_META], &key, &m) < 0)
			continue;
		m.name[sizeof(m.name) - 1] = '\0';
		m.desc[sizeof(m.desc) - 1] = '\0';
		if (json) {
			fprintf(out, "%s{\"id\":%u,\"name\":", i ? "," : "", i);
			ctw_json_string(out, m.name);
			fprintf(out, ",\"action\":\"%s\",\"scope\":\"%s\",\"line\":%u,\"match\":",
				act_name(m.action), scope_name(m.scope, m.dir), m.line);
			ctw_json_string(out, m.desc);
			fputs("}", out);
		} else {
			fprintf(out, "  %-3u %-24s %-6s %-8s %s\n", i, m.name, act_name(m.action),
				scope_name(m.scope, m.dir), m.desc);
		}
	}
	if (json)
		fputs("]}\n", out);
	fw_close(&f);
	return 0;
}
