// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the metrics builder (exporters/metrics.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../exporters/exporters.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *text(struct ctw_metrics *m)
{
	return ctw_metrics_text(m, NULL);
}

static int count_lines_with(const char *t, const char *needle)
{
	int n = 0;
	for (const char *p = t; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_counter_help_type(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "ctrwatch_syscalls_total", CTW_COUNTER, "Syscalls made.");
	assert_true(ctw_metrics_sample(m, L("container", "web", "syscall", "openat"), 12));
	assert_string_equal(text(m),
			    "# HELP ctrwatch_syscalls_total Syscalls made.\n"
			    "# TYPE ctrwatch_syscalls_total counter\n"
			    "ctrwatch_syscalls_total{container=\"web\",syscall=\"openat\"} 12\n");
	assert_int_equal(ctw_metrics_series(m), 1);
	ctw_metrics_free(m);
}

static void test_no_labels_and_values(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "a", CTW_GAUGE, "h");
	assert_true(ctw_metrics_sample(m, NULL, 0.25));
	ctw_metrics_family(m, "b", CTW_GAUGE, "h");
	assert_true(ctw_metrics_sample(m, L("x", "1"), NAN));
	assert_true(ctw_metrics_sample(m, L("x", "2"), INFINITY));
	assert_true(ctw_metrics_sample(m, L("x", "3"), -INFINITY));
	assert_true(ctw_metrics_sample(m, L("x", "4"), 1e21));
	assert_true(ctw_metrics_sample(m, L("x", "5"), 0.1));
	assert_true(ctw_metrics_sample(m, L("x", "6"), 18446744073709551615.0));
	const char *t = text(m);
	assert_non_null(strstr(t, "\na 0.25\n"));
	assert_non_null(strstr(t, "b{x=\"1\"} NaN\n"));
	assert_non_null(strstr(t, "b{x=\"2\"} +Inf\n"));
	assert_non_null(strstr(t, "b{x=\"3\"} -Inf\n"));
	assert_non_null(strstr(t, "b{x=\"4\"} 1e+21\n"));
	assert_non_null(strstr(t, "b{x=\"5\"} 0.1\n"));
	assert_non_null(strstr(t, "b{x=\"6\"} 1.8446744073709552e+19\n"));
	ctw_metrics_free(m);
}

static void test_label_escaping(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "m", CTW_GAUGE, "back\\slash\nnewline \"quotes\" stay");
	assert_true(ctw_metrics_sample(m, L("v", "a\\b\"c\nd"), 1));
	const char *t = text(m);
	assert_non_null(strstr(t, "# HELP m back\\\\slash\\nnewline \"quotes\" stay\n"));
	assert_non_null(strstr(t, "m{v=\"a\\\\b\\\"c\\nd\"} 1\n"));
	ctw_metrics_free(m);
}

static void test_duplicates_rejected(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "m_total", CTW_COUNTER, "h");
	assert_true(ctw_metrics_sample(m, L("a", "1", "b", "2"), 1));
	assert_false(ctw_metrics_sample(m, L("a", "1", "b", "2"), 5));
	/* Same label set in another order is the same series. */
	assert_false(ctw_metrics_sample(m, L("b", "2", "a", "1"), 5));
	assert_true(ctw_metrics_sample(m, L("a", "1", "b", "3"), 1));
	/* Empty value differs from another value. */
	assert_true(ctw_metrics_sample(m, L("a", "1", "b", ""), 1));
	/* Label boundaries are part of identity: a="1b" vs a="1",b... */
	ctw_metrics_family(m, "n", CTW_GAUGE, "h");
	assert_true(ctw_metrics_sample(m, NULL, 1));
	assert_false(ctw_metrics_sample(m, NULL, 2));
	assert_int_equal(ctw_metrics_duplicates(m), 3);
	assert_int_equal(ctw_metrics_series(m), 4);
	assert_int_equal(ctw_metrics_dropped(m), 0);
	assert_int_equal(count_lines_with(text(m), "m_total{a=\"1\",b=\"2\"}"), 1);
	assert_non_null(strstr(text(m), "m_total{a=\"1\",b=\"2\"} 1\n"));
	ctw_metrics_free(m);
}

