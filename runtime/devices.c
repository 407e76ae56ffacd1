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
#include <linux/bpf.h>

#include <bpf/bpf.h>

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

int cg_device_filter(const struct ctw_state *s, struct ctw_err *err)
{
	char log[4096];
	struct bpf_prog_load_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.expected_attach_type = BPF_CGROUP_DEVICE;
	opts.log_buf = log;
	opts.log_size = sizeof(log);
	log[0] = '\0';
	int prog = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, "ctw_devices", "Apache-2.0", dev_prog,
				 ARRAY_SIZE(dev_prog), &opts);
	if (prog < 0)
		return ctw_err_set(err, -prog, "cgroup: load the device filter%s%s",
				   log[0] ? ": " : "", log);
	int cg = open(s->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		int e = errno;
		close(prog);
		return ctw_err_set(err, e, "open %s", s->cgroup);
	}
	int r = bpf_prog_attach(prog, cg, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
	if (r < 0)
		r = ctw_err_set(err, -r, "cgroup: attach the device filter to %s", s->cgroup);
	close(cg);
	close(prog);
	return r < 0 ? r : 0;
}
