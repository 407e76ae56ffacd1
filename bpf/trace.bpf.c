// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Live syscall tracing for selected containers (`ctrwatch trace`).
 *
 * sys_enter checks the caller's cgroup v2 id against the traced table; for
 * a traced task it records the raw arguments and captures the pointed-to
 * data that only exists at enter (paths, argv, structs passed in, write
 * data) into the task's local storage.  sys_exit adds the return value,
 * what the kernel wrote (struct stat, wait status, read data, the old
 * sigaction, ...) and the duration, and emits one record to the ring
 * buffer.  What to capture for which argument comes from user space in
 * trace_spec, indexed by syscall number: the kernel side only copies bounded
 * bytes, user space decodes them.
 *
 * Around the syscalls: sched_process_exec completes an execve's record
 * (argc, envc, and argv from the new stack when the caller's pages could not
 * be read at enter), signal_deliver and signal_generate report signals as
 * strace shows them, sched_process_exit reports exits, and sched_process_fork
 * passes "follow" on to children when only the command started by the first
 * execve is traced (follow_exec).  User space loads only the programs it
 * needs.
 *
 * Per-event cost: on this kernel (retpolines, return thunks) every helper
 * call costs 15-50 ns, so the hot path avoids those it can: the cgroup id
 * is read from the task and checked in a table in .bss (see trace.h)
 * rather than with bpf_get_current_cgroup_id() and a hash lookup; pid, tid
 * and comm are kept in the task's state and refreshed only when they can
 * change (a new task, a successful exec, prctl); the ring buffer's backlog
 * is queried (for the wakeup decision) once every WAKE_EVERY events per
 * CPU, not per event.  Captures are global functions, verified once each,
 * and run only for syscalls whose spec asks for them.
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
#define SIGKILL_ 9
#define CLONE_PARENT_SETTID_ 0x00100000
#define CLONE_PIDFD_ 0x00001000
#define TRACE_SIGNAL_DELIVERED_ 0
#define TRACE_SIGNAL_IGNORED_ 1
#define SI_USER_ 0
#define SI_KERNEL_ 0x80
#define PR_SET_PDEATHSIG_ 1
#define PR_GET_PDEATHSIG_ 2
#define PR_SET_NAME_ 15
#define PR_GET_NAME_ 16

/* status_mask bits (-e status=) */
#define STATUS_SUCCESSFUL 1
#define STATUS_FAILED 2
#define STATUS_UNFINISHED 4

const volatile bool want_events = true;	 /* stream events to the ring buffer */
const volatile bool want_stats = false;	 /* count calls/errors/time per syscall */
const volatile bool filter_pids = false; /* only tgids in trace_pids (-p) */
const volatile bool follow_exec = false; /* only tasks since their execve, and their children */
const volatile bool stats_all = false;	 /* follow_exec: still count the others' calls */
const volatile __u8 status_mask = 7;	 /* -e status= */
const volatile __u64 sig_mask = ~0ull;	 /* -e signal=: bit sig-1 */
const volatile bool quiet_exit = false;	 /* -e quiet=exit: no "+++ exited with" lines */
const volatile __u32 buf_max = 32;	 /* data bytes captured per buffer (-s) */
const volatile __u64 wakeup_bytes = 0;	 /* wake the reader only past this backlog; 0 = always */
const volatile __s32 nr_execve = -1;	 /* syscalls after which comm may change */
const volatile __s32 nr_execveat = -1;
const volatile __s32 nr_prctl = -1;
const volatile __u8 want_fds = 0; /* -y: what fds refer to; -yy: sockets' endpoints too */

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

/* A signal seen when it was sent, shown when its target next stops by. */
struct pending_sig {
	__s32 signo;
	__u32 __pad;
	__u8 info[TRACE_SIGINFO_SIZE];
};
#define PENDING_SIGS 4

/* task_state.spec_flags beyond trace_spec's: an execve not selected, seen
 * only to follow the task that makes it (follow_exec) */
#define TS_UNSELECTED 0x100