static void test_invalid_labels(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	/* No family yet. */
	assert_false(ctw_metrics_sample(m, NULL, 1));
	ctw_metrics_family(m, "m", CTW_GAUGE, "h");
	assert_false(ctw_metrics_sample(m, L("1bad", "x"), 1));
	assert_false(ctw_metrics_sample(m, L("ba-d", "x"), 1));
	assert_false(ctw_metrics_sample(m, L("__name__", "x"), 1));
	assert_false(ctw_metrics_sample(m, L("a", "x", "a", "y"), 1));
	assert_false(ctw_metrics_sample(m, (const char *const[]){"a", NULL}, 1));
	ctw_metrics_family(m, "bad-name", CTW_GAUGE, "h");
	assert_false(ctw_metrics_sample(m, NULL, 1));
	ctw_metrics_family(m, "ok:name", CTW_GAUGE, "h");
	assert_true(ctw_metrics_sample(m, NULL, 1));
	assert_int_equal(ctw_metrics_invalid(m), 7);
	assert_null(strstr(text(m), "bad-name"));
	assert_true(ctw_metrics_valid_name("ctrwatch_x"));
	assert_false(ctw_metrics_valid_name("9x"));
	assert_false(ctw_metrics_valid_name(""));
	ctw_metrics_free(m);
}

static void test_families_contiguous(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "a_total", CTW_COUNTER, "A");
	assert_true(ctw_metrics_sample(m, L("c", "1"), 1));
	ctw_metrics_family(m, "b", CTW_GAUGE, "B");
	assert_true(ctw_metrics_sample(m, L("c", "1"), 2));
	ctw_metrics_family(m, "a_total", CTW_COUNTER, "A");
	assert_true(ctw_metrics_sample(m, L("c", "2"), 3));
	/* An empty family prints nothing at all. */
	ctw_metrics_family(m, "empty", CTW_GAUGE, "E");
	assert_string_equal(text(m), "# HELP a_total A\n# TYPE a_total counter\n"
				     "a_total{c=\"1\"} 1\na_total{c=\"2\"} 3\n"
				     "# HELP b B\n# TYPE b gauge\nb{c=\"1\"} 2\n");
	/* Redeclaring with another type poisons the family's new samples. */
	ctw_metrics_family(m, "b", CTW_COUNTER, "B");
	assert_false(ctw_metrics_sample(m, L("c", "9"), 1));
	ctw_metrics_free(m);
}

static void test_histogram(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "lat_seconds", CTW_HISTOGRAM, "Latency.");
	const double bounds[] = {0.001, 0.01, 0.1};
	const uint64_t buckets[] = {2, 0, 3, 4};
	assert_true(ctw_metrics_histogram(m, L("container", "web"), bounds, buckets, 3, 1.5));
	assert_string_equal(text(m), "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
				     "lat_seconds_bucket{container=\"web\",le=\"0.001\"} 2\n"
				     "lat_seconds_bucket{container=\"web\",le=\"0.01\"} 2\n"
				     "lat_seconds_bucket{container=\"web\",le=\"0.1\"} 5\n"
				     "lat_seconds_bucket{container=\"web\",le=\"+Inf\"} 9\n"
				     "lat_seconds_sum{container=\"web\"} 1.5\n"
				     "lat_seconds_count{container=\"web\"} 9\n");
	assert_int_equal(ctw_metrics_series(m), 6);
	/* Duplicate histogram, `le` as a user label, unsorted bounds, and a
	 * plain sample in a histogram family are all refused. */
	assert_false(ctw_metrics_histogram(m, L("container", "web"), bounds, buckets, 3, 1));
	assert_false(ctw_metrics_histogram(m, L("le", "x"), bounds, buckets, 3, 1));
	const double bad[] = {1, 1, 2};
	assert_false(ctw_metrics_histogram(m, L("container", "x"), bad, buckets, 3, 1));
	assert_false(ctw_metrics_sample(m, L("container", "y"), 1));
	/* And a histogram in a counter family. */
	ctw_metrics_family(m, "c_total", CTW_COUNTER, "h");
	assert_false(ctw_metrics_histogram(m, NULL, bounds, buckets, 3, 1));
	/* No labels, no bounds: only +Inf. */
	ctw_metrics_family(m, "h2", CTW_HISTOGRAM, "h");
	const uint64_t one[] = {7};
	assert_true(ctw_metrics_histogram(m, NULL, NULL, one, 0, 0.5));
	assert_non_null(strstr(text(m), "h2_bucket{le=\"+Inf\"} 7\nh2_sum 0.5\nh2_count 7\n"));
	/* Bucket counts are integers in full, beyond 2^53 too. */
	const uint64_t big[] = {18446744073709551615ull};
	assert_true(ctw_metrics_histogram(m, L("x", "big"), NULL, big, 0, 0));
	assert_non_null(strstr(text(m), "h2_count{x=\"big\"} 18446744073709551615\n"));
	ctw_metrics_free(m);
}

