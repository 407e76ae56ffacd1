// SPDX-License-Identifier: Apache-2.0
/*
 * Agent module "syscalls": per-container syscall counts from
 * bpf/syscount.bpf.c.
 *
 *   ctrwatch_syscalls_total{container,syscall}        calls (all of them)
 *   ctrwatch_syscall_errors_total{container,syscall}  returns in [-4095,-1];
 *                                                     a series appears with
 *                                                     the first error
 *   ctrwatch_syscall_seconds_total{container,syscall} only with syscall_time
 *
 * The set of syscalls exported per container is bounded by the "syscalls"
 * setting:
 *   all        (default) every syscall the container made: at most the ~460
 *              syscalls of the architecture, in practice 30-100 per
 *              container; the agent-wide max_series cap is the backstop
 *   top:N      the N busiest, chosen once and then kept (a sticky set, so
 *              counters never jump between series); the rest are summed
 *              into syscall="other"
 *   list:a,b   only these (also spelled just "a,b"); the rest are summed
 *              into syscall="other"
 *
 * The module keeps the kernel's watch table (bpf/syscount.h) equal to the
 * set of cgroup ids the registry attributes to containers (each container's
 * own and its nested cgroups), all of a container's ids pointing at its
 * slot: a nested cgroup's calls are the container's from the start, so
 * nothing is lost or goes backwards when it goes away.  When a container
 * goes away, all of its state goes and its series with it; its slot is
 * handed out again only after the next change.  Containers beyond the
 * SYSCOUNT_SLOTS slots are counted through the kernel's overflow hash.
 * CTRWATCH_SYSCOUNT_SLOTS=N (tests) hands out only the first N slots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <seccomp.h>

#include "agent.h"
#include "../lib/lib.h"
#include "syscount.h"
#include "syscount.skel.h"

enum mode { MODE_ALL, MODE_TOP, MODE_LIST };

struct row {	       /* one (container, syscall) */
	uint64_t cgid; /* the container's own cgroup id */
	uint32_t nr;
	uint64_t calls, errors, time_ns;
};

struct cset { /* exported syscalls of one container (top/list modes) */
	uint64_t cgid;
	uint64_t bits[SYSCOUNT_NR_MAX / 64];
	unsigned int n;
};

struct owner { /* a container being counted */
	uint64_t cgid;
	uint32_t slot; /* row of counts/times, or SYSCOUNT_NO_SLOT */
};

struct syscalls {
	struct ctw_agent *a;
	struct syscount_bpf *skel;
	int ncpus;
	bool timing;
	enum mode mode;
	unsigned int top_n;
	uint64_t list_bits[SYSCOUNT_NR_MAX / 64];
	char *names[SYSCOUNT_NR_MAX];
	/* cgroup ids in the watch table, sorted, with their container's id */
	uint64_t *ids, *owners;
	size_t nids;
	/* containers counted, and which slots are taken: a slot freed by one
	 * change of the table is handed out again only at the next change, so
	 * no program still counting for the old container can touch the new
	 * one's row */
	struct owner *own;
	size_t nown;
	uint64_t *hashed; /* ids in the `watched` hash, sorted */
	size_t nhashed;
	bool slot_used[SYSCOUNT_SLOTS], slot_cooling[SYSCOUNT_SLOTS];
	char unknown[64]; /* the name parse_mode() did not know */
	uint32_t nslots;  /* slots handed out: SYSCOUNT_SLOTS but for tests */
	struct cset *sets;
	size_t nsets;
	struct syscount_val *vals;	 /* per-CPU lookup buffer (overflow) */
	struct syscount_slot *slotbuf;	 /* per-CPU lookup buffer (counts) */
	struct syscount_slot_time *tbuf; /* per-CPU lookup buffer (times) */
	/* the last read, merged by container, for REFRESH_NS */
	struct row *rows;
	bool *keep;
	size_t nrows, rowcap;
	uint64_t rows_at_ns;
	bool rows_valid;
};

#define REFRESH_NS 1000000000ull

static void set_bit(uint64_t *b, uint32_t nr)
{
	b[nr / 64] |= 1ull << (nr % 64);
}
static bool has_bit(const uint64_t *b, uint32_t nr)
{
	return b[nr / 64] >> (nr % 64) & 1;
}