/* A traced task's syscall in flight: the record being built. */
struct task_state {
	__u16 active;	  /* an enter is waiting for its exit */
	__u16 spec_flags; /* trace_spec.flags of the syscall in flight */
	__u32 off;	  /* payload bytes used */
	__u8 followed;	  /* follow_exec: the command or one of its children */
	__u8 exec_retry;  /* execve's argv (1) or path (2) could not be read at enter */
	__u8 nsig;	  /* pending signals in sig[] */
	__u8 str_retry;	  /* strings (bit per argument) not readable at enter */
	__u32 __pad2;
	__u64 sp; /* user stack pointer at enter (rt_sigreturn's frame) */
	struct pending_sig sig[PENDING_SIGS + 1]; /* the last: signal_deliver's */
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

/* A signal or exit record: the header and at most one siginfo item. */
struct sig_record {
	struct ctw_trace_event ev;
	struct ctw_trace_item it;
	__u8 info[TRACE_SIGINFO_SIZE];
};

/* ---- items ---- */

/* v, known to the verifier to be below 2 * max (max a power of two): the
 * compiler may otherwise test a copy of v and pass the original, whose
 * bounds the verifier never learned. */
#define BOUNDED(v, max)            \
	({                         \
		__u64 b_ = (v);    \
		barrier_var(b_);   \
		b_ &(2 * (max)-1); \
	})

static __always_inline void item_close(struct task_state *st, __u32 off, __u32 arg, __u32 kind,
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

/* Copy len (<= TRACE_ITEM_MAX) bytes of user memory into a new item;
 * argkind = arg | kind << 8.  -1 when there is no room or it is unreadable. */
__noinline int put_user_mem(struct task_state *st, __u32 argkind, __u64 ptr, __u32 len,
			    __u32 full_len)
{
	__u32 off;

	if (!st)
		return -1;
	if (len > TRACE_ITEM_MAX)
		len = TRACE_ITEM_MAX;
	off = st->off;
	if (off + sizeof(struct ctw_trace_item) + len > TRACE_PAYLOAD_MAX)
		return -1;
	off &= TRACE_PAYLOAD_MAX - 1;
	if (len && bpf_probe_read_user(&st->payload[off + sizeof(struct ctw_trace_item)],
				       BOUNDED(len, TRACE_ITEM_MAX), (void *)ptr))
		return -1;
	item_close(st, off, argkind & 0xff, argkind >> 8, len, full_len);
	return 0;
}

__noinline int cap_fd(struct task_state *st, __u32 arg, __s64 fd);

/* A NUL-terminated string of at most max (<= TRACE_STR_MAX) bytes, from
 * user memory or (kernel) from the kernel. */
__noinline int put_str(struct task_state *st, __u32 argkind, __u64 ptr, __u32 max, __u32 kernel)
{
	__u32 off;
	long n;

	if (!st || !ptr)
		return -1;
	if (max > TRACE_STR_MAX)
		max = TRACE_STR_MAX;
	off = st->off;
	if (off + sizeof(struct ctw_trace_item) + TRACE_STR_MAX > TRACE_PAYLOAD_MAX)
		return -1;
	off &= TRACE_PAYLOAD_MAX - 1;
	if (kernel)
		n = bpf_probe_read_kernel_str(&st->payload[off + sizeof(struct ctw_trace_item)],
					      BOUNDED(max, TRACE_STR_MAX), (void *)ptr);
	else
		n = bpf_probe_read_user_str(&st->payload[off + sizeof(struct ctw_trace_item)],
					    BOUNDED(max, TRACE_STR_MAX), (void *)ptr);
	if (n <= 0)
		return -1;
	item_close(st, off, argkind & 0xff, argkind >> 8, n & (TRACE_STR_MAX * 2 - 1), n);
	return 0;
}

/* char *const argv[]: up to TRACE_ARGV_MAX strings, NUL-separated, each cut
 * at what -s shows.  -1 when a pointer or a string could not be read (the
 * pages may not be there yet: right after fork, a child has not touched its
 * parent's read-only data). */
__noinline int cap_argv(struct task_state *st, __u32 arg, __u64 ptr)
{
	/* -s N shows N bytes: one more tells that there were more, one for
	 * the NUL */
	__u32 start, used = 0, str_max = buf_max + 2;
	__u8 kind = TRACE_CAP_ARGV;
	int i, rc = 0;

	if (!st || !ptr)
		return -1;
	if (str_max > TRACE_ARGV_STR_MAX)
		str_max = TRACE_ARGV_STR_MAX;
	start = st->off;
	if (start + sizeof(struct ctw_trace_item) + TRACE_ARGV_STR_MAX > TRACE_PAYLOAD_MAX)
		return -1;
	start &= TRACE_PAYLOAD_MAX - 1;
	for (i = 0; i < TRACE_ARGV_MAX; i++) {
		__u64 p = 0;
		__u32 pos;
		long n;

		if (bpf_probe_read_user(&p, sizeof(p), (void *)(ptr + i * sizeof(p)))) {
			rc = -1;
			break;
		}
		if (!p)
			break;
		if (start + sizeof(struct ctw_trace_item) + used + TRACE_ARGV_STR_MAX >
		    TRACE_PAYLOAD_MAX) {
			kind |= TRACE_ITEM_MORE;
			break;
		}
		pos = (start + sizeof(struct ctw_trace_item) + used) & (TRACE_PAYLOAD_MAX - 1);
		n = bpf_probe_read_user_str(&st->payload[pos], BOUNDED(str_max, TRACE_ARGV_STR_MAX),
					    (void *)p);
		if (n <= 0) {
			rc = -1;
			break;
		}
		used += n & (TRACE_ARGV_STR_MAX * 2 - 1);
	}
	if (i == TRACE_ARGV_MAX) {
		__u64 p = 0;

		if (!bpf_probe_read_user(&p, sizeof(p), (void *)(ptr + i * sizeof(p))) && p)
			kind |= TRACE_ITEM_MORE;
	}
	item_close(st, start, arg, kind, used, i);
	return rc;
}

struct count_ctx {
	__u64 ptr;
	__u64 limit; /* DENTS: the bytes returned */
	__u64 off;
	__u32 n;
	__u32 failed;
};

static long count_ptr(__u32 i, struct count_ctx *c)
{
	__u64 p = 0;

	if (bpf_probe_read_user(&p, sizeof(p), (void *)(c->ptr + i * sizeof(p)))) {
		c->failed = 1;
		return 1;
	}
	if (!p)
		return 1;
	c->n++;
	return 0;
}

static long count_dent(__u32 i, struct count_ctx *c)
{
	__u16 reclen = 0;

	/* d_reclen is at offset 16 in both struct linux_dirent and dirent64 */
	if (c->off >= c->limit ||
	    bpf_probe_read_user(&reclen, sizeof(reclen), (void *)(c->ptr + c->off + 16)) || !reclen)
		return 1;
	c->off += reclen;
	c->n++;
	return 0;
}

/* A count as an item (full_len), no data. */
static __always_inline int put_count(struct task_state *st, __u32 arg, __u32 n)
{
	if (st->off + sizeof(struct ctw_trace_item) > TRACE_PAYLOAD_MAX)
		return -1;
	item_close(st, st->off, arg, TRACE_IT_COUNT, 0, n);
	return 0;
}

/* struct iovec[count] and the data of each: in total at most limit bytes
 * (the return value, for data read), each cut at buf_max.  arg_exit: the
 * argument, and TRACE_ITEM_EXIT << 8 at exit. */
__noinline int cap_iov(struct task_state *st, __u32 arg_exit, __u64 ptr, __u64 count, __u64 limit)
{
	__u32 arg = arg_exit & 0xff, exit = (arg_exit >> 8) & TRACE_ITEM_EXIT;
	__u32 n = count > TRACE_IOV_MAX ? TRACE_IOV_MAX : count;
	int i;

	if (!st || !ptr)
		return -1;
	if (put_user_mem(st, arg | ((TRACE_IT_IOV | exit | (count > n ? TRACE_ITEM_MORE : 0)) << 8),
			 ptr, n * 16, count))
		return -1;
	for (i = 0; i < TRACE_IOV_MAX && i < n && limit; i++) {
		struct {
			__u64 base, len;
		} iov;
		__u64 take;

		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(ptr + i * 16)))
			return -1;
		take = iov.len < limit ? iov.len : limit;
		limit -= take;
		if (take > buf_max)
			take = buf_max;
		if (put_user_mem(st, arg | ((TRACE_IT_IOVDATA | exit) << 8), iov.base, take, i))
			return -1;
	}
	return 0;
}

/* struct user_msghdr and what it points to; at exit (recvmsg) the data is
 * cut at the bytes received. */