static void test_series_cap(void **state)
{
	struct ctw_metrics *m = ctw_metrics_new(5);
	ctw_metrics_family(m, "m", CTW_GAUGE, "h");
	char v[16];
	int ok = 0;
	for (int i = 0; i < 8; i++) {
		snprintf(v, sizeof(v), "%d", i);
		ok += ctw_metrics_sample(m, L("i", v), i);
	}
	assert_int_equal(ok, 5);
	assert_int_equal(ctw_metrics_dropped(m), 3);
	assert_int_equal(ctw_metrics_series(m), 5);
	/* A histogram that does not fit whole is dropped whole (cost 4). */
	struct ctw_metrics *h = ctw_metrics_new(6);
	ctw_metrics_family(h, "h", CTW_HISTOGRAM, "h");
	const double b[] = {1};
	const uint64_t c[] = {1, 1};
	assert_true(ctw_metrics_histogram(h, L("a", "1"), b, c, 1, 1));
	assert_false(ctw_metrics_histogram(h, L("a", "2"), b, c, 1, 1));
	assert_int_equal(ctw_metrics_dropped(h), 4);
	assert_int_equal(count_lines_with(ctw_metrics_text(h, NULL), "a=\"2\""), 0);
	/* Lifting the cap lets the self metrics through. */
	ctw_metrics_set_max_series(m, 0);
	ctw_metrics_family(m, "ctrwatch_series_dropped_total", CTW_COUNTER, "d");
	assert_true(ctw_metrics_sample(m, NULL, (double)ctw_metrics_dropped(m)));
	assert_non_null(strstr(text(m), "ctrwatch_series_dropped_total 3\n"));
	ctw_metrics_free(m);
	ctw_metrics_free(h);
}

static void test_many_series(void **state)
{
	/* Grows the hash set and buffers well past their initial sizes. */
	struct ctw_metrics *m = ctw_metrics_new(0);
	ctw_metrics_family(m, "ctrwatch_syscalls_total", CTW_COUNTER, "h");
	char c[32], s[32];
	for (int i = 0; i < 100; i++) {
		for (int j = 0; j < 100; j++) {
			snprintf(c, sizeof(c), "c%d", i);
			snprintf(s, sizeof(s), "s%d", j);
			assert_true(ctw_metrics_sample(m, L("container", c, "syscall", s), j));
		}
	}
	assert_false(ctw_metrics_sample(m, L("container", "c42", "syscall", "s42"), 1));
	assert_int_equal(ctw_metrics_series(m), 10000);
	size_t len;
	const char *t = ctw_metrics_text(m, &len);
	assert_int_equal(strlen(t), len);
	assert_int_equal(count_lines_with(t, "\n"), 10002);
	ctw_metrics_free(m);
}