static int parse_mode(struct syscalls *s, const char *spec)
{
	memset(s->list_bits, 0, sizeof(s->list_bits));
	if (!spec || !strcmp(spec, "all")) {
		s->mode = MODE_ALL;
		return 0;
	}
	if (ctw_str_has_prefix(spec, "top:") || ctw_str_has_prefix(spec, "top")) {
		const char *n = spec + (spec[3] == ':' ? 4 : 3);
		uint64_t v;
		if (ctw_parse_u64(n, 1, SYSCOUNT_NR_MAX, &v) < 0)
			return -EINVAL;
		s->mode = MODE_TOP;
		s->top_n = v;
		return 0;
	}
	/* "list:a,b", or just "a,b" (or one name) */
	bool prefixed = ctw_str_has_prefix(spec, "list:");
	if (prefixed || strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789_,") == strlen(spec)) {
		_cleanup_free_ char *dup = xstrdup(spec + (prefixed ? 5 : 0));
		char *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, t);
			if (nr < 0 || nr >= SYSCOUNT_NR_MAX) {
				ctw_strlcpy(s->unknown, t, sizeof(s->unknown));
				return -EINVAL;
			}
			set_bit(s->list_bits, nr);
		}
		s->mode = MODE_LIST;
		return 0;
	}
	return -EINVAL;
}

static const char *sc_name(struct syscalls *s, uint32_t nr)
{
	if (!s->names[nr]) {
		char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (n)
			s->names[nr] = n;
		else
			s->names[nr] = xasprintf("syscall_%u", nr);
	}
	return s->names[nr];
}

/* --check and every start (agent.c): the syscall set parses. */
static int syscalls_check(struct ctw_agent *a, struct ctw_err *err)
{
	struct syscalls *s = xcalloc(1, sizeof(*s));
	const char *spec = ctw_agent_setting(a, "syscalls");
	int rc = parse_mode(s, spec);
	if (rc < 0 && s->unknown[0])
		rc = ctw_err_setx(err, EINVAL, "syscalls '%s': unknown syscall '%s'", spec,
				  s->unknown);
	else if (rc < 0)
		rc = ctw_err_setx(err, EINVAL,
				  "syscalls '%s': expected all, top:N (N 1-%d) or list:NAME,...",
				  spec, SYSCOUNT_NR_MAX);
	free(s);
	return rc;
}

static int syscalls_start(struct ctw_agent *a, void **state)
{
	struct syscalls *s = xcalloc(1, sizeof(*s));
	s->a = a;
	const char *t = ctw_agent_setting(a, "syscall_time");
	s->timing = t && (!strcmp(t, "true") || !strcmp(t, "1") || !strcmp(t, "yes"));
	if (parse_mode(s, ctw_agent_setting(a, "syscalls")) < 0) {
		pr_err("syscalls '%s': expected all, top:N or list:NAME,...",
		       ctw_agent_setting(a, "syscalls"));
		free(s);
		return -EINVAL;
	}
	s->nslots = SYSCOUNT_SLOTS;
	const char *ns = getenv("CTRWATCH_SYSCOUNT_SLOTS");
	uint64_t v;
	if (ns && ctw_parse_u64(ns, 0, SYSCOUNT_SLOTS, &v) == 0)
		s->nslots = v;
	s->ncpus = libbpf_num_possible_cpus();
	if (s->ncpus <= 0) {
		free(s);
		return -EINVAL;
	}
	s->vals = xcalloc(s->ncpus, sizeof(*s->vals));
	s->slotbuf = xcalloc(s->ncpus, sizeof(*s->slotbuf));
	if (s->timing)
		s->tbuf = xcalloc(s->ncpus, sizeof(*s->tbuf));
	int err;
	s->skel = syscount_bpf__open();
	if (!s->skel) {
		err = -errno;
		pr_err("syscalls: open BPF object: %s", strerror(-err));
		goto out_free;
	}
	s->skel->rodata->timing = s->timing;
	if (!s->timing) {
		bpf_program__set_autoload(s->skel->progs.syscount_enter, false);
		bpf_map__set_max_entries(s->skel->maps.times, 1); /* unused */
	}
	err = syscount_bpf__load(s->skel);
	if (err) {
		pr_err("syscalls: load BPF: %s", strerror(-err));
		goto out_destroy;
	}
	err = syscount_bpf__attach(s->skel);
	if (err) {
		pr_err("syscalls: attach BPF: %s", strerror(-err));
		goto out_destroy;
	}
	ctw_agent_track_prog(a, "syscount_exit", bpf_program__fd(s->skel->progs.syscount_exit));
	ctw_agent_track_prog(a, "syscount_task_exit",
			     bpf_program__fd(s->skel->progs.syscount_task_exit));
	if (s->timing)
		ctw_agent_track_prog(a, "syscount_enter",
				     bpf_program__fd(s->skel->progs.syscount_enter));
	*state = s;
	return 0;

out_destroy:
	syscount_bpf__destroy(s->skel);
out_free:
	free(s->vals);
	free(s->slotbuf);
	free(s->tbuf);
	free(s);
	return err ? err : -EINVAL;
}