__noinline int cap_msghdr(struct task_state *st, __u32 arg_exit, __u64 ptr, __u64 limit)
{
	__u32 arg = arg_exit & 0xff, exit = (arg_exit >> 8) & TRACE_ITEM_EXIT;
	struct user_msghdr m;

	if (!st || !ptr || bpf_probe_read_user(&m, sizeof(m), (void *)ptr))
		return -1;
	if (put_user_mem(st, arg | ((TRACE_IT_MSGHDR | exit) << 8), ptr, sizeof(m), sizeof(m)))
		return -1;
	if (m.msg_name && m.msg_namelen > 0)
		put_user_mem(st, arg | ((TRACE_IT_MSGNAME | exit) << 8), (__u64)m.msg_name,
			     m.msg_namelen > 128 ? 128 : m.msg_namelen, m.msg_namelen);
	cap_iov(st, arg | exit << 8, (__u64)m.msg_iov, m.msg_iovlen, limit);
	if (m.msg_control && m.msg_controllen) {
		put_user_mem(st, arg | ((TRACE_IT_MSGCTRL | exit) << 8), (__u64)m.msg_control,
			     m.msg_controllen > 128 ? 128 : m.msg_controllen, m.msg_controllen);
		if (want_fds && m.msg_controllen >= 20) {
			/* SCM_RIGHTS first: the fds passed, as the sender or the
			 * receiver has them */
			struct {
				__u64 len;
				int level, type;
				int fds[4];
			} cm = {};
			int k;

			if (bpf_probe_read_user(&cm, sizeof(cm), m.msg_control) ||
			    cm.level != 1 /* SOL_SOCKET */ || cm.type != 1 /* SCM_RIGHTS */)
				return 0;
			for (k = 0; k < 4 && 16 + 4 * (k + 1) <= cm.len; k++)
				cap_fd(st, arg, cm.fds[k]);
		}
	}
	return 0;
}

/* ioctl's third argument: bytes in (at enter) or out (at exit), by request. */
static __always_inline int ioctl_size(__u32 req, __u32 *when)
{
	/* struct ifreq: the name (or index) in, the answer out */
	*when = TRACE_AT_ENTER | TRACE_AT_EXIT;
	switch (req) {
	case 0x8910: /* SIOCGIFNAME */
	case 0x8913: /* SIOCGIFFLAGS */
	case 0x8921: /* SIOCGIFMTU */
	case 0x8933: /* SIOCGIFINDEX */ return 40;
	case 0x8912: /* SIOCGIFCONF: struct ifconf */ return 16;
	}
	*when = TRACE_AT_EXIT;
	switch (req) {
	case 0x5401: return 36; /* TCGETS: struct termios */
	case 0x5413: return 8;	/* TIOCGWINSZ */
	case 0x541B:		/* FIONREAD */
	case 0x540F:		/* TIOCGPGRP */
	case 0x5411:		/* TIOCOUTQ */
	case 0x5424:		/* TIOCGETD */
	case 0x5429:		/* TIOCGSID */
	case 0x80045430:	/* TIOCGPTN */
	case 0x80045432:	/* TIOCGDEV */
	case 0x80045440: /* TIOCGEXCL */ return 4;
	}
	*when = TRACE_AT_ENTER;
	switch (req) {
	case 0x5402: /* TCSETS, TCSETSW, TCSETSF */
	case 0x5403:
	case 0x5404: return 36;
	case 0x5414: return 8; /* TIOCSWINSZ */
	case 0x5421:	       /* FIONBIO */
	case 0x5452:	       /* FIOASYNC */
	case 0x5410:	       /* TIOCSPGRP */
	case 0x40045431: /* TIOCSPTLCK */ return 4;
	}
	return 0;
}

/* ---- -y: what an fd refers to ---- */

#define S_IFMT_ 0170000
#define S_IFSOCK_ 0140000
#define S_IFIFO_ 0010000
#define PIPEFS_MAGIC_ 0x50495045
#define ANON_INODE_FS_MAGIC_ 0x09041934
#define AT_FDCWD_ (-100)
#define FD_PATH_MAX 512 /* path bytes per fd */
#define FD_DEPTH 24	/* directories walked up */

/* The names from dentry up to its namespace's root, leaf first, each
 * NUL-terminated, written at st->payload[pos...]; returns the bytes used. */
static __always_inline __u32 walk_path(struct task_state *st, __u32 pos, struct dentry *dentry,
				       struct vfsmount *vfsmnt)
{
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	__u32 used = 0;
	int i;

	for (i = 0; i < FD_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
		struct dentry *root = BPF_CORE_READ(mnt, mnt.mnt_root);
		const unsigned char *name;
		__u32 at;
		long n;

		if (dentry == root) {
			/* a mount's root: go on from where it is mounted */
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

			if (up == mnt)
				break; /* the namespace's root */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			continue;
		}
		if (dentry == parent || used + 256 > FD_PATH_MAX)
			break;
		name = BPF_CORE_READ(dentry, d_name.name);
		at = (pos + used) & (TRACE_PAYLOAD_MAX - 1);
		n = bpf_probe_read_kernel_str(&st->payload[at], 256, name);
		if (n <= 0)
			break;
		used += n & 511;
		dentry = parent;
	}
	return used;
}

/* An item TRACE_IT_FD for fd of argument arg (TRACE_NARGS: the return
 * value): struct ctw_trace_fdinfo, then the path's names or the socket's
 * bound unix path; full_len is the fd. */
