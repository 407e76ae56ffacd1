// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the runtime's OCI pieces (no root): the device filter
 * generated from rules, run on an interpreter against the rules' meaning
 * (the last matching rule wins, nothing matching refuses). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <cmocka.h>

#include "../../runtime/internal.h"

#define RWM (CTW_DEV_READ | CTW_DEV_WRITE | CTW_DEV_MKNOD)

/* The registers the program reads: ctx = {access_type, major, minor}. */
static long run_prog(const struct bpf_insn *p, size_t len, unsigned type, unsigned access,
		     unsigned major, unsigned minor)
{
	uint32_t ctx[3] = {(access << 16) | type, major, minor};
	uint64_t r[11] = {0};
	r[1] = (uintptr_t)ctx;
	for (size_t pc = 0; pc < len;) {
		const struct bpf_insn *i = &p[pc++];
		uint64_t src =
			BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
		switch (BPF_CLASS(i->code)) {
		case BPF_LDX:
			assert_int_equal(i->src_reg, 1); /* only the context is read */
			r[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU64:
			switch (BPF_OP(i->code)) {
			case BPF_MOV: r[i->dst_reg] = src; break;
			case BPF_AND: r[i->dst_reg] &= src; break;
			case BPF_RSH: r[i->dst_reg] >>= src; break;
			default: fail_msg("unexpected ALU op %#x", i->code);
			}
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_EXIT)
				return (long)r[0];
			if (BPF_OP(i->code) == BPF_JNE && r[i->dst_reg] != src)
				pc += (size_t)i->off;
			else if (BPF_OP(i->code) == BPF_JA)
				pc += (size_t)i->off;
			break;
		default: fail_msg("unexpected insn %#x", i->code);
		}
	}
	fail_msg("ran off the end");
	return -1;
}

/* What the rules mean: the last one that matches decides. */
static long reference(const struct ctw_spec_dev_rule *rules, size_t n, char type, unsigned access,
		      unsigned major, unsigned minor)
{
	for (size_t i = n; i-- > 0;) {
		const struct ctw_spec_dev_rule *d = &rules[i];
		if (d->type != 'a' && d->type != type)
			continue;
		if ((d->major >= 0 && d->major != major) || (d->minor >= 0 && d->minor != minor))
			continue;
		if ((access & d->access) != access)
			continue;
		return d->allow;
	}
	return 0;
}

static void check_rules(const struct ctw_spec_dev_rule *rules, size_t n)
{
	size_t len;
	struct bpf_insn *p = devices_prog(rules, n, &len);
	static const unsigned majors[] = {1, 5, 8, 10, 136, 254};
	static const unsigned minors[] = {0, 1, 2, 3, 5, 9, 200, 229};
	for (int t = 0; t < 2; t++)
		for (unsigned acc = 1; acc < 8; acc++)
			for (size_t a = 0; a < ARRAY_SIZE(majors); a++)
				for (size_t b = 0; b < ARRAY_SIZE(minors); b++) {
					char type = t ? 'b' : 'c';
					unsigned bpf_type =
						t ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
					/* CTW_DEV_* and BPF_DEVCG_ACC_* bits agree */
					long want = reference(rules, n, type, acc, majors[a],
							      minors[b]);
					long got = run_prog(p, len, bpf_type, acc, majors[a],
							    minors[b]);
					if (want != got)
						fail_msg("%c %u:%u access %u: want %ld got %ld",
							 type, majors[a], minors[b], acc, want,
							 got);
				}
	free(p);
}

static void test_device_filter(void **state)
{
	assert_int_equal(CTW_DEV_READ, BPF_DEVCG_ACC_READ);
	assert_int_equal(CTW_DEV_WRITE, BPF_DEVCG_ACC_WRITE);
	assert_int_equal(CTW_DEV_MKNOD, BPF_DEVCG_ACC_MKNOD);
	/* Docker's: deny all, then its devices */
	static const struct ctw_spec_dev_rule docker[] = {
		{false, 'a', -1, -1, RWM},
		{true, 'c', 1, 5, RWM},
		{true, 'c', 1, 3, RWM},
		{true, 'c', 1, 9, RWM},
		{true, 'c', 5, 0, RWM},
		{true, 'c', 5, 1, RWM},
		{false, 'c', 10, 229, RWM},
		{true, 'c', 136, -1, RWM},
		{true, 'a', -1, -1, CTW_DEV_MKNOD},
	};
	check_rules(docker, ARRAY_SIZE(docker));
	/* access subsets, a deny after allows, block devices */
	static const struct ctw_spec_dev_rule mixed[] = {
		{true, 'b', 8, -1, CTW_DEV_READ},
		{true, 'c', -1, 0, CTW_DEV_READ | CTW_DEV_WRITE},
		{false, 'c', 5, -1, CTW_DEV_WRITE},
		{true, 'c', 254, 1, RWM},
	};
	check_rules(mixed, ARRAY_SIZE(mixed));
	/* none: everything refused */
	check_rules(NULL, 0);
	assert_false(devices_allow_all(docker, ARRAY_SIZE(docker)));
	static const struct ctw_spec_dev_rule priv[] = {
		{false, 'a', -1, -1, RWM}, {true, 'a', -1, -1, RWM}, {true, 'c', 1, 3, RWM}};
	assert_true(devices_allow_all(priv, ARRAY_SIZE(priv)));
	static const struct ctw_spec_dev_rule priv_then_deny[] = {{true, 'a', -1, -1, RWM},
								  {false, 'c', 1, 3, RWM}};
	assert_false(devices_allow_all(priv_then_deny, ARRAY_SIZE(priv_then_deny)));
	check_rules(priv_then_deny, ARRAY_SIZE(priv_then_deny));
}

/* The spec's rules, runc's defaults after them, then linux.devices. */
static void test_device_rules_effective(void **state)
{
	struct ctw_spec *s = ctw_spec_new();
	struct ctw_spec_dev_rule deny_all = {false, 'a', -1, -1, RWM};
	s->linux.resources.devices = &deny_all;
	s->linux.resources.n_devices = 1;
	struct ctw_spec_device devs[] = {
		{.type = 'c', .path = "/dev/fuse", .major = 10, .minor = 229},
		{.type = 'p', .path = "/dev/fifo"}};
	s->linux.devices = devs;
	s->linux.n_devices = 2;
	struct ctw_spec_dev_rule *v;
	size_t n = devices_effective(s, &v);
	assert_int_equal(v[0].allow, false);
	assert_int_equal(v[n - 1].major, 10);
	assert_int_equal(v[n - 1].minor, 229);
	assert_true(v[n - 1].allow);
	/* /dev/null allowed after the deny, /dev/sda not */
	assert_int_equal(reference(v, n, 'c', CTW_DEV_READ, 1, 3), 1);
	assert_int_equal(reference(v, n, 'b', CTW_DEV_READ, 8, 0), 0);
	assert_int_equal(reference(v, n, 'b', CTW_DEV_MKNOD, 8, 0), 1);
	check_rules(v, n);
	free(v);
	s->linux.resources.devices = NULL;
	s->linux.devices = NULL;
	s->linux.n_devices = 0;
	s->linux.resources.n_devices = 0;
	ctw_spec_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_filter),
		cmocka_unit_test(test_device_rules_effective),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