static void syscalls_stop(void *state)
{
	struct syscalls *s = state;
	syscount_bpf__destroy(s->skel);
	for (size_t i = 0; i < SYSCOUNT_NR_MAX; i++)
		free(s->names[i]);
	free(s->ids);
	free(s->owners);
	free(s->own);
	free(s->hashed);
	free(s->sets);
	free(s->vals);
	free(s->slotbuf);
	free(s->tbuf);
	free(s->rows);
	free(s->keep);
	free(s);
}

struct idlist {
	uint64_t *ids, *owners;
	size_t n, cap;
};

static void collect_id(void *ctx, uint64_t id, const struct ctw_container *c)
{
	struct idlist *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->ids = xrealloc(l->ids, l->cap * sizeof(*l->ids));
		l->owners = xrealloc(l->owners, l->cap * sizeof(*l->owners));
	}
	l->ids[l->n] = id;
	l->owners[l->n] = c->cgroup_id;
	l->n++;
}

static void sort_ids(uint64_t *ids, uint64_t *owners, size_t n)
{
	/* small n: insertion sort keeps the pairs together */
	for (size_t i = 1; i < n; i++) {
		uint64_t k = ids[i], o = owners[i];
		size_t j = i;
		while (j > 0 && ids[j - 1] > k) {
			ids[j] = ids[j - 1];
			owners[j] = owners[j - 1];
			j--;
		}
		ids[j] = k;
		owners[j] = o;
	}
}

static bool owner_alive(struct ctw_registry *reg, uint64_t owner)
{
	const struct ctw_container *c = ctw_registry_lookup(reg, owner);
	return c && c->cgroup_id == owner;
}

static struct owner *find_owner(struct syscalls *s, uint64_t cgid)
{
	for (size_t i = 0; i < s->nown; i++)
		if (s->own[i].cgid == cgid)
			return &s->own[i];
	return NULL;
}

/* Zero a slot's rows in the kernel (all CPUs) before handing it out. */
static int zero_slot(struct syscalls *s, uint32_t slot)
{
	memset(s->slotbuf, 0, s->ncpus * sizeof(*s->slotbuf));
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.counts), &slot, s->slotbuf, BPF_ANY))
		return -errno;
	if (s->timing) {
		memset(s->tbuf, 0, s->ncpus * sizeof(*s->tbuf));
		if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.times), &slot, s->tbuf, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* A new container: a free slot if there is one, else the overflow hash. */
static struct owner *add_owner(struct syscalls *s, uint64_t cgid)
{
	uint32_t slot = SYSCOUNT_NO_SLOT;
	for (uint32_t i = 0; i < s->nslots; i++) {
		if (s->slot_used[i] || s->slot_cooling[i])
			continue;
		int err = zero_slot(s, i);
		if (err) {
			pr_warn("syscalls: clear slot %u: %s", i, strerror(-err));
			break;
		}
		slot = i;
		s->slot_used[i] = true;
		break;
	}
	s->own = xrealloc(s->own, (s->nown + 1) * sizeof(*s->own));
	s->own[s->nown] = (struct owner){.cgid = cgid, .slot = slot};
	return &s->own[s->nown++];
}

/* Delete the overflow counts of containers that went away. */
static void purge_overflow(struct syscalls *s, const uint64_t *gone, size_t ngone)
{
	int fd = bpf_map__fd(s->skel->maps.overflow);
	struct syscount_key key, next;
	struct syscount_key *del = NULL;
	size_t ndel = 0;
	void *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		for (size_t i = 0; i < ngone; i++) {
			if (gone[i] != next.cgroup_id)
				continue;
			del = xrealloc(del, (ndel + 1) * sizeof(*del));
			del[ndel++] = next;
			break;
		}
	}
	for (size_t i = 0; i < ndel; i++)
		bpf_map_delete_elem(fd, &del[i]);
	free(del);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Build the watch table for `ids` in the half not in use, then switch the
 * program to it (see syscount.h); ids the table cannot hold, and those of
 * containers without a slot, go to the `watched` hash. */
