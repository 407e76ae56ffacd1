// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Live syscall tracing for selected containers (`ctrwatch trace`).
 *
 * sys_enter checks the caller's cgroup v2 id against the traced map; for a
 * traced task it records the raw arguments and captures the pointed-to data
 * that only exists at enter (paths, argv, sockaddrs passed in, write data)
 * into the task's local storage.  sys_exit adds the return value, the data
 * that only exists at exit (accept's peer, read data) and the duration, and
 * emits one record to the ring buffer.  Which data to capture for which
 * argument comes from user space in trace_spec, indexed by syscall number.
 *
 * Per-event cost: on this kernel (retpolines, return thunks) every helper
 * call costs 15-50 ns, so the hot path avoids those it can: the cgroup id
 * is read from the task and checked in a table in .bss (see trace.h)
 * rather than with bpf_get_current_cgroup_id() and a hash lookup; pid, tid
 * and comm are kept in the task's state and refreshed only when they can
 * change (a new task, a successful exec, prctl); the ring buffer's backlog
 * is queried (for the wakeup decision) once every WAKE_EVERY events per
 * CPU, not per event.
 *
 * The license is GPL-compatible because the program calls GPL-only helpers
 * (bpf_probe_read_user*, task storage).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "trace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define BPF_LOCAL_STORAGE_GET_F_CREATE_ 1
#define MAX_ERRNO 4095

const volatile bool want_events = true;	 /* stream events to the ring buffer */
const volatile bool want_stats = false;	 /* count calls/errors/time per syscall */
const volatile bool filter_pids = false; /* only tgids in trace_pids (-p) */
const volatile bool failed_only = false; /* --failed */
const volatile __u32 buf_max = 32;	 /* data bytes captured per buffer (-s) */
const volatile __u64 wakeup_bytes = 0;	 /* wake the reader only past this backlog; 0 = always */
const volatile __s32 nr_execve = -1;	 /* syscalls after which comm may change */
const volatile __s32 nr_execveat = -1;
const volatile __s32 nr_prctl = -1;

/* The traced-cgroup table (see trace.h), filled by user space through the
 * mmapped .bss. */
__u64 traced_tab[TRACE_TAB_SIZE];
__u32 traced_use_hash; /* some traced cgroups are only in the hash */

/* Query the ring's backlog once per this many events per CPU. */
#define WAKE_EVERY 32

/* Ring buffer of struct ctw_trace_event + payload; size set by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* key: cgroup v2 id (__u64), value: struct ctw_trace_cgroup (loss counter).
 * Presence means "trace this cgroup". */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct ctw_trace_cgroup);
} traced SEC(".maps");

/* key: syscall nr (__u32), value: struct ctw_trace_spec (selection, captures). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACE_NR_MAX);
	__type(key, __u32);
	__type(value, struct ctw_trace_spec);
} trace_spec SEC(".maps");

/* key: tgid (__u32), value: __u8 (unused); consulted only with filter_pids. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} trace_pids SEC(".maps");

/* key: syscall nr (__u32), value: struct ctw_trace_stat per CPU (-c summary). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACE_NR_MAX);
	__type(key, __u32);
	__type(value, struct ctw_trace_stat);
} trace_stats SEC(".maps");

/* key: 0, value: per-CPU events since the last backlog query. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} wake_tick SEC(".maps");

/* A traced task's syscall in flight: the record being built. */
struct task_state {
	__u16 active;	  /* an enter is waiting for its exit */
	__u16 spec_flags; /* trace_spec.flags of the syscall in flight */
	__u32 off;	  /* payload bytes used */
	struct ctw_trace_event ev;
	__u8 payload[2 * TRACE_PAYLOAD_MAX]; /* items; half of it is slack for bounds */
};

/* key: task, value: struct task_state (created at the first traced enter). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} task_states SEC(".maps");

/* Room left for an item of up to `max` data bytes?  Keeps every write inside
 * the first TRACE_PAYLOAD_MAX bytes, so masked offsets never wrap. */
static __always_inline bool room(const struct task_state *st, __u32 max)
{
	return st->off + sizeof(struct ctw_trace_item) + max <= TRACE_PAYLOAD_MAX;
}

