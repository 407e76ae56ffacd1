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
 * The kernel counts every cgroup on its own from its first syscall (see
 * bpf/syscount.h): this module reads the slot table (mmapped) to learn
 * which slot holds which cgroup, adds each container's cgroups up (its own
 * and its nested ones, from the registry) and keeps the slot queue topped
 * up, a chunk of SYSCOUNT_CHUNK_SLOTS slots at a time.  When a cgroup's
 * entry has left the table (its rmdir), its slot holds its final counts:
 * they are added to its container's "retired" counts, which stay with the
 * container for as long as the registry keeps it (the exit grace), and the
 * slot is zeroed and given back.  So a container that lived 10 ms is
 * counted whole, and a nested cgroup's calls never go backwards when it
 * goes away.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <seccomp.h>

#include "agent.h"
#include "../lib/lib.h"
#include "syscount.h"
#include "syscount.skel.h"

enum mode { MODE_ALL, MODE_TOP, MODE_LIST };

struct row { /* one (container, syscall): 32 bytes, ~40 000 of them */
	uint64_t calls, errors, time_ns;
	uint32_t nr;
	bool keep; /* exported on its own, not summed into "other" */
};

/* One container's rows: [first, end) of the rows, its own cgroup id; its
 * labels found again by each emit() (in `labels`, at lab; none: gone). */
#define NO_LABELS SIZE_MAX
struct group {
	uint64_t cgid;
	size_t first, end;
	size_t lab;
};

struct cset { /* exported syscalls of one container (top/list modes) */
	uint64_t cgid;
	uint64_t bits[SYSCOUNT_NR_MAX / 64];
	unsigned int n;
};

/* Final counts of a container's cgroups that went (sorted by nr). */
struct retired {
	uint64_t owner; /* the container's own cgroup id */
	struct row *rows;
	size_t n;
};

/* Slots kept free in the queue: a chunk is added below this.  New cgroups
 * take slots faster than the agent may wake (20 parallel starts plus their
 * children took 40 at once here): what finds the queue dry counts as
 * unattributed, so two chunks (1 MiB) are kept ahead. */
#define FREE_LOW (2 * SYSCOUNT_CHUNK_SLOTS)

