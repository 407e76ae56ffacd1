// SPDX-License-Identifier: Apache-2.0
/*
 * ctw_bpf_map_each_u64 (lib/bpfmap.c) on real kernel maps: every entry of
 * a hash map and of an LRU hash map bigger than one batch is seen exactly
 * once with its value (batches of 256: four batches, and exactly one), and
 * an empty map calls nothing.  Needs root (BPF); skipped otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>

#include "../../lib/lib.h"

#define N 1000 /* four batches of 256 */

struct seen {
	unsigned int times[N + 1];
	size_t calls;
	bool wrong_value;
};

static void count(void *ctx, uint64_t key, uint64_t val)
{
	struct seen *s = ctx;
	s->calls++;
	if (key > N || val != key * 3 + 1)
		s->wrong_value = true;
	else
		s->times[key]++;
}

static void check_map(enum bpf_map_type type, uint64_t first_key, size_t entries)
{
	int fd = bpf_map_create(type, NULL, 8, 8, N + 1, NULL);
	assert_true(fd >= 0);
	for (uint64_t k = first_key; k < first_key + entries; k++) {
		uint64_t v = k * 3 + 1;
		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	}
	struct seen *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	assert_int_equal(ctw_bpf_map_each_u64(fd, count, s), 0);
	assert_int_equal(s->calls, entries);
	assert_false(s->wrong_value);
	for (uint64_t k = first_key; k < first_key + entries; k++)
		assert_int_equal(s->times[k], 1);
	free(s);
	close(fd);
}

static void test_hash(void **state)
{
	(void)state;
	check_map(BPF_MAP_TYPE_HASH, 1, N);
}

static void test_lru_hash(void **state)
{
	(void)state;
	check_map(BPF_MAP_TYPE_LRU_HASH, 1, 300);
}

static void test_empty(void **state)
{
	(void)state;
	check_map(BPF_MAP_TYPE_HASH, 1, 0);
}

static void test_one_batch_exactly(void **state)
{
	(void)state;
	check_map(BPF_MAP_TYPE_HASH, 1, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_lru_hash),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_batch_exactly),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (BPF)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