__noinline int cap_fd(struct task_state *st, __u32 arg, __s64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ctw_trace_fdinfo fi = {};
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct inode *inode;
	struct file *f = NULL;
	__u32 off, extra = 0;
	__u64 magic;

	if (!st)
		return -1;
	off = st->off;
	if (off + sizeof(struct ctw_trace_item) + sizeof(fi) + FD_PATH_MAX > TRACE_PAYLOAD_MAX)
		return -1;
	off &= TRACE_PAYLOAD_MAX - 1;
	if (fd == AT_FDCWD_) {
		dentry = BPF_CORE_READ(task, fs, pwd.dentry);
		vfsmnt = BPF_CORE_READ(task, fs, pwd.mnt);
	} else {
		struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
		struct file **fds = BPF_CORE_READ(fdt, fd);

		if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
			return -1;
		bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffffff]);
		if (!f)
			return -1;
		dentry = BPF_CORE_READ(f, f_path.dentry);
		vfsmnt = BPF_CORE_READ(f, f_path.mnt);
	}
	inode = BPF_CORE_READ(dentry, d_inode);
	fi.mode = BPF_CORE_READ(inode, i_mode) & S_IFMT_;
	fi.ino = BPF_CORE_READ(inode, i_ino);
	fi.rdev = BPF_CORE_READ(inode, i_rdev);
	magic = BPF_CORE_READ(dentry, d_sb, s_magic);
	fi.type = TRACE_FD_PATH;
	if (fi.mode == S_IFSOCK_ && f) {
		struct socket *sock = BPF_CORE_READ(f, private_data);
		struct sock *sk = BPF_CORE_READ(sock, sk);

		fi.type = TRACE_FD_SOCKET;
		fi.family = BPF_CORE_READ(sk, __sk_common.skc_family);
		fi.sock_type = BPF_CORE_READ(sk, sk_type);
		fi.protocol = BPF_CORE_READ(sk, sk_protocol);
		if (want_fds > 1 && fi.family == 2 /* AF_INET */) {
			BPF_CORE_READ_INTO(&fi.saddr, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO(&fi.daddr, sk, __sk_common.skc_daddr);
		} else if (want_fds > 1 && fi.family == 10 /* AF_INET6 */) {
			BPF_CORE_READ_INTO(&fi.saddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&fi.daddr, sk, __sk_common.skc_v6_daddr);
		}
		if (want_fds > 1 && (fi.family == 2 || fi.family == 10)) {
			fi.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
			fi.dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		} else if (want_fds > 1 && fi.family == 1 /* AF_UNIX */) {
			struct unix_sock *us = (struct unix_sock *)sk;
			struct sock *peer = BPF_CORE_READ(us, peer);
			struct unix_address *ua = BPF_CORE_READ(us, addr);

			if (peer)
				fi.peer_ino = BPF_CORE_READ(peer, sk_socket, file, f_inode, i_ino);
			if (ua) {
				/* the bound name as bytes: an abstract one starts
				 * with a NUL */
				int alen = BPF_CORE_READ(ua, len) - 2;

				if (alen > 0 && alen <= 108 &&
				    !bpf_probe_read_kernel(
					    &st->payload[(off + sizeof(struct ctw_trace_item) +
							  sizeof(fi)) &
							 (TRACE_PAYLOAD_MAX - 1)],
					    alen & 127, (void *)ua->name[0].sun_path))
					extra = alen & 127;
			}
		} else if (want_fds > 1 && fi.family == 16 /* AF_NETLINK */) {
			fi.peer_ino = BPF_CORE_READ((struct netlink_sock *)sk, portid);
		}
	} else if (magic == PIPEFS_MAGIC_) {
		fi.type = TRACE_FD_PIPE;
	} else if (magic == ANON_INODE_FS_MAGIC_) {
		/* its dentry's name is the "[eventfd]" of anon_inode:[eventfd] */
		long n = bpf_probe_read_kernel_str(
			&st->payload[(off + sizeof(struct ctw_trace_item) + sizeof(fi)) &
				     (TRACE_PAYLOAD_MAX - 1)],
			64, BPF_CORE_READ(dentry, d_name.name));

		fi.type = TRACE_FD_ANON;
		if (n > 0)
			extra = n & 127;
	} else {
		extra = walk_path(st, off + sizeof(struct ctw_trace_item) + sizeof(fi), dentry,
				  vfsmnt);
	}
	__builtin_memcpy(&st->payload[off + sizeof(struct ctw_trace_item)], &fi, sizeof(fi));
	item_close(st, off, arg, TRACE_IT_FD, sizeof(fi) + (extra & (FD_PATH_MAX * 2 - 1)),
		   (__u32)fd);
	return 0;
}

struct fdset_ctx {
	struct task_state *st;
	__u64 bits[4]; /* the first 256 fds of an fd_set */
	__u32 arg, nfds, found;
};

static long fdset_one(__u32 fd, struct fdset_ctx *c)
{
	if (fd >= c->nfds || c->found >= 8)
		return 1;
	if (c->bits[(fd >> 6) & 3] & (1ull << (fd & 63))) {
		cap_fd(c->st, c->arg, fd);
		c->found++;
	}
	return 0;
}

/* -y: what the fds in an array are: pollfds (elem 8, the fd first) or an
 * fd_set (elem 0: bits); at most a few of them. */
__noinline int cap_fd_array(struct task_state *st, __u32 arg, __u64 ptr, __u64 count, __u32 elem)
{
	struct fdset_ctx c = {};
	int k;

	if (!st || !ptr)
		return -1;
	if (elem == 8) {
		for (k = 0; k < 16 && k < count; k++) {
			int fd = -1;

			if (bpf_probe_read_user(&fd, sizeof(fd), (void *)(ptr + k * 8)))
				return -1;
			if (fd >= 0)
				cap_fd(st, arg, fd);
		}
		return 0;
	}
	c.st = st;
	c.arg = arg;
	c.nfds = count < 256 ? count : 256;
	if (bpf_probe_read_user(c.bits, (c.nfds + 63) / 64 * 8 & 63, (void *)ptr))
		return -1;
	bpf_loop(256, fdset_one, &c, 0);
	return 0;
}