struct syscalls {
	struct ctw_agent *a;
	struct syscount_bpf *skel;
	struct ring_buffer *rb;
	bool timing;
	enum mode mode;
	unsigned int top_n;
	uint64_t list_bits[SYSCOUNT_NR_MAX / 64];
	char *names[SYSCOUNT_NR_MAX];
	char unknown[64]; /* the name parse_mode() did not know */
	/* the chunks, mmapped: slot s is chunk[s / 64][s % 64] */
	struct syscount_slot *chunk[SYSCOUNT_CHUNKS_MAX];
	struct syscount_slot_time *tchunk[SYSCOUNT_CHUNKS_MAX];
	uint32_t nchunks;
	struct syscount_book book; /* which cgroup each slot counts */
	uint32_t *give_back;	   /* syscount_book_pass()'s slots */
	struct retired *ret;
	size_t nret;
	struct cset *sets;
	size_t nsets;
	/* the last read, merged by container, for REFRESH_NS */
	struct row *rows;
	size_t nrows, rowcap;
	struct group *groups; /* one per container, in the rows' order */
	size_t ngroups, capgroups;
	uint64_t rows_at_ns;
	bool rows_valid;
	struct ctw_agent_label_pack labels; /* emit()'s */
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

/* Add a chunk of slots: its map (chunk 0 is the program's own), mmapped,
 * and its slots into the free queue (slot 0 never: unattributed). */
static int add_chunk(struct syscalls *s)
{
	uint32_t idx = s->nchunks;
	size_t len = SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot);
	size_t tlen = SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot_time);
	int fd, tfd = -1, err;
	if (idx >= SYSCOUNT_CHUNKS_MAX)
		return -ENOSPC;
	struct bpf_map_create_opts o = {.sz = sizeof(o), .map_flags = BPF_F_MMAPABLE};
	if (idx == 0)
		fd = dup(bpf_map__fd(s->skel->maps.chunk0));
	else
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sc_chunk", sizeof(__u32),
				    sizeof(struct syscount_slot), SYSCOUNT_CHUNK_SLOTS, &o);
	if (s->timing && fd >= 0)
		tfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sc_tchunk", sizeof(__u32),
				     sizeof(struct syscount_slot_time), SYSCOUNT_CHUNK_SLOTS, &o);
	if (fd < 0 || (s->timing && tfd < 0)) {
		err = -errno;
		goto out_close;
	}
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	void *tm = NULL;
	if (m == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	if (s->timing) {
		tm = mmap(NULL, tlen, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
		if (tm == MAP_FAILED) {
			err = -errno;
			munmap(m, len);
			goto out_close;
		}
	}
	if ((idx > 0 &&
	     bpf_map_update_elem(bpf_map__fd(s->skel->maps.chunks), &idx, &fd, BPF_ANY)) ||
	    (s->timing &&
	     bpf_map_update_elem(bpf_map__fd(s->skel->maps.tchunks), &idx, &tfd, BPF_ANY))) {
		err = -errno;
		munmap(m, len);
		if (tm)
			munmap(tm, tlen);
		goto out_close;
	}
	/* the maps live on in `chunks` and the mappings */
	close(fd);
	if (tfd >= 0)
		close(tfd);
	s->chunk[idx] = m;
	s->tchunk[idx] = tm;
	s->nchunks++;
	int qfd = bpf_map__fd(s->skel->maps.free_slots);
	uint32_t queued = 0;
	err = 0;
	for (uint32_t i = idx ? 0 : 1; i < SYSCOUNT_CHUNK_SLOTS && !err; i++) {
		uint32_t slot = idx * SYSCOUNT_CHUNK_SLOTS + i;
		if (bpf_map_update_elem(qfd, NULL, &slot, BPF_ANY))
			err = -errno;
		else
			queued++;
	}
	syscount_book_grow(&s->book, queued);
	return err;

out_close:
	if (fd >= 0)
		close(fd);
	if (tfd >= 0)
		close(tfd);
	return err;
}

static struct syscount_slot *slot_mem(struct syscalls *s, uint32_t slot)
{
	return &s->chunk[slot / SYSCOUNT_CHUNK_SLOTS][slot % SYSCOUNT_CHUNK_SLOTS];
}

static struct syscount_slot_time *tslot_mem(struct syscalls *s, uint32_t slot)
{
	return s->timing ? &s->tchunk[slot / SYSCOUNT_CHUNK_SLOTS][slot % SYSCOUNT_CHUNK_SLOTS]
			 : NULL;
}

static uint64_t ld(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static struct retired *get_retired(struct syscalls *s, uint64_t owner)
{
	for (size_t i = 0; i < s->nret; i++)
		if (s->ret[i].owner == owner)
			return &s->ret[i];
	s->ret = xrealloc(s->ret, (s->nret + 1) * sizeof(*s->ret));
	s->ret[s->nret] = (struct retired){.owner = owner};
	return &s->ret[s->nret++];
}

static void retired_add(struct retired *r, uint32_t nr, uint64_t calls, uint64_t errors,
			uint64_t ns)
{
	size_t i = 0;
	while (i < r->n && r->rows[i].nr < nr)
		i++;
	if (i == r->n || r->rows[i].nr != nr) {
		r->rows = xrealloc(r->rows, (r->n + 1) * sizeof(*r->rows));
		memmove(&r->rows[i + 1], &r->rows[i], (r->n - i) * sizeof(*r->rows));
		r->rows[i] = (struct row){.nr = nr};
		r->n++;
	}
	r->rows[i].calls += calls;
	r->rows[i].errors += errors;
	r->rows[i].time_ns += ns;
}

/* A cgroup's entry left the table and the slot has cooled: its final counts
 * go to its container (or are dropped with it when it belongs to none), the
 * slot is zeroed and given back to the kernel. */
static void retire(struct syscalls *s, uint32_t slot)
{
	struct ctw_registry *reg = ctw_agent_registry(s->a);
	const struct ctw_container *c = ctw_registry_lookup(reg, s->book.slot_id[slot]);
	struct syscount_slot *m = slot_mem(s, slot);
	struct syscount_slot_time *t = tslot_mem(s, slot);
	struct retired *r = c ? get_retired(s, c->cgroup_id) : NULL;
	if (!c)
		pr_debug("syscalls: cgroup %llu went (slot %u): no container's, counts dropped",
			 (unsigned long long)s->book.slot_id[slot], slot);
	for (uint32_t nr = 0; nr < SYSCOUNT_NR_MAX; nr++) {
		uint64_t calls = ld(&m->nr[nr].calls);
		if (calls && r)
			retired_add(r, nr, calls, ld(&m->nr[nr].errors), t ? ld(&t->ns[nr]) : 0);
	}
	memset(m, 0, sizeof(*m));
	if (t)
		memset(t, 0, sizeof(*t));
	bool pushed =
		!bpf_map_update_elem(bpf_map__fd(s->skel->maps.free_slots), NULL, &slot, BPF_ANY);
	if (!pushed)
		pr_warn("syscalls: give back slot %u: %s", slot, strerror(errno));
	syscount_book_given_back(&s->book, slot, pushed);
}

/* Bring what we know in line with the kernel's slot table: slots taken
 * since the last pass, slots whose cgroup went (retired once cooled); then
 * top up. */
static void sync_table(struct syscalls *s)
{
	uint64_t changes = s->book.changes;
	/* names first: a cgroup that went may be one the registry has not
	 * heard of yet (its mkdir record still in the stream's ring) */
	ctw_agent_identity_sync(s->a);
	ring_buffer__consume(s->rb);
	size_t n = syscount_book_pass(&s->book, (const uint64_t *)s->skel->bss->slot_tab,
				      ctw_now_ns(), s->give_back);
	for (size_t i = 0; i < n; i++)
		retire(s, s->give_back[i]);
	if (s->book.changes != changes)
		s->rows_valid = false;
	while (s->book.nfree < FREE_LOW && s->nchunks < SYSCOUNT_CHUNKS_MAX) {
		int err = add_chunk(s);
		if (err) {
			pr_warn("syscalls: add a chunk of slots: %s", strerror(-err));
			break;
		}
	}
}

/* A slot taken: which cgroup it counts.  The table says it too, but a
 * cgroup may take a slot and go (its entry removed) between two passes
 * over the table: only this record names its slot then. */
static int on_event(void *ctx, void *data, size_t len)
{
	struct syscalls *s = ctx;
	struct syscount_event e;
	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	if (syscount_book_taken(&s->book, e.slot, e.id))
		s->rows_valid = false;
	return 0;
}

static void on_readable(void *ctx)
{
	sync_table(ctx);
}

static int count_one(void *ctx, uint64_t id, const char *path, int depth)
{
	return 0;
}

/* --check and every start (ctw_agent_check_settings, settings.c): the syscall set parses. */
static const struct ctw_agent_setting_def syscalls_settings[] = {
	CTW_SETTING("syscalls", CTW_SETTING_STR, "all",
		    "per-container syscall set: all | top:N | list:a,b,c"),
	CTW_SETTING("syscall_time", CTW_SETTING_BOOL, "false",
		    "account time per syscall (adds sys_enter)"),
	{0},
};

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

static int syscalls_start(struct ctw_agent *a, void **state, struct ctw_err *err)
{
	struct syscalls *s = xcalloc(1, sizeof(*s));
	int rc;
	s->a = a;
	ctw_agent_setting_bool(a, "syscall_time", &s->timing, NULL);
	if (parse_mode(s, ctw_agent_setting(a, "syscalls")) < 0) {
		ctw_err_setx(err, EINVAL, "syscalls '%s': expected all, top:N or list:NAME,...",
			     ctw_agent_setting(a, "syscalls"));
		free(s);
		return -EINVAL;
	}
	syscount_book_init(&s->book);
	s->give_back = xcalloc(SYSCOUNT_SLOTS_MAX, sizeof(*s->give_back));
	s->skel = syscount_bpf__open();
	if (!s->skel) {
		rc = ctw_err_set(err, errno, "open BPF object");
		goto out_free;
	}
	int ncpus = libbpf_num_possible_cpus();
	if (ncpus > 0)
		bpf_map__set_max_entries(s->skel->maps.memo, (__u32)ncpus + 1);
	if (!s->timing) {
		bpf_program__set_autoload(s->skel->progs.syscount_enter, false);
		bpf_program__set_autoload(s->skel->progs.syscount_timed, false);
		bpf_map__set_max_entries(s->skel->maps.tchunks, 1); /* unused */
	} else {
		bpf_program__set_autoload(s->skel->progs.syscount_exit, false);
	}
	rc = syscount_bpf__load(s->skel);
	if (rc) {
		ctw_err_set(err, -rc, "load BPF");
		goto out_destroy;
	}
	/* Slots before the programs run: every busy cgroup takes one at its
	 * next syscall, so as many as there are cgroups, and the reserve. */
	int ncg = ctw_cgroup_walk(ctw_registry_cgroup_root(ctw_agent_registry(a)), count_one, NULL);
	uint32_t want = (ncg > 0 ? (uint32_t)ncg : 0) + FREE_LOW;
	do {
		rc = add_chunk(s);
	} while (!rc && s->book.nfree < want);
	if (rc && !s->nchunks) {
		ctw_err_set(err, -rc, "first chunk of slots");
		goto out_destroy;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.syscount_events), on_event, s, NULL);
	if (!s->rb) {
		rc = ctw_err_set(err, errno, "ring buffer");
		goto out_destroy;
	}
	rc = syscount_bpf__attach(s->skel);
	if (rc) {
		ctw_err_set(err, -rc, "attach BPF");
		goto out_destroy;
	}
	rc = ctw_agent_watch_fd(a, ring_buffer__epoll_fd(s->rb), on_readable, s);
	if (rc) {
		ctw_err_set(err, -rc, "watch ring buffer");
		goto out_destroy;
	}
	/* the one of the two that was loaded, under the name the self
	 * metrics know it by */
	struct bpf_program *exit_prog =
		s->timing ? s->skel->progs.syscount_timed : s->skel->progs.syscount_exit;
	ctw_agent_track_prog(a, "syscount_exit", bpf_program__fd(exit_prog));
	ctw_agent_track_prog(a, "syscount_task_exit",
			     bpf_program__fd(s->skel->progs.syscount_task_exit));
	if (s->timing)
		ctw_agent_track_prog(a, "syscount_enter",
				     bpf_program__fd(s->skel->progs.syscount_enter));
	*state = s;
	return 0;

out_destroy:
	ring_buffer__free(s->rb);
	for (uint32_t i = 0; i < s->nchunks; i++) {
		munmap(s->chunk[i], SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot));
		if (s->tchunk[i])
			munmap(s->tchunk[i],
			       SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot_time));
	}
	syscount_bpf__destroy(s->skel);
