// SPDX-License-Identifier: Apache-2.0
/*
 * Device access for containers on the cgroup v2 side: a
 * BPF_PROG_TYPE_CGROUP_DEVICE program (what runc and crun use on unified
 * hosts, where there is no devices.allow) attached to the container's v2
 * cgroup, generated from linux.resources.devices: the rules are checked
 * from the last to the first and the first that matches decides (the last
 * matching rule wins, as in the v1 devices controller), nothing matching
 * is a refusal.  As runc, the rules are followed by the devices every
 * container's /dev holds, ptys, tun and mknod of anything, and the
 * spec's linux.devices.  A rule list that ends up allowing everything
 * attaches nothing.  On hybrid hosts the container's processes are in a v2
 * cgroup too, so the same program is the gate on every layout.  The
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
#define JMP_REG(op, dst, src, o) \
	((struct bpf_insn){.code = BPF_JMP | op | BPF_X, .dst_reg = dst, .src_reg = src, .off = o})
#define MOV_IMM(dst, k) \
	((struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = dst, .imm = k})
#define EXIT() ((struct bpf_insn){.code = BPF_JMP | BPF_EXIT})

#define RWM (CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD)
/* What runc adds after the container's own rules. */
static const struct ctw_spec_dev_rule runc_defaults[] = {
	{true, 'c', -1, -1, CTW_DEV_MKNOD},
	{true, 'b', -1, -1, CTW_DEV_MKNOD},
	{true, 'c', 1, 3, RWM},
	{true, 'c', 1, 8, RWM},
	{true, 'c', 1, 7, RWM},
	{true, 'c', 5, 0, RWM},
	{true, 'c', 1, 5, RWM},
	{true, 'c', 1, 9, RWM},
	{true, 'c', 136, -1, RWM},
	{true, 'c', 5, 2, RWM},
	{true, 'c', 10, 200, RWM},
};

size_t devices_effective(const struct ctw_spec *s, struct ctw_spec_dev_rule **out)
{
	const struct ctw_spec_resources *r = &s->linux.resources;
	size_t n = r->n_devices + ARRAY_SIZE(runc_defaults) + s->linux.n_devices, k = 0;
	struct ctw_spec_dev_rule *v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < r->n_devices; i++)
		v[k++] = r->devices[i];
	for (size_t i = 0; i < ARRAY_SIZE(runc_defaults); i++)
		v[k++] = runc_defaults[i];
	for (size_t i = 0; i < s->linux.n_devices; i++) {
		const struct ctw_spec_device *d = &s->linux.devices[i];
		if (d->type == 'p')
			continue; /* a fifo is no device to the filter */
		v[k++] = (struct ctw_spec_dev_rule){true, d->type == 'b' ? 'b' : 'c', d->major,
						    d->minor, RWM};
	}
	*out = v;
	return k;
}

/* Does the list allow everything: an allow-all rule after the last deny. */
bool devices_allow_all(const struct ctw_spec_dev_rule *rules, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		const struct ctw_spec_dev_rule *d = &rules[i];
		if (!d->allow)
			return false;
		if (d->type == 'a' && d->major < 0 && d->minor < 0 && d->access == RWM)
			return true;
	}
	return false;
}

/* r2 = access, r3 = type, r4 = major, r5 = minor.  One block per rule,
 * the last rule first; a block falls through to the next on a mismatch. */