/* Capture argument i as spec (a struct ctw_trace_argspec) says. */
__noinline int capture_arg(struct task_state *st, __u64 spec, __u32 i, __u32 at_exit, __s64 ret)
{
	__u32 cap = spec & 0xff, lensrc = (spec >> 16) & 0xff, flags = (spec >> 24) & 0xff;
	__u32 elem = (spec >> 32) & 0xffff, max = (spec >> 48) & 0xffff;
	__u32 exit = at_exit ? TRACE_ITEM_EXIT : 0;
	__u64 v, count = 1, bytes;
	struct count_ctx c = {};
	__u32 when;
	int sz;

	if (!st || i >= TRACE_NARGS)
		return -1;
	v = st->ev.args[i];
	if (!v && cap != TRACE_CAP_SIGFRAME && cap != TRACE_CAP_FD)
		return 0; /* NULL: nothing to read */
	if (lensrc == TRACE_LEN_RET) {
		count = ret;
	} else if (lensrc == TRACE_LEN_NONE) {
		count = 1;
	} else if (lensrc & 0x10) {
		__u32 n = 0;
		__u32 la = lensrc & 7;

		if (la >= TRACE_NARGS ||
		    bpf_probe_read_user(&n, sizeof(n), (void *)st->ev.args[la & 7]))
			return -1;
		count = n;
	} else if (lensrc < TRACE_NARGS) {
		count = st->ev.args[lensrc & 7];
	}

	switch (cap) {
	case TRACE_CAP_STR:
		return put_str(st, i | (TRACE_CAP_STR | exit) << 8, v, TRACE_STR_MAX, 0);
	case TRACE_CAP_ARGV: return cap_argv(st, i, v);
	case TRACE_CAP_MEM:
		if (lensrc == TRACE_LEN_NONE)
			bytes = max;
		else if (!elem) /* bits: fd_set */
			bytes = (count + 63) / 64 * 8;
		else
			bytes = count * elem;
		if ((__s64)bytes < 0)
			return 0;
		if ((flags & TRACE_ARG_DATA) && max > buf_max)
			max = buf_max;
		if (put_user_mem(st, i | (TRACE_CAP_MEM | exit) << 8, v, bytes > max ? max : bytes,
				 bytes > 0xffffffffull ? 0xffffffffu : bytes))
			return -1;
		if (want_fds && (flags & TRACE_ARG_FDS) && !at_exit)
			cap_fd_array(st, i, v, count, elem);
		return 0;
	case TRACE_CAP_IOV:
		/* a failed read: the iovecs without data */
		return cap_iov(st, i | exit << 8, v, count,
			       at_exit ? (ret > 0 ? (__u64)ret : 0) : ~0ull);
	case TRACE_CAP_MSGHDR:
		if (!at_exit && (((spec >> 8) & 0xff) & TRACE_AT_EXIT)) {
			/* recvmsg at entry: msg_namelen only, for "110 => 16" */
			__u32 namelen;

			if (bpf_probe_read_user(&namelen, sizeof(namelen),
						(void *)(v + 8 /* msg_namelen */)))
				return 0;
			return put_count(st, i, namelen);
		}
		return cap_msghdr(st, i | exit << 8, v, at_exit ? (__u64)ret : ~0ull);
	case TRACE_CAP_PTRCOUNT:
		c.ptr = v;
		bpf_loop(TRACE_COUNT_MAX, count_ptr, &c, 0);
		if (c.failed)
			return -1;
		return put_count(st, i, c.n);
	case TRACE_CAP_DENTS:
		if (ret <= 0)
			return put_count(st, i, 0);
		c.ptr = v;
		c.limit = ret;
		bpf_loop(TRACE_COUNT_MAX, count_dent, &c, 0);
		return put_count(st, i, c.n);
	case TRACE_CAP_SIGFRAME:
		/* the frame's struct ucontext starts at sp (its return address
		 * was popped); uc_sigmask is at offset 296 on x86-64 */
		return put_user_mem(st, i | (TRACE_CAP_SIGFRAME << 8), st->sp + 296, 8, 8);
	case TRACE_CAP_IOCTL:
		sz = ioctl_size(st->ev.args[1], &when);
		if (!sz || !v || !(when & (at_exit ? TRACE_AT_EXIT : TRACE_AT_ENTER)))
			return 0;
		return put_user_mem(st, i | (TRACE_CAP_IOCTL | exit) << 8, v, sz, sz);
	case TRACE_CAP_CLONE3:
		if (!at_exit)
			return put_user_mem(st, i | (TRACE_CAP_CLONE3 << 8), v,
					    count > 88 ? 88 : count, count);
		if (ret > 0) {
			struct clone_args ca = {};

			if (bpf_probe_read_user(&ca, 32, (void *)v))
				return 0;
			/* what the kernel wrote: the pidfd, the child's tid */
			if ((ca.flags & CLONE_PIDFD_) && ca.pidfd)
				put_user_mem(st, i | (TRACE_IT_PIDFD | exit) << 8, ca.pidfd, 4, 4);
			if ((ca.flags & CLONE_PARENT_SETTID_) && ca.parent_tid)
				return put_user_mem(st, i | (TRACE_IT_TID | exit) << 8,
						    ca.parent_tid, 4, 4);
		}
		return 0;
	case TRACE_CAP_FD:
		/* an fd (or AT_FDCWD: the working directory) */
		return want_fds ? cap_fd(st, i, (int)v) : 0;
	case TRACE_CAP_FDPAIR:
		/* pipe, socketpair: the two fds, and with -y what they are */
		if (!at_exit)
			return 0;
		if (put_user_mem(st, i | (TRACE_CAP_MEM | exit) << 8, v, 8, 8))
			return -1;
		if (want_fds) {
			int fds[2] = {};

			if (bpf_probe_read_user(fds, sizeof(fds), (void *)v))
				return -1;
			cap_fd(st, i, fds[0]);
			cap_fd(st, i, fds[1]);
		}
		return 0;
	case TRACE_CAP_PRCTL:
		switch (st->ev.args[0]) {
		case PR_SET_NAME_:
			if (!at_exit)
				return put_str(st, i | (TRACE_CAP_STR << 8), v, 16, 0);
			return 0;
		case PR_GET_NAME_:
			if (at_exit)
				return put_str(st, i | ((TRACE_CAP_STR | exit) << 8), v, 16, 0);
			return 0;
		case PR_GET_PDEATHSIG_:
		case 5:	 /* PR_GET_UNALIGN */
		case 9:	 /* PR_GET_FPEMU */
		case 11: /* PR_GET_FPEXC */
		case 19: /* PR_GET_ENDIAN */
		case 25: /* PR_GET_TSC */
		case 37: /* PR_GET_CHILD_SUBREAPER */
			if (at_exit)
				return put_user_mem(st, i | (TRACE_CAP_MEM | exit) << 8, v, 4, 4);
			return 0;
		case 40: /* PR_GET_TID_ADDRESS: a pointer */
			if (at_exit)
				return put_user_mem(st, i | (TRACE_CAP_MEM | exit) << 8, v, 8, 8);
			return 0;
		}
		return 0;
	}
	return 0;
}

/* ---- the ring ---- */

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

static __always_inline void count_lost(__u64 cgid)
{
	struct ctw_trace_cgroup *tc = bpf_map_lookup_elem(&traced, &cgid);

	if (tc)
		__sync_fetch_and_add(&tc->lost, 1);
}

static __always_inline void emit(struct task_state *st)
{
	__u32 len = st->off;

	if (len > TRACE_PAYLOAD_MAX)
		len = TRACE_PAYLOAD_MAX;
	st->ev.payload_len = len;
	if (bpf_ringbuf_output(&events, &st->ev, sizeof(st->ev) + len, wake_flags()))
		count_lost(st->ev.cgroup_id);
}