static void publish(struct syscalls *s, const uint64_t *ids, const uint64_t *owners, size_t n)
{
	struct syscount_bpf__bss *bss = s->skel->bss;
	int wfd = bpf_map__fd(s->skel->maps.watched);
	uint32_t next = __atomic_load_n(&bss->tab_base, __ATOMIC_RELAXED) ? 0 : SYSCOUNT_TAB_SIZE;
	uint64_t *tab = xcalloc(SYSCOUNT_TAB_SIZE, sizeof(*tab));
	uint64_t *hashed = xcalloc(n + 1, sizeof(*hashed));
	size_t nhashed = 0;
	bool use_hash = false;

	for (size_t j = 0; j < n; j++) {
		const struct owner *o = find_owner(s, owners[j]);
		if (!o)
			continue;
		uint64_t slot = o->slot == SYSCOUNT_NO_SLOT ? SYSCOUNT_TAB_NO_SLOT : o->slot;
		bool placed = false;
		if (ids[j] && ids[j] < SYSCOUNT_TAB_ID_MAX) {
			uint32_t h = SYSCOUNT_TAB_HASH(ids[j]);
			for (uint32_t i = 0; i < SYSCOUNT_TAB_PROBES && !placed; i++) {
				uint64_t *e = &tab[(h + i) & (SYSCOUNT_TAB_SIZE - 1)];
				if (!*e) {
					*e = ids[j] << 16 | slot;
					placed = true;
				}
			}
		}
		if (!placed)
			use_hash = true;
		if (placed && slot != SYSCOUNT_TAB_NO_SLOT)
			continue;
		struct syscount_watch w = {.slot = o->slot, .owner = o->cgid};
		if (bpf_map_update_elem(wfd, &ids[j], &w, BPF_ANY))
			pr_warn("syscalls: watch cgroup %llu: %s", (unsigned long long)ids[j],
				strerror(errno));
		hashed[nhashed++] = ids[j];
	}
	/* one aligned 64-bit store per entry: a reader sees an entry whole */
	for (uint32_t i = 0; i < SYSCOUNT_TAB_SIZE; i++)
		__atomic_store_n(&bss->watch_tab[next + i], tab[i], __ATOMIC_RELAXED);
	if (use_hash)
		__atomic_store_n(&bss->use_hash, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&bss->tab_base, next, __ATOMIC_RELEASE);
	if (!use_hash)
		__atomic_store_n(&bss->use_hash, 0, __ATOMIC_RELEASE);
	/* what the hash held and no longer needs */
	qsort(hashed, nhashed, sizeof(*hashed), cmp_u64);
	for (size_t i = 0; i < s->nhashed; i++)
		if (!bsearch(&s->hashed[i], hashed, nhashed, sizeof(*hashed), cmp_u64))
			bpf_map_delete_elem(wfd, &s->hashed[i]);
	free(s->hashed);
	s->hashed = hashed;
	s->nhashed = nhashed;
	free(tab);
}

/* Bring the watch table in line with the registry: every cgroup id of a
 * container maps to the container's slot, so nested cgroups count for their
 * container directly and nothing needs folding when they go away. */