out_free:
	syscount_book_free(&s->book);
	free(s->give_back);
	free(s);
	return rc ? rc : -EINVAL;
}

static void syscalls_stop(void *state)
{
	struct syscalls *s = state;
	ctw_agent_unwatch_fd(s->a, ring_buffer__epoll_fd(s->rb));
	ring_buffer__free(s->rb);
	syscount_bpf__destroy(s->skel);
	for (uint32_t i = 0; i < s->nchunks; i++) {
		munmap(s->chunk[i], SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot));
		if (s->tchunk[i])
			munmap(s->tchunk[i],
			       SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot_time));
	}
	for (size_t i = 0; i < SYSCOUNT_NR_MAX; i++)
		free(s->names[i]);
	for (size_t i = 0; i < s->nret; i++)
		free(s->ret[i].rows);
	free(s->ret);
	syscount_book_free(&s->book);
	free(s->give_back);
	free(s->sets);
	free(s->rows);
	free(s->groups);
	free(s->labels.buf);
	free(s);
}

/* After each discovery scan: the table, and what went. */
static void syscalls_rescanned(void *state)
{
	sync_table(state);
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
	for (size_t i = 0; i < s->nret; i++) {
		if (s->ret[i].owner == c->cgroup_id) {
			free(s->ret[i].rows);
			s->ret[i] = s->ret[--s->nret];
			break;
		}
	}
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

/* Mark which rows of one container (cgid) [rows, rows+n) are exported. */
static void select_rows(struct syscalls *s, uint64_t cgid, struct row *rows, size_t n)
{
	if (s->mode == MODE_ALL) {
		for (size_t i = 0; i < n; i++)
			rows[i].keep = true;
		return;
	}
	if (s->mode == MODE_LIST) {
		for (size_t i = 0; i < n; i++)
			rows[i].keep = has_bit(s->list_bits, rows[i].nr);
		return;
	}
	struct cset *set = get_set(s, cgid);
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
		rows[i].keep = has_bit(set->bits, rows[i].nr);
}

static struct row *new_row(struct syscalls *s)
{
	if (s->nrows == s->rowcap) {
		s->rowcap = s->rowcap ? s->rowcap * 2 : 256;
		s->rows = xrealloc(s->rows, s->rowcap * sizeof(*s->rows));
	}
	return &s->rows[s->nrows++];
}

static struct group *new_group(struct syscalls *s)
{
	if (s->ngroups == s->capgroups) {
		s->capgroups = s->capgroups ? 2 * s->capgroups : 64;
		s->groups = xrealloc(s->groups, s->capgroups * sizeof(*s->groups));
	}
	return &s->groups[s->ngroups++];
}

/* Where a container's counts come from: a live slot of one of its
 * cgroups, or its retired counts (slot NO_SLOT, ret: the index in s->ret). */
#define NO_SLOT UINT32_MAX
struct source {
	uint64_t cgid; /* the container's own cgroup id */
	uint32_t slot;
	uint32_t ret;
};

static int cmp_source(const void *x, const void *y)
{
	const struct source *a = x, *b = y;
	if (a->cgid != b->cgid)
		return a->cgid < b->cgid ? -1 : 1;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* Add one source's counts to acc (indexed by nr), marking what it made. */
static void accumulate(struct syscalls *s, const struct source *src, struct row *acc,
		       uint64_t *made)
{
	if (src->slot == NO_SLOT) {
		const struct retired *r = &s->ret[src->ret];
		for (size_t j = 0; j < r->n; j++) {
			struct row *a = &acc[r->rows[j].nr];
			a->calls += r->rows[j].calls;
			a->errors += r->rows[j].errors;
			a->time_ns += r->rows[j].time_ns;
			set_bit(made, r->rows[j].nr);
		}
		return;
	}
	const struct syscount_slot *m = slot_mem(s, src->slot);
	const struct syscount_slot_time *t = tslot_mem(s, src->slot);
	/* A container makes 30-100 of the 512 syscalls: test 4 counters (a
	 * cache line) at once, and look at each only when one moved. */
	for (uint32_t nr4 = 0; nr4 < SYSCOUNT_NR_MAX; nr4 += 4) {
		if (!(ld(&m->nr[nr4].calls) | ld(&m->nr[nr4 + 1].calls) |
		      ld(&m->nr[nr4 + 2].calls) | ld(&m->nr[nr4 + 3].calls)))
			continue;
		for (uint32_t nr = nr4; nr < nr4 + 4; nr++) {
			uint64_t calls = ld(&m->nr[nr].calls);
			if (!calls)
				continue;
			acc[nr].calls += calls;
			acc[nr].errors += ld(&m->nr[nr].errors);
			acc[nr].time_ns += t ? ld(&t->ns[nr]) : 0;
			set_bit(made, nr);
		}
	}
}

/* A row per (container, syscall it made), sorted by container and syscall
 * number: its live slots (read from the mapping: no syscall) and the
 * retired counts of its cgroups that went, summed.  The sources are sorted
 * (one per cgroup: ~1 000 for 1 000 containers), not the rows (~40 times
 * as many: sorting them was a tenth of a build). */
static void read_rows(struct syscalls *s, struct ctw_registry *reg)
{
	struct source *src = xcalloc(s->book.nslots + s->nret + 1, sizeof(*src));
	size_t ns = 0;
	for (uint32_t slot = 1; slot < s->book.nslots; slot++) {
		if (!s->book.slot_id[slot])
			continue;
		const struct ctw_container *c = ctw_registry_lookup(reg, s->book.slot_id[slot]);
		if (c)
			src[ns++] = (struct source){.cgid = c->cgroup_id, .slot = slot};
	}
	for (size_t i = 0; i < s->nret; i++) {
		const struct ctw_container *c = ctw_registry_lookup(reg, s->ret[i].owner);
		if (c && c->cgroup_id == s->ret[i].owner)
			src[ns++] = (struct source){
				.cgid = c->cgroup_id, .slot = NO_SLOT, .ret = (uint32_t)i};
	}
	qsort(src, ns, sizeof(*src), cmp_source);
	struct row acc[SYSCOUNT_NR_MAX];
	uint64_t made[SYSCOUNT_NR_MAX / 64];
	memset(acc, 0, sizeof(acc));
	s->nrows = s->ngroups = 0;
	for (size_t i = 0; i < ns;) {
		size_t j = i;
		memset(made, 0, sizeof(made));
		for (; j < ns && src[j].cgid == src[i].cgid; j++)
			accumulate(s, &src[j], acc, made);
		struct group *g = new_group(s);
		g->cgid = src[i].cgid;
		g->first = s->nrows;
		for (uint32_t w = 0; w < SYSCOUNT_NR_MAX / 64; w++) {
			for (uint64_t b = made[w]; b; b &= b - 1) {
				uint32_t nr = w * 64 + (uint32_t)__builtin_ctzll(b);
				struct row *r = new_row(s);
				*r = acc[nr];
				r->nr = nr;
				acc[nr] = (struct row){0};
			}
		}
		g->end = s->nrows;
		if (g->end > g->first) /* its cgroups made no syscall yet: no series */
			select_rows(s, g->cgid, s->rows + g->first, g->end - g->first);
		else
			s->ngroups--;
		i = j;
	}
	free(src);
}

static void emit(struct syscalls *s, struct ctw_registry *reg, struct ctw_metrics *m);

static void syscalls_collect(void *state, struct ctw_metrics *m)
{
	struct syscalls *s = state;
	struct ctw_registry *reg = ctw_agent_registry(s->a);
	/* Rows are rebuilt at most once a second (a pass over every slot);
	 * scrapes in between reuse them.  Slots taken or retired invalidate
	 * them at once. */
	uint64_t now = ctw_now_ns();
	sync_table(s);
	if (!s->rows_valid || now - s->rows_at_ns >= REFRESH_NS) {
		read_rows(s, reg);
		s->rows_at_ns = now;
		s->rows_valid = true;
	}
	emit(s, reg, m);
}

/* The first three are the per-container families, in emit()'s order. */
enum { M_CALLS, M_ERRORS, M_SECONDS, M_SLOTS, M_SLOT_BYTES, M_COUNTS_LOST };
static const struct ctw_metric_def syscalls_metrics[] = {
	[M_CALLS] = {"ctrwatch_syscalls_total", CTW_COUNTER, "Syscalls made by the container.",
		     .container = true, CTW_METRIC_LABELS("syscall")},
	[M_ERRORS] = {"ctrwatch_syscall_errors_total", CTW_COUNTER,
		      "Syscalls of the container that returned an error.", .container = true,
		      CTW_METRIC_LABELS("syscall")},
	[M_SECONDS] = {"ctrwatch_syscall_seconds_total", CTW_COUNTER,
		       "Time the container spent in syscalls (enter to exit).", .container = true,
		       CTW_METRIC_LABELS("syscall"), .when = "with --syscall-time"},
	[M_SLOTS] = {"ctrwatch_syscall_slots", CTW_GAUGE,
		     "Counter slots (one per cgroup that made syscalls) by state.",
		     CTW_METRIC_LABELS("state")},
	[M_SLOT_BYTES] = {"ctrwatch_syscall_slot_bytes", CTW_GAUGE,
			  "Memory of the syscall counter maps (chunks of slots)."},
	[M_COUNTS_LOST] = {"ctrwatch_syscall_counts_lost_total", CTW_COUNTER,
			   "Syscalls counted for no container: their cgroup found no free "
			   "counter slot."},
	{0},
};

/* What a group's block of family f shows: per row its syscall, whether
 * it is its own series, and the value; and the mode (the "other" line). */
static uint64_t group_stamp(const struct syscalls *s, const struct group *g, size_t f)
{
	uint64_t h = ctw_metrics_stamp(&s->mode, sizeof(s->mode), f);
	for (size_t j = g->first; j < g->end; j++) {
		const struct row *r = &s->rows[j];
		uint64_t v[3] = {r->nr, r->keep, f == M_CALLS ? r->calls : r->time_ns};
		h = ctw_metrics_stamp(v, sizeof(v), h);
	}
	return h;
}

static void emit(struct syscalls *s, struct ctw_registry *reg, struct ctw_metrics *m)
{
	/* Each container's labels once, for the two or three families. */
	s->labels.len = 0;
	for (size_t gi = 0; gi < s->ngroups; gi++) {
		struct group *g = &s->groups[gi];
		const struct ctw_container *c = ctw_registry_lookup(reg, g->cgid);
		g->lab = c ? ctw_agent_label_pack_add(&s->labels, c) : NO_LABELS; /* gone */
	}
	for (size_t f = M_CALLS; f <= (s->timing ? M_SECONDS : M_ERRORS); f++) {
		ctw_metrics_declare(m, &syscalls_metrics[f]);
		for (size_t gi = 0; gi < s->ngroups; gi++) {
			const struct group *g = &s->groups[gi];
			if (g->lab == NO_LABELS)
				continue;
			const char *l[16];
			ctw_agent_label_pack_get(&s->labels, g->lab, l);
			/* the container's series: one block.  Its calls (and
			 * seconds), ~30 lines, are stamped: a scrape for gzip
			 * leaves them out while they did not move. */
			if (f == M_ERRORS) {
				ctw_metrics_block(m, l);
			} else if (ctw_metrics_block_stamped(m, l, group_stamp(s, g, f)) !=
				   CTW_BLOCK_OPEN) {
				continue;
			}
			uint64_t other = 0;
			for (size_t j = g->first; j < g->end; j++) {
				const struct row *r = &s->rows[j];
				uint64_t v = f == M_CALLS    ? r->calls
					     : f == M_ERRORS ? r->errors
							     : r->time_ns;
				if (!r->keep) {
					other += v;
					continue;
				}
				if (f == M_ERRORS && !v)
					continue;
				ctw_metrics_block_sample(m, "syscall", sc_name(s, r->nr),
							 f == M_SECONDS ? v / 1e9 : (double)v);
			}
			if (s->mode != MODE_ALL && (f == M_CALLS || other))
				ctw_metrics_block_sample(m, "syscall", "other",
							 f == M_SECONDS ? other / 1e9
									: (double)other);
		}
	}
	/* slot 0: cgroups that found no slot; never in normal operation */
	const struct syscount_slot *u = slot_mem(s, SYSCOUNT_SLOT_UNATTRIBUTED);
	uint64_t total = 0;
	for (uint32_t nr = 0; nr < SYSCOUNT_NR_MAX; nr++)
		total += ld(&u->nr[nr].calls);
	/* what the counters cost: chunk maps (the kernel's memlock of each is
	 * its value area plus a page of struct) */
	ctw_metrics_declare(m, &syscalls_metrics[M_SLOTS]);
	ctw_metrics_sample(m, (const char *[]){"state", "used", NULL},
			   syscount_book_used(&s->book));
	ctw_metrics_sample(m, (const char *[]){"state", "free", NULL}, s->book.nfree);
	ctw_metrics_declare(m, &syscalls_metrics[M_SLOT_BYTES]);
	ctw_metrics_sample(
		m, NULL,
		(double)s->nchunks *
			(SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot) +
			 (s->timing ? SYSCOUNT_CHUNK_SLOTS * sizeof(struct syscount_slot_time)
				    : 0)));
	ctw_metrics_declare(m, &syscalls_metrics[M_COUNTS_LOST]);
	ctw_metrics_sample(m, NULL, (double)total);
}

/* Required: an agent without its syscall counts is not worth running. */
CTW_AGENT_MODULE(syscalls, .name = "syscalls", .required = true, .settings = syscalls_settings,
		 .start = syscalls_start, .stop = syscalls_stop,
		 .container_removed = syscalls_container_removed, .collect = syscalls_collect,
		 .reload = syscalls_reload, .rescanned = syscalls_rescanned,
		 .check = syscalls_check, .metrics = syscalls_metrics)