struct bpf_insn *devices_prog(const struct ctw_spec_dev_rule *rules, size_t n, size_t *len)
{
	struct bpf_insn *p = xcalloc(6 + n * 11 + 2, sizeof(*p));
	size_t k = 0;
	p[k++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);
	p[k++] = MOV_REG(BPF_REG_3, BPF_REG_2);
	p[k++] = ALU_IMM(BPF_AND, BPF_REG_3, 0xffff);
	p[k++] = ALU_IMM(BPF_RSH, BPF_REG_2, 16);
	p[k++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);
	p[k++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);
	for (size_t i = n; i-- > 0;) {
		const struct ctw_spec_dev_rule *d = &rules[i];
		/* The checks of this block, then its verdict (2 insns). */
		struct bpf_insn chk[8];
		size_t c = 0;
		if (d->type != 'a')
			chk[c++] = JMP_IMM(
				BPF_JNE, BPF_REG_3,
				d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
		if (d->major >= 0)
			chk[c++] = JMP_IMM(BPF_JNE, BPF_REG_4, (int32_t)d->major, 0);
		if (d->minor >= 0)
			chk[c++] = JMP_IMM(BPF_JNE, BPF_REG_5, (int32_t)d->minor, 0);
		if ((d->access & RWM) != RWM) {
			/* the request must be within what the rule grants */
			int bits = (d->access & CTW_DEV_READ ? BPF_DEVCG_ACC_READ : 0) |
				   (d->access & CTW_DEV_WRITE ? BPF_DEVCG_ACC_WRITE : 0) |
				   (d->access & CTW_DEV_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0);
			chk[c++] = MOV_REG(BPF_REG_1, BPF_REG_2);
			chk[c++] = ALU_IMM(BPF_AND, BPF_REG_1, bits);
			chk[c++] = JMP_REG(BPF_JNE, BPF_REG_1, BPF_REG_2, 0);
		}
		/* Jumps skip the rest of the block and its verdict. */
		for (size_t j = 0; j < c; j++)
			if (BPF_CLASS(chk[j].code) == BPF_JMP)
				chk[j].off = (int16_t)(c - j - 1 + 2);
		memcpy(&p[k], chk, c * sizeof(*chk));
		k += c;
		p[k++] = MOV_IMM(BPF_REG_0, d->allow ? 1 : 0);
		p[k++] = EXIT();
		/* A rule that matches everything decides for the rest (which
		 * the verifier would refuse as unreachable). */
		if (!c) {
			*len = k;
			return p;
		}
	}
	p[k++] = MOV_IMM(BPF_REG_0, 0);
	p[k++] = EXIT();
	*len = k;
	return p;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load_filter(const struct bpf_insn *prog, size_t len, char *log, size_t log_size)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.expected_attach_type = BPF_CGROUP_DEVICE;
	a.insns = (uintptr_t)prog;
	a.insn_cnt = (uint32_t)len;
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
static int attach(const char *cgroup, const struct bpf_insn *insns, size_t len, struct ctw_err *err)
{
	int prog = load_filter(insns, len, NULL, 0);
	if (prog < 0) {
		int e = errno;
		char log[4096] = "";
		int again = load_filter(insns, len, log, sizeof(log)); /* the verifier's why */
		if (again >= 0)
			close(again);
		return ctw_err_set(err, e, "cgroup: load the device filter%s%s", log[0] ? ": " : "",
				   log);
	}
	int cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		int e = errno;
		close(prog);
		return ctw_err_set(err, e, "open %s", cgroup);
	}
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (unsigned int)cg;
	a.attach_bpf_fd = (unsigned int)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	int r = sys_bpf(BPF_PROG_ATTACH, &a);
	if (r < 0)
		r = ctw_err_set(err, errno, "cgroup: attach the device filter to %s", cgroup);
	close(cg);
	close(prog);
	return r < 0 ? r : 0;
}

/* Attach the program of rules to the v2 cgroup dir; nothing when they
 * allow everything. */
static int attach_rules(const char *cgroup, const struct ctw_spec_dev_rule *rules, size_t n,
			struct ctw_err *err)
{
	if (devices_allow_all(rules, n))
		return 0;
	size_t len;
	struct bpf_insn *prog = devices_prog(rules, n, &len);
	int r = attach(cgroup, prog, len, err);
	free(prog);
	return r;
}

int cg_set_devices(const struct cg_set *c, const struct ctw_spec_dev_rule *rules, size_t n,
		   struct ctw_err *err)
{
	return attach_rules(c->v2, rules, n, err);
}

int cg_device_filter(const struct ctw_state *s, const struct ctw_spec *spec, struct ctw_err *err)
{
	struct ctw_spec_dev_rule *rules;
	size_t n = devices_effective(spec, &rules);
	int r = attach_rules(s->cgroup, rules, n, err);
	free(rules);
	return r;
}