static void syscalls_rescanned(void *state)
{
	struct syscalls *s = state;
	struct ctw_registry *reg = ctw_agent_registry(s->a);
	struct idlist now = {0};
	ctw_registry_cgroup_ids(reg, collect_id, &now);
	sort_ids(now.ids, now.owners, now.n);

	if (now.n == s->nids &&
	    (!now.n || (!memcmp(now.ids, s->ids, now.n * sizeof(*now.ids)) &&
			!memcmp(now.owners, s->owners, now.n * sizeof(*now.owners))))) {
		free(now.ids);
		free(now.owners);
		return;
	}
	/* slots freed by the previous change may be handed out now */
	memset(s->slot_cooling, 0, sizeof(s->slot_cooling));
	for (size_t j = 0; j < now.n; j++)
		if (!find_owner(s, now.owners[j]))
			add_owner(s, now.owners[j]);
	publish(s, now.ids, now.owners, now.n);

	/* containers no longer there: free their slots (reused only after the
	 * next change), drop their overflow counts */
	uint64_t *gone = xcalloc(s->nown + 1, sizeof(*gone));
	size_t ngone = 0, w = 0;
	for (size_t k = 0; k < s->nown; k++) {
		bool present = false;
		for (size_t m = 0; m < now.n && !present; m++)
			present = now.owners[m] == s->own[k].cgid;
		if (present) {
			s->own[w++] = s->own[k];
			continue;
		}
		if (s->own[k].slot == SYSCOUNT_NO_SLOT) {
			gone[ngone++] = s->own[k].cgid;
		} else {
			s->slot_used[s->own[k].slot] = false;
			s->slot_cooling[s->own[k].slot] = true;
		}
	}
	s->nown = w;
	purge_overflow(s, gone, ngone);
	free(gone);
	free(s->ids);
	free(s->owners);
	s->ids = now.ids;
	s->owners = now.owners;
	s->nids = now.n;
	s->rows_valid = false;
}

static void syscalls_container_removed(void *state, const struct ctw_container *c)
{
	struct syscalls *s = state;
	for (size_t i = 0; i < s->nsets; i++) {
		if (s->sets[i].cgid == c->cgroup_id) {
			s->sets[i] = s->sets[--s->nsets];
			break;
		}
	}
	/* `watched`, the slot and the overflow counts follow in rescanned(). */
	s->rows_valid = false;
}

static void syscalls_reload(void *state)
{
	struct syscalls *s = state;
	if (parse_mode(s, ctw_agent_setting(s->a, "syscalls")) < 0) {
		pr_err("syscalls: bad 'syscalls' setting%s%s, exporting all",
		       s->unknown[0] ? ": unknown syscall " : "", s->unknown);
		s->mode = MODE_ALL;
	}
	s->nsets = 0;
	s->rows_valid = false;
}

static int cmp_row(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	if (a->cgid != b->cgid)
		return a->cgid < b->cgid ? -1 : 1;
	return a->nr < b->nr ? -1 : a->nr > b->nr;
}

static int cmp_calls_desc(const void *x, const void *y)
{
	const struct row *a = *(const struct row *const *)x, *b = *(const struct row *const *)y;
	if (a->calls != b->calls)
		return a->calls > b->calls ? -1 : 1;
	return a->nr < b->nr ? -1 : a->nr > b->nr;
}

static struct cset *get_set(struct syscalls *s, uint64_t cgid)
{
	for (size_t i = 0; i < s->nsets; i++)
		if (s->sets[i].cgid == cgid)
			return &s->sets[i];
	s->sets = xrealloc(s->sets, (s->nsets + 1) * sizeof(*s->sets));
	struct cset *c = &s->sets[s->nsets++];
	memset(c, 0, sizeof(*c));
	c->cgid = cgid;
	return c;
}

/* Mark which rows of one container [rows, rows+n) are exported. */
static void select_rows(struct syscalls *s, struct row *rows, size_t n, bool *keep)
{
	if (s->mode == MODE_ALL) {
		for (size_t i = 0; i < n; i++)
			keep[i] = true;
		return;
	}
	if (s->mode == MODE_LIST) {
		for (size_t i = 0; i < n; i++)
			keep[i] = has_bit(s->list_bits, rows[i].nr);
		return;
	}
	struct cset *set = get_set(s, rows[0].cgid);
	if (set->n < s->top_n) {
		/* Admit the busiest newcomers until the set is full; then it
		 * stays as it is. */
		struct row **cand = xcalloc(n, sizeof(*cand));
		size_t nc = 0;
		for (size_t i = 0; i < n; i++)
			if (!has_bit(set->bits, rows[i].nr))
				cand[nc++] = &rows[i];
		qsort(cand, nc, sizeof(*cand), cmp_calls_desc);
		for (size_t i = 0; i < nc && set->n < s->top_n; i++) {
			set_bit(set->bits, cand[i]->nr);
			set->n++;
		}
		free(cand);
	}
	for (size_t i = 0; i < n; i++)
		keep[i] = has_bit(set->bits, rows[i].nr);
}