static __always_inline void item_close(struct task_state *st, __u32 off, __u8 arg, __u8 kind,
				       __u32 len, __u32 full_len)
{
	struct ctw_trace_item *it;

	off &= TRACE_PAYLOAD_MAX - 1;
	it = (struct ctw_trace_item *)&st->payload[off];
	it->arg = arg;
	it->kind = kind;
	it->len = len;
	it->full_len = full_len;
	st->off = off + sizeof(*it) + ((len + 7) & ~7u);
}

static __always_inline void cap_str(struct task_state *st, __u8 arg, __u64 ptr)
{
	__u32 off = st->off;
	long n;

	if (!ptr || !room(st, TRACE_STR_MAX))
		return;
	off &= TRACE_PAYLOAD_MAX - 1;
	n = bpf_probe_read_user_str(&st->payload[off + sizeof(struct ctw_trace_item)],
				    TRACE_STR_MAX, (void *)ptr);
	if (n <= 0)
		return;
	item_close(st, off, arg, TRACE_CAP_STR, n & (TRACE_STR_MAX * 2 - 1), n);
}

static __always_inline void cap_bytes(struct task_state *st, __u8 arg, __u8 kind, __u64 ptr,
				      __u64 full, __u32 max)
{
	__u32 off = st->off;
	__u32 len;

	if (!ptr || !room(st, TRACE_ITEM_MAX))
		return;
	len = full > max ? max : full;
	if (len > TRACE_ITEM_MAX)
		len = TRACE_ITEM_MAX;
	off &= TRACE_PAYLOAD_MAX - 1;
	if (bpf_probe_read_user(&st->payload[off + sizeof(struct ctw_trace_item)], len,
				(void *)ptr))
		return;
	item_close(st, off, arg, kind, len, full > 0xffffffffull ? 0xffffffffu : (__u32)full);
}

static __always_inline void cap_argv(struct task_state *st, __u8 arg, __u64 ptr)
{
	__u32 start = st->off, used = 0;
	__u8 kind = TRACE_CAP_ARGV;
	int i;

	if (!ptr || !room(st, TRACE_ARGV_STR_MAX))
		return;
	start &= TRACE_PAYLOAD_MAX - 1;
	for (i = 0; i < TRACE_ARGV_MAX; i++) {
		__u64 p = 0;
		__u32 pos;
		long n;

		if (bpf_probe_read_user(&p, sizeof(p), (void *)(ptr + i * sizeof(p))) || !p)
			break;
		if (start + sizeof(struct ctw_trace_item) + used + TRACE_ARGV_STR_MAX >
		    TRACE_PAYLOAD_MAX) {
			kind |= TRACE_ITEM_MORE;
			break;
		}
		pos = (start + sizeof(struct ctw_trace_item) + used) & (TRACE_PAYLOAD_MAX - 1);
		n = bpf_probe_read_user_str(&st->payload[pos], TRACE_ARGV_STR_MAX, (void *)p);
		if (n <= 0)
			break;
		used += n & (TRACE_ARGV_STR_MAX * 2 - 1);
	}
	if (i == TRACE_ARGV_MAX) {
		__u64 p = 0;

		if (!bpf_probe_read_user(&p, sizeof(p), (void *)(ptr + i * sizeof(p))) && p)
			kind |= TRACE_ITEM_MORE;
	}
	item_close(st, start, arg, kind, used, i);
}

static __always_inline void cap_sockaddr_out(struct task_state *st, __u8 arg, __u64 ptr,
					     __u64 lenptr)
{
	__u32 len = 0;

	if (!ptr || !lenptr || bpf_probe_read_user(&len, sizeof(len), (void *)lenptr))
		return;
	cap_bytes(st, arg, TRACE_CAP_SOCKADDR_OUT, ptr, len, TRACE_SOCKADDR_MAX);
}