/* ---- who is traced ---- */

/* Is this cgroup traced? */
static __always_inline bool is_traced(__u64 cgid)
{
	__u32 h = TRACE_TAB_HASH(cgid);
	int i;

	if (!cgid)
		return false;
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

static __always_inline __u64 task_cgroup(struct task_struct *t)
{
	return t->cgroups->dfl_cgrp->kn->id; /* bpf_get_current_cgroup_id() for t */
}

/* Is task t (traced cgroup aside) one whose signals and exit we show? */
static __always_inline bool task_wanted(struct task_struct *t, struct task_state *st)
{
	if (filter_pids) {
		__u32 tgid = t->tgid;

		if (!bpf_map_lookup_elem(&trace_pids, &tgid))
			return false;
	}
	return !follow_exec || (st && st->followed);
}

static __always_inline bool is_error(__s64 ret)
{
	return ret < 0 && ret >= -MAX_ERRNO;
}

static __always_inline bool status_wanted(__s64 ret, __u16 flags)
{
	if (flags & TRACE_EV_NORETURN)
		return status_mask & STATUS_UNFINISHED;
	return status_mask & (is_error(ret) ? STATUS_FAILED : STATUS_SUCCESSFUL);
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

/* pid, tid and comm of the current task into st->ev, when they may have
 * changed (see trace_enter). */
static __always_inline void refresh_ident(struct task_state *st)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	st->ev.pid = pid_tgid >> 32;
	st->ev.tid = (__u32)pid_tgid;
	bpf_get_current_comm(st->ev.comm, sizeof(st->ev.comm));
}

/* ---- signals ---- */

static __always_inline bool sig_wanted(int sig)
{
	return sig > 0 && sig <= 64 && sig != SIGKILL_ && (sig_mask & (1ull << ((sig - 1) & 63)));
}

/* Emit a signal record for st's task (current) from st->sig[idx]. */
__noinline int emit_signal(struct task_state *st, __u32 idx, __u32 flags)
{
	struct pending_sig *ps;
	struct sig_record *r;

	if (!st || idx > PENDING_SIGS)
		return -1;
	ps = &st->sig[idx];
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(st->ev.cgroup_id);
		return -1;
	}
	__builtin_memset(&r->ev, 0, sizeof(r->ev));
	r->ev.ts_ns = bpf_ktime_get_ns();
	r->ev.cgroup_id = st->ev.cgroup_id;
	r->ev.pid = st->ev.pid;
	r->ev.tid = st->ev.tid;
	__builtin_memcpy(r->ev.comm, st->ev.comm, sizeof(r->ev.comm));
	r->ev.nr = TRACE_NR_SIGNAL;
	r->ev.args[0] = ps->signo;
	r->ev.flags = flags & (TRACE_EV_GENERATED | TRACE_EV_STOPS);
	r->ev.payload_len = sizeof(r->it) + TRACE_SIGINFO_SIZE;
	r->it.arg = 0;
	r->it.kind = TRACE_IT_SIGINFO;
	r->it.len = TRACE_SIGINFO_SIZE;
	r->it.full_len = TRACE_SIGINFO_SIZE;
	__builtin_memcpy(r->info, ps->info, sizeof(r->info));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Signals recorded when they were sent (see trace_sig_generate), shown now
 * that their target comes by. */
static __always_inline void flush_signals(struct task_state *st)
{
	int i;

	if (!st->nsig)
		return;
	if (!st->ev.tid)
		refresh_ident(st);
#pragma unroll
	for (i = 0; i < PENDING_SIGS; i++)
		if (i < st->nsig)
			emit_signal(st, i, TRACE_EV_GENERATED);
	st->nsig = 0;
}

/* ---- syscalls ---- */

SEC("tp_btf/sys_enter")
int BPF_PROG(trace_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cgid = task_cgroup(task);
	struct ctw_trace_spec *spec;
	struct task_state *st;
	__u32 nr;
	int i;

	if (!is_traced(cgid))
		return 0;
	if (id < 0 || id >= TRACE_NR_MAX)
		return 0;
	nr = id;
	spec = bpf_map_lookup_elem(&trace_spec, &nr);
	if (!spec)
		return 0;
	if (!(spec->flags & TRACE_SPEC_SELECTED)) {
		/* not traced, but it may change pid, tid or comm (an exec, a
		 * rename): refresh them at the next traced syscall; and with
		 * follow_exec an execve still makes its task followed */
		bool exec = nr == nr_execve || nr == nr_execveat;

		if (!exec && nr != nr_prctl) {
			/* signals kept for this task (trace_sig_generate) show
			 * at its next call, traced or not, as strace shows them
			 * when they arrive: else a second SIGCHLD would find
			 * the first still pending and be lost */
			if (sig_mask) {
				st = bpf_task_storage_get(&task_states, task, NULL, 0);
				if (st && st->nsig) {
					st->ev.cgroup_id = cgid;
					flush_signals(st);
				}
			}
			return 0;
		}
		st = bpf_task_storage_get(&task_states, task, NULL,
					  exec && follow_exec ? BPF_LOCAL_STORAGE_GET_F_CREATE_
							      : 0);
		if (!st)
			return 0;
		st->ev.tid = 0;
		if (exec && follow_exec && !st->followed) {
			st->active = 1;
			st->spec_flags = TRACE_SPEC_EXEC | TS_UNSELECTED;
			st->off = 0;
			st->ev.nr = nr;
		}
		return 0;
	}
	if (filter_pids) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		if (!bpf_map_lookup_elem(&trace_pids, &tgid))
			return 0;
	}
	if (follow_exec && !stats_all) {
		/* before the command's execve only an execve is of interest:
		 * the one that succeeds makes its task followed */
		st = bpf_task_storage_get(&task_states, task, NULL, 0);
		if ((!st || !st->followed) && !(spec->flags & TRACE_SPEC_EXEC))
			return 0;
	}
	st = bpf_task_storage_get(&task_states, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE_);
	if (!st)
		return 0;
	/* pid, tid and comm are kept per task and refreshed only when they
	 * can change (a new task, a successful exec): helper calls less per
	 * syscall */
	if (!st->ev.tid)
		refresh_ident(st);
	st->ev.cgroup_id = cgid;
	if (st->nsig)
		flush_signals(st);
	st->active = 1;
	st->spec_flags = spec->flags;
	st->off = 0;
	st->exec_retry = 0;
	st->str_retry = 0;
	st->ev.ts_ns = bpf_ktime_get_ns();
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

	/* a task not followed (yet) is only counted, or a candidate exec */
	if (want_events && (spec->flags & TRACE_SPEC_CAP_ENTER) &&
	    (!follow_exec || st->followed || (spec->flags & TRACE_SPEC_EXEC))) {
		st->sp = regs->sp;
		for (i = 0; i < TRACE_NARGS; i++) {
			__u64 a = *(__u64 *)&spec->arg[i];

			if (!(a & 0xff) || !((a >> 8) & TRACE_AT_ENTER) ||
			    !capture_arg(st, a, i, 0, 0))
				continue;
			/* not readable yet: a page the task has not touched
			 * since fork (its binary's read-only data); the
			 * kernel faults it in while it runs the call */
			if ((a & 0xff) == TRACE_CAP_STR)
				st->str_retry |= 1 << i;
			if ((spec->flags & TRACE_SPEC_EXEC) && i <= 2)
				/* execve (argv at 1) or execveat (argv at 2) */
				st->exec_retry |= (a & 0xff) == TRACE_CAP_ARGV ? 1 : 2;
		}
	}

	if (spec->flags & TRACE_SPEC_NORETURN) {
		/* exit_group never reaches sys_exit: report it now. */
		st->active = 0;
		st->ev.flags = TRACE_EV_NORETURN;
		if (!status_wanted(0, TRACE_EV_NORETURN))
			return 0;
		if (want_stats)
			count(nr, 0, 0);
		if (want_events && (!follow_exec || st->followed))
			emit(st);
	}
	return 0;
}