static void test_render_twice(void **state)
{
	/* Rendering is repeatable and picks up samples added after it. */
	struct ctw_metrics *m = ctw_metrics_new(0);
	assert_string_equal(text(m), "");
	ctw_metrics_family(m, "a", CTW_GAUGE, "h");
	ctw_metrics_sample(m, NULL, 1);
	assert_string_equal(text(m), "# HELP a h\n# TYPE a gauge\na 1\n");
	assert_string_equal(text(m), "# HELP a h\n# TYPE a gauge\na 1\n");
	ctw_metrics_family(m, "b", CTW_GAUGE, "h");
	ctw_metrics_sample(m, NULL, 2);
	assert_string_equal(text(m), "# HELP a h\n# TYPE a gauge\na 1\n"
				     "# HELP b h\n# TYPE b gauge\nb 2\n");
	ctw_metrics_free(m);
}

static void test_reset(void **state)
{
	/* A reused builder forgets everything but its buffers. */
	struct ctw_metrics *m = ctw_metrics_new(2);
	ctw_metrics_family(m, "a_total", CTW_COUNTER, "A");
	assert_true(ctw_metrics_sample(m, L("c", "1"), 1));
	assert_true(ctw_metrics_sample(m, L("c", "2"), 2));
	assert_false(ctw_metrics_sample(m, L("c", "3"), 3));
	assert_false(ctw_metrics_sample(m, L("c", "1"), 3));
	ctw_metrics_family(m, "b", CTW_GAUGE, "B");
	assert_int_equal(ctw_metrics_dropped(m), 1);
	ctw_metrics_reset(m, 0);
	assert_int_equal(ctw_metrics_dropped(m), 0);
	assert_int_equal(ctw_metrics_duplicates(m), 0);
	assert_int_equal(ctw_metrics_series(m), 0);
	assert_string_equal(text(m), "");
	/* the same series again is no duplicate; a family may change type */
	ctw_metrics_family(m, "b", CTW_COUNTER, "B2");
	assert_true(ctw_metrics_sample(m, NULL, 7));
	ctw_metrics_family(m, "a_total", CTW_COUNTER, "A");
	assert_true(ctw_metrics_sample(m, L("c", "1"), 4));
	assert_true(ctw_metrics_sample(m, L("c", "3"), 5));
	/* not declared yet in this scrape: no current family */
	ctw_metrics_reset(m, 0);
	assert_false(ctw_metrics_sample(m, NULL, 1));
	ctw_metrics_family(m, "a_total", CTW_COUNTER, "A");
	assert_true(ctw_metrics_sample(m, L("c", "1"), 4));
	assert_string_equal(text(m),
			    "# HELP a_total A\n# TYPE a_total counter\na_total{c=\"1\"} 4\n");
	ctw_metrics_free(m);
}

/* Values print in their shortest round-trip form: what a loop from 6
 * digits found, now from 15 (DBL_DIG), from 1 for subnormals. */
static void test_format_value(void **state)
{
	(void)state;
	static const struct {
		double v;
		const char *text;
	} cases[] = {
		{0.1, "0.1"},
		{1.5, "1.5"},
		{-2.25, "-2.25"},
		{1.0 / 3, "0.3333333333333333"},
		{2.0 / 3, "0.6666666666666666"},
		{12.345678901, "12.345678901"},
		{1e-7, "1e-07"},
		{123456.7890123, "123456.7890123"},
		{0.1 + 0.2, "0.30000000000000004"},
		{1e20, "1e+20"},
		{4503599627370495.5, "4503599627370495.5"},
		{5e-311, "5e-311"},
		{42, "42"},
		{-7, "-7"},
		{NAN, "NaN"},
		{INFINITY, "+Inf"},
		{-INFINITY, "-Inf"},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctw_metrics_format_value(cases[i].v, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		if (isfinite(cases[i].v))
			assert_true(strtod(buf, NULL) == cases[i].v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_help_type),
		cmocka_unit_test(test_no_labels_and_values),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_duplicates_rejected),
		cmocka_unit_test(test_invalid_labels),
		cmocka_unit_test(test_families_contiguous),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_many_series),
		cmocka_unit_test(test_render_twice),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_format_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