static struct row *new_row(struct row **rows, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*rows = xrealloc(*rows, *cap * sizeof(**rows));
	}
	struct row *r = &(*rows)[(*n)++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void add_row(struct syscalls *s, struct ctw_registry *reg, const struct syscount_key *k,
		    const struct syscount_val *percpu, struct row **rows, size_t *n, size_t *cap)
{
	const struct ctw_container *c = ctw_registry_lookup(reg, k->cgroup_id);
	if (!c)
		return;
	struct row *r = new_row(rows, n, cap);
	r->cgid = c->cgroup_id;
	r->nr = k->nr;
	for (int cpu = 0; cpu < s->ncpus; cpu++) {
		r->calls += percpu[cpu].calls;
		r->errors += percpu[cpu].errors;
		r->time_ns += percpu[cpu].time_ns;
	}
}

/* Every syscall of the containers with a slot: one lookup per container
 * (its row on every CPU), a row per syscall it made. */
static void read_slots(struct syscalls *s, struct ctw_registry *reg, struct row **rows, size_t *n,
		       size_t *cap)
{
	int fd = bpf_map__fd(s->skel->maps.counts);
	int tfd = bpf_map__fd(s->skel->maps.times);
	for (size_t i = 0; i < s->nown; i++) {
		uint32_t slot = s->own[i].slot;
		if (slot == SYSCOUNT_NO_SLOT || !owner_alive(reg, s->own[i].cgid))
			continue;
		if (bpf_map_lookup_elem(fd, &slot, s->slotbuf)) {
			pr_warn("syscalls: read slot %u: %s", slot, strerror(errno));
			continue;
		}
		bool t = s->timing && !bpf_map_lookup_elem(tfd, &slot, s->tbuf);
		for (uint32_t nr = 0; nr < SYSCOUNT_NR_MAX; nr++) {
			uint64_t calls = 0, errors = 0, ns = 0;
			for (int c = 0; c < s->ncpus; c++) {
				calls += s->slotbuf[c].nr[nr].calls;
				errors += s->slotbuf[c].nr[nr].errors;
				if (t)
					ns += s->tbuf[c].ns[nr];
			}
			if (!calls)
				continue;
			struct row *r = new_row(rows, n, cap);
			r->cgid = s->own[i].cgid;
			r->nr = nr;
			r->calls = calls;
			r->errors = errors;
			r->time_ns = ns;
		}
	}
}

/* Every (container, syscall) in the overflow hash, in as few syscalls as
 * possible: batched lookups, key by key only where the kernel refuses
 * batches. */
static void read_overflow(struct syscalls *s, struct ctw_registry *reg, struct row **rows,
			  size_t *n, size_t *cap)
{
	int fd = bpf_map__fd(s->skel->maps.overflow);
	__u32 batch = 4096, count;
	struct syscount_key *keys = xcalloc(batch, sizeof(*keys));
	struct syscount_val *vals = xcalloc((size_t)batch * s->ncpus, sizeof(*vals));
	__u64 in = 0, out = 0;
	bool first = true;
	for (;;) {
		count = batch;
		int rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count,
					      NULL);
		int err = rc < 0 ? errno : 0;
		if (rc < 0 && err != ENOENT) {
			if (err == ENOSPC && batch < (1u << 20)) {
				batch *= 2; /* a bucket larger than the batch: retry */
				keys = xrealloc(keys, batch * sizeof(*keys));
				vals = xrealloc(vals, (size_t)batch * s->ncpus * sizeof(*vals));
				continue;
			}
			if (first &&
			    (err == EINVAL || err == 524 /* ENOTSUPP */ || err == EOPNOTSUPP))
				goto slow;
			pr_warn("syscalls: read counts: %s", strerror(err));
			break;
		}
		for (__u32 i = 0; i < count; i++)
			add_row(s, reg, &keys[i], &vals[(size_t)i * s->ncpus], rows, n, cap);
		if (rc < 0) /* ENOENT: that was the last batch */
			break;
		in = out;
		first = false;
	}
	free(keys);
	free(vals);
	return;

slow:
	free(keys);
	free(vals);
	struct syscount_key key, next;
	void *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &next, s->vals) == 0)
			add_row(s, reg, &next, s->vals, rows, n, cap);
	}
}

static void emit(struct syscalls *s, struct ctw_registry *reg, struct ctw_metrics *m,
		 const struct row *rows, const bool *keep, size_t n);