/* The runtime's own steps exec ctrwatch-stub from a sealed memfd (named
 * "ctrwatch-init" by runtime/stub.c, so its file is "memfd:ctrwatch-init"):
 * with follow_exec that exec is the runtime's setup, not the command's, and
 * leaves its task unfollowed; the stub's execve of the command follows it. */
static __always_inline bool is_runtime_stub(struct task_struct *task)
{
	static const char stub[] = "memfd:ctrwatch-init";
	const unsigned char *name;
	char buf[sizeof(stub)];

	name = BPF_CORE_READ(task, mm, exe_file, f_path.dentry, d_name.name);
	if (!name || bpf_probe_read_kernel_str(buf, sizeof(buf), name) != sizeof(buf))
		return false;
	for (int i = 0; i < (int)sizeof(stub); i++)
		if (buf[i] != stub[i])
			return false;
	return true;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(trace_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ctw_trace_spec *spec;
	struct task_state *st;
	__u32 nr;
	int i;

	st = bpf_task_storage_get(&task_states, task, NULL, 0);
	if (!st || !st->active)
		return 0;
	st->active = 0;
	st->ev.ret = ret;
	st->ev.duration_ns = bpf_ktime_get_ns() - st->ev.ts_ns;
	if (ret == 0 && (st->spec_flags & TRACE_SPEC_EXEC)) {
		/* an exec from a thread other than the leader takes the
		 * leader's pid: tid changes too */
		refresh_ident(st);
		st->followed = !follow_exec || !is_runtime_stub(task);
	} else if (ret == 0 && st->ev.nr == nr_prctl) {
		refresh_ident(st);
	}
	if (st->spec_flags & TS_UNSELECTED)
		return 0;
	if (follow_exec && !st->followed) {
		/* an execve that failed before the command's, or (stats_all)
		 * a call of a task not followed: counted only */
		if (stats_all && want_stats && status_wanted(ret, 0))
			count(st->ev.nr, ret, st->ev.duration_ns);
		return 0;
	}
	/* killed while in the call (SIGKILL, or another thread's
	 * exit_group): strace has no return value to show either */
	if ((task->pending.signal.sig[0] & (1ul << (SIGKILL_ - 1)))) {
		int code = task->signal->group_exit_code;

		if (code == SIGKILL_ || !(code & 0x7f))
			st->ev.flags |= TRACE_EV_NORETURN;
	}
	if (!status_wanted(ret, st->ev.flags))
		goto out;
	if (want_stats)
		count(st->ev.nr, ret, st->ev.duration_ns);
	if (!want_events)
		goto out;

	if (st->spec_flags & (TRACE_SPEC_CAP_EXIT | TRACE_SPEC_RETFD)) {
		nr = st->ev.nr;
		spec = bpf_map_lookup_elem(&trace_spec, &nr);
		if (spec) {
			__u8 when = is_error(ret) ? TRACE_AT_ERROR : TRACE_AT_EXIT;

			for (i = 0; i < TRACE_NARGS; i++) {
				__u64 a = *(__u64 *)&spec->arg[i];

				if ((a & 0xff) && ((a >> 8) & when))
					capture_arg(st, a, i, 1, ret);
			}
		}
	}
	if (want_fds && (st->spec_flags & TRACE_SPEC_RETFD) && ret >= 0)
		cap_fd(st, TRACE_NARGS, ret);
	if (st->str_retry && !(ret == 0 && (st->spec_flags & TRACE_SPEC_EXEC))) {
		/* the strings the kernel read by now (the last item of an
		 * argument is the one shown) */
#pragma unroll
		for (i = 0; i < TRACE_NARGS; i++)
			if (st->str_retry & (1 << i))
				put_str(st, i | (TRACE_CAP_STR << 8), st->ev.args[i], TRACE_STR_MAX,
					0);
	}
	if ((st->exec_retry & 1) && ret < 0) {
		/* a failed execve: the kernel read argv and faulted its pages
		 * in; try again (the last ARGV item is the one shown) */
		nr = st->ev.nr;
		cap_argv(st, nr == nr_execveat ? 2 : 1, st->ev.args[nr == nr_execveat ? 2 : 1]);
	}
	emit(st);
out:
	if (st->nsig)
		flush_signals(st);
	return 0;
}

/* An execve succeeded: complete its record with what the kernel used. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(trace_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_state *st = bpf_task_storage_get(&task_states, p, NULL, 0);
	struct ctw_trace_execinfo ei;
	__u32 argi;

	if (!st || !st->active || !(st->spec_flags & TRACE_SPEC_EXEC) ||
	    (st->spec_flags & TS_UNSELECTED))
		return 0;
	argi = st->ev.nr == nr_execveat ? 1 : 0;
	if (st->off + sizeof(struct ctw_trace_item) + sizeof(ei) <= TRACE_PAYLOAD_MAX) {
		__u32 off = st->off & (TRACE_PAYLOAD_MAX - 1);

		ei.argc = bprm->argc;
		ei.envc = bprm->envc;
		__builtin_memcpy(&st->payload[off + sizeof(struct ctw_trace_item)], &ei,
				 sizeof(ei));
		item_close(st, off, argi + 2, TRACE_IT_EXECINFO, sizeof(ei), sizeof(ei));
	}
	if (st->exec_retry & 2) {
		/* read as a number: a pointer cannot be passed on as one */
		__u64 fname = (__u64)BPF_CORE_READ(bprm, filename);

		put_str(st, argi | (TRACE_CAP_STR << 8), fname, TRACE_STR_MAX, 1);
	}
	if (st->exec_retry & 1) {
		/* argv as the new program sees it: argc, then the pointers,
		 * at the bottom of the stack the kernel just built */
		struct mm_struct *mm = p->mm;

		if (mm)
			cap_argv(st, argi + 1, mm->start_stack + 8);
	}
	st->exec_retry = 0;
	return 0;
}

