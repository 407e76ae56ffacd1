// SPDX-License-Identifier: Apache-2.0
/*
 * Device access for containers on the cgroup v2 side: a small
 * BPF_PROG_TYPE_CGROUP_DEVICE program (what runc and crun use on unified
 * hosts, where there is no devices.allow) attached to the container's v2
 * cgroup.  It allows what the container's /dev holds, ptys and tun, plus
 * mknod of anything (as runc's default rules), and refuses every other
 * open: with CAP_MKNOD a container can make /dev/sda but not read it.  On
 * hybrid hosts the v1 devices controller says the same; both apply.  The
 * program stays attached until the cgroup is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "internal.h"

/* The instruction forms this program needs (kernel's filter.h names). */
#define LDX_W(dst, src, o)  \
	((struct bpf_insn){ \
		.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = dst, .src_reg = src, .off = o})
#define MOV_REG(dst, src) \
	((struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = dst, .src_reg = src})
#define ALU_IMM(op, dst, k) \
	((struct bpf_insn){.code = BPF_ALU64 | op | BPF_K, .dst_reg = dst, .imm = k})
#define JMP_IMM(op, dst, k, o) \
	((struct bpf_insn){.code = BPF_JMP | op | BPF_K, .dst_reg = dst, .off = o, .imm = k})
#define MOV_IMM(dst, k) \
	((struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = dst, .imm = k})
#define EXIT() ((struct bpf_insn){.code = BPF_JMP | BPF_EXIT})

/* r2 = access, r3 = type, r4 = major, r5 = minor.  Jump offsets count
 * from the next instruction; DENY and ALLOW are the last four. */
static const struct bpf_insn dev_prog[] = {
	/* 0 */ LDX_W(BPF_REG_2, BPF_REG_1, 0),
	/* 1 */ MOV_REG(BPF_REG_3, BPF_REG_2),
	/* 2 */ ALU_IMM(BPF_AND, BPF_REG_3, 0xffff),
	/* 3 */ ALU_IMM(BPF_RSH, BPF_REG_2, 16),
	/* 4 */ LDX_W(BPF_REG_4, BPF_REG_1, 4),
	/* 5 */ LDX_W(BPF_REG_5, BPF_REG_1, 8),
	/* 6 */ JMP_IMM(BPF_JEQ, BPF_REG_2, BPF_DEVCG_ACC_MKNOD, 16), /* mknod only → 23 */
	/* 7 */ JMP_IMM(BPF_JNE, BPF_REG_3, BPF_DEVCG_DEV_CHAR, 13),  /* block → 21 */
	/* 8 */ JMP_IMM(BPF_JEQ, BPF_REG_4, 136, 14),		      /* pts → 23 */
	/* 9 */ JMP_IMM(BPF_JNE, BPF_REG_4, 1, 5),		      /* → 15 */
	/* 10 */ JMP_IMM(BPF_JEQ, BPF_REG_5, 3, 12),		      /* null */
	/* 11 */ JMP_IMM(BPF_JEQ, BPF_REG_5, 5, 11),		      /* zero */
	/* 12 */ JMP_IMM(BPF_JEQ, BPF_REG_5, 7, 10),		      /* full */
	/* 13 */ JMP_IMM(BPF_JEQ, BPF_REG_5, 8, 9),		      /* random */
	/* 14 */ JMP_IMM(BPF_JEQ, BPF_REG_5, 9, 8),		      /* urandom */
	/* 15 */ JMP_IMM(BPF_JNE, BPF_REG_4, 5, 2),		      /* → 18 */
	/* 16 */ JMP_IMM(BPF_JGT, BPF_REG_5, 2, 4),		      /* tty console ptmx → 21 */
	/* 17 */ JMP_IMM(BPF_JA, 0, 0, 5),			      /* → 23 */
	/* 18 */ JMP_IMM(BPF_JNE, BPF_REG_4, 10, 2),		      /* → 21 */
	/* 19 */ JMP_IMM(BPF_JNE, BPF_REG_5, 200, 1),		      /* tun → 23 */
	/* 20 */ JMP_IMM(BPF_JA, 0, 0, 2),			      /* → 23 */
	/* 21 DENY */ MOV_IMM(BPF_REG_0, 0),
	/* 22 */ EXIT(),
	/* 23 ALLOW */ MOV_IMM(BPF_REG_0, 1),
	/* 24 */ EXIT(),
};

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load_filter(char *log, size_t log_size)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.expected_attach_type = BPF_CGROUP_DEVICE;
	a.insns = (uintptr_t)dev_prog;
	a.insn_cnt = ARRAY_SIZE(dev_prog);
	a.license = (uintptr_t) "Apache-2.0";
	ctw_strlcpy(a.prog_name, "ctw_devices", sizeof(a.prog_name));
	if (log) {
		a.log_buf = (uintptr_t)log;
		a.log_size = (unsigned int)log_size;
		a.log_level = 1;
	}
	return sys_bpf(BPF_PROG_LOAD, &a);
}

/* Raw bpf(2) rather than libbpf: its first bpf_prog_load() probes kernel
 * features with two more program loads, ~0.4 ms of every start. */
int cg_device_filter(const struct ctw_state *s, struct ctw_err *err)
{
	int prog = load_filter(NULL, 0);
	if (prog < 0) {
		int e = errno;
		char log[4096] = "";
		int again = load_filter(log, sizeof(log)); /* for the verifier's reason */
		if (again >= 0)
			close(again);
		return ctw_err_set(err, e, "cgroup: load the device filter%s%s", log[0] ? ": " : "",
				   log);
	}
	int cg = open(s->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		int e = errno;
		close(prog);
		return ctw_err_set(err, e, "open %s", s->cgroup);
	}
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (unsigned int)cg;
	a.attach_bpf_fd = (unsigned int)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	int r = sys_bpf(BPF_PROG_ATTACH, &a);
	if (r < 0)
		r = ctw_err_set(err, errno, "cgroup: attach the device filter to %s", s->cgroup);
	close(cg);
	close(prog);
	return r < 0 ? r : 0;
}