static __always_inline __u64 wake_flags(void)
{
	__u32 z = 0;
	__u32 *tick;

	if (!wakeup_bytes)
		return 0;
	tick = bpf_map_lookup_elem(&wake_tick, &z);
	if (tick && ++*tick < WAKE_EVERY)
		return BPF_RB_NO_WAKEUP;
	if (tick)
		*tick = 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

/* Is this cgroup traced? */
static __always_inline bool is_traced(__u64 cgid)
{
	__u32 h = TRACE_TAB_HASH(cgid);
	int i;

#pragma unroll
	for (i = 0; i < TRACE_TAB_PROBES; i++) {
		__u64 e = traced_tab[(h + i) & (TRACE_TAB_SIZE - 1)];

		if (e == cgid)
			return true;
		if (!e)
			break;
	}
	return traced_use_hash && bpf_map_lookup_elem(&traced, &cgid);
}

static __always_inline bool is_error(__s64 ret)
{
	return ret < 0 && ret >= -MAX_ERRNO;
}

static __always_inline void count(__u32 nr, __s64 ret, __u64 ns)
{
	struct ctw_trace_stat *s = bpf_map_lookup_elem(&trace_stats, &nr);

	if (!s)
		return;
	s->calls++;
	if (is_error(ret))
		s->errors++;
	s->ns += ns;
}

static __always_inline void emit(struct task_state *st)
{
	__u32 len = st->off;

	if (len > TRACE_PAYLOAD_MAX)
		len = TRACE_PAYLOAD_MAX;
	st->ev.payload_len = len;
	if (bpf_ringbuf_output(&events, &st->ev, sizeof(st->ev) + len, wake_flags())) {
		__u64 cgid = st->ev.cgroup_id;
		struct ctw_trace_cgroup *tc = bpf_map_lookup_elem(&traced, &cgid);

		if (tc)
			__sync_fetch_and_add(&tc->lost, 1);
	}
}

/* Capture what spec asks for: data passed in at enter, data returned at exit. */
static __always_inline void capture(struct task_state *st, const struct ctw_trace_spec *spec,
				    bool at_exit)
{
	int i;

	for (i = 0; i < TRACE_NARGS; i++) {
		__u8 kind = spec->kind[i];
		__u8 la = spec->lenarg[i];
		__u64 v = st->ev.args[i];
		__u64 lv = la < TRACE_NARGS ? st->ev.args[la] : 0;

		if (kind == TRACE_CAP_NONE)
			continue;
		if (at_exit) {
			if (kind == TRACE_CAP_SOCKADDR_OUT)
				cap_sockaddr_out(st, i, v, lv);
			else if (kind == TRACE_CAP_BUF_OUT && st->ev.ret > 0)
				cap_bytes(st, i, kind, v, st->ev.ret, buf_max);
		} else if (kind == TRACE_CAP_STR) {
			cap_str(st, i, v);
		} else if (kind == TRACE_CAP_ARGV) {
			cap_argv(st, i, v);
		} else if (kind == TRACE_CAP_SOCKADDR_IN) {
			cap_bytes(st, i, kind, v, lv, TRACE_SOCKADDR_MAX);
		} else if (kind == TRACE_CAP_BUF_IN) {
			cap_bytes(st, i, kind, v, lv, buf_max);
		}
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(trace_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cgid = task->cgroups->dfl_cgrp->kn->id; /* bpf_get_current_cgroup_id() */
	struct ctw_trace_spec *spec;
	struct task_state *st;
	__u32 nr;

	if (!cgid || !is_traced(cgid))
		return 0;
	if (id < 0 || id >= TRACE_NR_MAX)
		return 0;
	nr = id;
	spec = bpf_map_lookup_elem(&trace_spec, &nr);
	if (!spec)
		return 0;
	if (!(spec->flags & TRACE_SPEC_SELECTED)) {
		/* not traced, but it may change pid, tid or comm (an exec, a
		 * rename): refresh them at the next traced syscall */
		if (nr == nr_execve || nr == nr_execveat || nr == nr_prctl) {
			st = bpf_task_storage_get(&task_states, task, NULL, 0);
			if (st)
				st->ev.tid = 0;
		}
		return 0;
	}
	if (filter_pids) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		if (!bpf_map_lookup_elem(&trace_pids, &tgid))
			return 0;
	}
	st = bpf_task_storage_get(&task_states, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE_);
	if (!st)
		return 0;
	/* pid, tid and comm are kept per task and refreshed only when they
	 * can change (a new task, a successful exec): helper calls less per
	 * syscall */
	if (!st->ev.tid) {
		__u64 pid_tgid = bpf_get_current_pid_tgid();

		st->ev.pid = pid_tgid >> 32;
		st->ev.tid = (__u32)pid_tgid;
		bpf_get_current_comm(st->ev.comm, sizeof(st->ev.comm));
	}
	st->active = 1;
	st->spec_flags = spec->flags;
	st->off = 0;
	st->ev.ts_ns = bpf_ktime_get_ns();
	st->ev.cgroup_id = cgid;
	st->ev.duration_ns = 0;
	st->ev.ret = 0;
	st->ev.nr = nr;
	st->ev.flags = 0;
	st->ev.args[0] = regs->di;
	st->ev.args[1] = regs->si;
	st->ev.args[2] = regs->dx;
	st->ev.args[3] = regs->r10;
	st->ev.args[4] = regs->r8;
	st->ev.args[5] = regs->r9;

	if (want_events && (spec->flags & TRACE_SPEC_CAP_ENTER))
		capture(st, spec, false);

	if (spec->flags & TRACE_SPEC_NORETURN) {
		/* exit_group never reaches sys_exit: report it now. */
		st->active = 0;
		st->ev.flags = TRACE_EV_NORETURN;
		if (want_stats && !failed_only)
			count(nr, 0, 0);
		if (want_events && !failed_only)
			emit(st);
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(trace_exit, struct pt_regs *regs, long ret)
{
	struct ctw_trace_spec *spec;
	struct task_state *st;
	__u32 nr;

	st = bpf_task_storage_get(&task_states, bpf_get_current_task_btf(), NULL, 0);
	if (!st || !st->active)
		return 0;
	st->active = 0;
	st->ev.ret = ret;
	st->ev.duration_ns = bpf_ktime_get_ns() - st->ev.ts_ns;
	if (ret == 0 &&
	    (st->ev.nr == nr_execve || st->ev.nr == nr_execveat || st->ev.nr == nr_prctl)) {
		/* an exec from a thread other than the leader takes the
		 * leader's pid: tid changes too */
		__u64 pid_tgid = bpf_get_current_pid_tgid();

		st->ev.pid = pid_tgid >> 32;
		st->ev.tid = (__u32)pid_tgid;
		bpf_get_current_comm(st->ev.comm, sizeof(st->ev.comm));
	}
	if (failed_only && !is_error(ret))
		return 0;
	if (want_stats)
		count(st->ev.nr, ret, st->ev.duration_ns);
	if (!want_events)
		return 0;

	if ((st->spec_flags & TRACE_SPEC_CAP_EXIT) && ret >= 0) {
		nr = st->ev.nr;
		spec = bpf_map_lookup_elem(&trace_spec, &nr);
		if (spec)
			capture(st, spec, true);
	}
	emit(st);
	return 0;
}

/* A cgroup made inside a traced one is traced from its first syscall: the
 * decision is taken here, in its mkdir, before any task can run in it (a
 * container that makes cgroups of its own, `run --trace` of a nested
 * runtime).  Default (v2) hierarchy only.  The table entry is taken with
 * compare-and-swap (user space does the same); one that finds no room is in
 * the hash only, and the program is told to look there. */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(trace_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	struct ctw_trace_cgroup zero = {};
	struct cgroup *parent = NULL;
	__u64 id, pid;
	int level, i;
	__u32 h;

	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	level = BPF_CORE_READ(cgrp, level);
	if (level <= 0 || level >= 1024)
		return 0;
	bpf_core_read(&parent, sizeof(parent), &cgrp->ancestors[level - 1]);
	if (!parent)
		return 0;
	pid = BPF_CORE_READ(parent, kn, id);
	if (!is_traced(pid))
		return 0;
	id = BPF_CORE_READ(cgrp, kn, id);
	if (bpf_map_update_elem(&traced, &id, &zero, BPF_NOEXIST))
		return 0;
	h = TRACE_TAB_HASH(id);
	for (i = 0; i < TRACE_TAB_PROBES; i++) {
		__u32 idx = (h + i) & (TRACE_TAB_SIZE - 1);

		if (!traced_tab[idx] && __sync_val_compare_and_swap(&traced_tab[idx], 0, id) == 0)
			return 0;
	}
	traced_use_hash = 1;
	return 0;
}