/* follow_exec: a child of the command is the command too. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(trace_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_state *pst, *cst;

	pst = bpf_task_storage_get(&task_states, bpf_get_current_task_btf(), NULL, 0);
	if (!pst || !pst->followed)
		return 0;
	cst = bpf_task_storage_get(&task_states, child, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE_);
	if (cst) {
		cst->followed = 1;
		cst->ev.tid = 0;
	}
	return 0;
}

/* A task exits: its pending signals, then "+++ exited with N +++". */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(trace_task_exit, struct task_struct *p, bool group_dead)
{
	__u64 cgid = task_cgroup(p);
	int sig;
	struct task_state *st;
	struct sig_record *r;

	if (!is_traced(cgid))
		return 0;
	st = bpf_task_storage_get(&task_states, p, NULL, 0);
	if (!task_wanted(p, st))
		return 0;
	if (st && st->nsig) {
		st->ev.cgroup_id = cgid;
		flush_signals(st);
	}
	/* as strace: "+++ killed by SIG" only for a signal -e signal= shows
	 * (and also with quiet=exit), "+++ exited with" unless quiet=exit */
	sig = p->exit_code & 0x7f;
	if (!want_events || (sig ? !(sig_mask & (1ull << ((sig - 1) & 63))) : quiet_exit))
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(r->ev), 0);
	if (!r) {
		count_lost(cgid);
		return 0;
	}
	__builtin_memset(&r->ev, 0, sizeof(r->ev));
	r->ev.ts_ns = bpf_ktime_get_ns();
	r->ev.cgroup_id = cgid;
	r->ev.pid = p->tgid;
	r->ev.tid = p->pid;
	bpf_probe_read_kernel(r->ev.comm, sizeof(r->ev.comm), p->comm);
	r->ev.nr = TRACE_NR_EXIT;
	r->ev.ret = p->exit_code;
	r->ev.args[0] = group_dead;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* A signal about to be handled (or ignored, or fatal) by current. */
SEC("tp_btf/signal_deliver")
int BPF_PROG(trace_sig_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 cgid = task_cgroup(task);
	struct task_state *st;
	__u32 flags = 0;

	if (!sig_wanted(sig) || !info || !is_traced(cgid))
		return 0;
	st = bpf_task_storage_get(&task_states, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE_);
	if (!st || !task_wanted(task, st))
		return 0;
	if (!st->ev.tid)
		refresh_ident(st);
	st->ev.cgroup_id = cgid;
	if (st->nsig)
		flush_signals(st);
	st->sig[PENDING_SIGS].signo = sig;
	if (bpf_probe_read_kernel(st->sig[PENDING_SIGS].info, TRACE_SIGINFO_SIZE, info))
		return 0;
	/* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU left to their default action
	 * stop the task now (get_signal's do_signal_stop) */
	if (sig >= 19 && sig <= 22 && ka && !ka->sa.sa_handler)
		flags = TRACE_EV_STOPS;
	emit_signal(st, PENDING_SIGS, flags);
	return 0;
}

/*
 * A signal sent.  Most reach signal_deliver, but two kinds never do
 * without a ptracer, while strace (a ptracer) shows them: one the target
 * ignores (SIG_IGN, or a default of ignore such as SIGCHLD's), dropped
 * when sent; and a fatal one with the default action, which kills the
 * whole group at once.  Those are kept in the target's state and shown
 * when it next enters or leaves a syscall, or exits.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(trace_sig_generate, int sig, struct kernel_siginfo *info, struct task_struct *t,
	     int group, int result)
{
	struct task_state *st;
	struct pending_sig *ps;
	__u8 n;
	int i;

	if (!sig_wanted(sig) || t->ptrace)
		return 0;
	if (result != TRACE_SIGNAL_IGNORED_ &&
	    !(result == TRACE_SIGNAL_DELIVERED_ && (t->signal->flags & 0x4 /* GROUP_EXIT */) &&
	      t->signal->group_exit_code == sig))
		return 0;
	if (!is_traced(task_cgroup(t)))
		return 0;
	st = bpf_task_storage_get(&task_states, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE_);
	if (!st || !task_wanted(t, st))
		return 0;
	n = st->nsig;
	/* a standard signal pending already is not queued twice */
#pragma unroll
	for (i = 0; i < PENDING_SIGS; i++)
		if (i < n && st->sig[i].signo == sig && sig < 32)
			return 0;
	if (n >= PENDING_SIGS)
		return 0;
	ps = &st->sig[n & (PENDING_SIGS - 1)];
	ps->signo = sig;
	if ((__u64)info > 1) {
		if (bpf_probe_read_kernel(ps->info, sizeof(ps->info), info))
			return 0;
	} else {
		/* SEND_SIG_NOINFO (from user space) or SEND_SIG_PRIV (the
		 * kernel): what the kernel would fill in */
		__u32 *w = (__u32 *)ps->info;

		__builtin_memset(ps->info, 0, sizeof(ps->info));
		w[0] = sig;
		if (info) {
			w[2] = SI_KERNEL_;
		} else {
			struct task_struct *cur = bpf_get_current_task_btf();

			w[2] = SI_USER_;
			w[4] = cur->tgid;
			w[5] = cur->cred->uid.val;
		}
	}
	st->nsig = n + 1;
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