static void syscalls_collect(void *state, struct ctw_metrics *m)
{
	struct syscalls *s = state;
	struct ctw_registry *reg = ctw_agent_registry(s->a);
	/* The kernel's table is read at most once a second (a batched read
	 * walks every bucket of it); scrapes in between reuse the rows.
	 * Discovery changes invalidate them at once. */
	uint64_t now = ctw_now_ns();
	if (s->rows_valid && now - s->rows_at_ns < REFRESH_NS) {
		emit(s, reg, m, s->rows, s->keep, s->nrows);
		return;
	}
	struct row *rows = s->rows;
	size_t n = 0, cap = s->rowcap;
	read_slots(s, reg, &rows, &n, &cap);
	read_overflow(s, reg, &rows, &n, &cap);
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_row);
	/* merge rows of the same (container, nr): nested cgroups */
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && rows[w - 1].cgid == rows[i].cgid && rows[w - 1].nr == rows[i].nr) {
			rows[w - 1].calls += rows[i].calls;
			rows[w - 1].errors += rows[i].errors;
			rows[w - 1].time_ns += rows[i].time_ns;
		} else {
			rows[w++] = rows[i];
		}
	}
	n = w;
	bool *keep = xrealloc(s->keep, (cap ? cap : 1) * sizeof(*keep));
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && rows[j].cgid == rows[i].cgid)
			j++;
		select_rows(s, rows + i, j - i, keep + i);
		i = j;
	}
	s->rows = rows;
	s->rowcap = cap;
	s->nrows = n;
	s->keep = keep;
	s->rows_at_ns = now;
	s->rows_valid = true;
	emit(s, reg, m, rows, keep, n);
}

static void emit(struct syscalls *s, struct ctw_registry *reg, struct ctw_metrics *m,
		 const struct row *rows, const bool *keep, size_t n)
{
	static const struct {
		const char *name, *help;
	} fams[] = {
		{"ctrwatch_syscalls_total", "Syscalls made by the container."},
		{"ctrwatch_syscall_errors_total",
		 "Syscalls of the container that returned an error."},
		{"ctrwatch_syscall_seconds_total",
		 "Time the container spent in syscalls (enter to exit)."},
	};
	for (size_t f = 0; f < (s->timing ? 3u : 2u); f++) {
		ctw_metrics_family(m, fams[f].name, CTW_COUNTER, fams[f].help);
		for (size_t i = 0; i < n;) {
			const struct ctw_container *c = ctw_registry_lookup(reg, rows[i].cgid);
			if (!c) { /* cannot happen: rows are dropped on every rescan */
				while (i < n && ctw_registry_lookup(reg, rows[i].cgid) == c)
					i++;
				continue;
			}
			const char *l[16];
			ctw_agent_container_labels(c, l, 12);
			ctw_metrics_block(m, l); /* the container's series: one block */
			struct row other = {0};
			size_t j = i;
			for (; j < n && rows[j].cgid == rows[i].cgid; j++) {
				const struct row *r = &rows[j];
				uint64_t v = f == 0 ? r->calls : f == 1 ? r->errors : r->time_ns;
				if (!keep[j]) {
					other.calls += v;
					continue;
				}
				if (f == 1 && !v)
					continue;
				ctw_metrics_block_sample(m, "syscall", sc_name(s, r->nr),
							 f == 2 ? v / 1e9 : (double)v);
			}
			if (s->mode != MODE_ALL && (f == 0 || other.calls))
				ctw_metrics_block_sample(m, "syscall", "other",
							 f == 2 ? other.calls / 1e9
								: (double)other.calls);
			i = j;
		}
	}
	uint32_t z = 0;
	uint64_t *lost = xcalloc(s->ncpus, sizeof(*lost)), total = 0;
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.lost), &z, lost) == 0)
		for (int c = 0; c < s->ncpus; c++)
			total += lost[c];
	free(lost);
	ctw_metrics_family(m, "ctrwatch_syscall_counts_lost_total", CTW_COUNTER,
			   "Syscall counts lost because the kernel's count table was full.");
	ctw_metrics_sample(m, NULL, (double)total);
}

CTW_AGENT_MODULE(syscalls, .name = "syscalls", .start = syscalls_start, .stop = syscalls_stop,
		 .container_removed = syscalls_container_removed, .collect = syscalls_collect,
		 .reload = syscalls_reload, .rescanned = syscalls_rescanned,
		 .check = syscalls_check)
