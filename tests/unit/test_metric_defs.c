// SPDX-License-Identifier: Apache-2.0
/* The metric family tables: every table the agent has passes the naming
 * rules (exporters/metric_defs.c), and each rule refuses what it should. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../agent/agent.h"
#include "../../exporters/exporters.h"

/* A family, designated (the tables' own spelling) */
#define DEF(n, t, h, ...)                                          \
	{                                                          \
		.name = (n), .type = (t), .help = (h), __VA_ARGS__ \
	}

/* One family in a table of its own: the message of the rule it breaks
 * ("" when none). */
static const char *check_one(struct ctw_metric_def d)
{
	static char err[256];
	const struct ctw_metric_def table[2] = {d, {0}};
	const struct ctw_metric_def *t = table;

	err[0] = '\0';
	if (ctw_metric_defs_check(&t, 1, err, sizeof(err)) == 0)
		return "";
	return err;
}

static void test_every_agent_table_passes(void **state)
{
	const struct ctw_metric_def *tables[MAX_AGENT_TABLES];
	const char *groups[MAX_AGENT_TABLES];
	size_t n = ctw_agent_metric_tables(tables, groups, MAX_AGENT_TABLES);
	char err[256] = "";
	size_t families = 0;
	bool seen_tcp = false, seen_self = false;

	(void)state;
	/* syscalls, tcp, dns, policy, resources, the agent's own */
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		seen_tcp |= !strcmp(groups[i], "tcp");
		seen_self |= !strcmp(groups[i], "agent");
		for (const struct ctw_metric_def *d = tables[i]; d->name; d++)
			families++;
	}
	assert_true(seen_tcp && seen_self);
	assert_true(families >= 45);
	int rc = ctw_metric_defs_check(tables, n, err, sizeof(err));
	if (rc)
		fprintf(stderr, "naming: %s\n", err);
	assert_int_equal(rc, 0);
}

static void test_good_family(void **state)
{
	(void)state;
	assert_string_equal(check_one((struct ctw_metric_def)DEF("ctrwatch_x_total", CTW_COUNTER,
								 "X.", .container = true,
								 CTW_METRIC_LABELS("syscall"))),
			    "");
	assert_string_equal(
		check_one((struct ctw_metric_def)DEF("process_open_fds", CTW_GAUGE, "Fds.", )), "");
}

/* Each rule, and what it says when a family breaks it. */
static const struct {
	const char *want;
	struct ctw_metric_def def;
} refused[] = {
	{"prefix", DEF("node_x_total", CTW_COUNTER, "X.", )},
	{"prefix", DEF("process_threads", CTW_GAUGE, "X.", )},
	{"ends in _total", DEF("ctrwatch_x", CTW_COUNTER, "X.", )},
	{"only a counter", DEF("ctrwatch_x_total", CTW_GAUGE, "X.", )},
	{"snake_case", DEF("ctrwatch_fooBar_total", CTW_COUNTER, "X.", )},
	{"snake_case", DEF("ctrwatch__x", CTW_GAUGE, "X.", )},
	{"snake_case", DEF("ctrwatch_x_", CTW_GAUGE, "X.", )},
	{"snake_case", DEF("ctrwatch:x", CTW_GAUGE, "X.", )},
	{"unit 'ms'", DEF("ctrwatch_latency_ms", CTW_HISTOGRAM, "X.", )},
	{"unit 'kb'", DEF("ctrwatch_sent_kb_total", CTW_COUNTER, "X.", )},
	{"unit 'milliseconds'", DEF("ctrwatch_wait_milliseconds_total", CTW_COUNTER, "X.", )},
	{"_bucket", DEF("ctrwatch_x_seconds_count", CTW_HISTOGRAM, "X.", )},
	{"HELP", DEF("ctrwatch_x", CTW_GAUGE, "", )},
	{"HELP", DEF("ctrwatch_x", CTW_GAUGE, NULL, )},
	{"HELP", DEF("ctrwatch_x", CTW_GAUGE, "two\nlines", )},
	{"reserved", DEF("ctrwatch_x_seconds", CTW_HISTOGRAM, "X.", CTW_METRIC_LABELS("le"))},
	{"not snake_case", DEF("ctrwatch_x", CTW_GAUGE, "X.", CTW_METRIC_LABELS("Rule"))},
	{"not snake_case", DEF("ctrwatch_x", CTW_GAUGE, "X.", CTW_METRIC_LABELS("__name"))},
	{"declared twice", DEF("ctrwatch_x", CTW_GAUGE, "X.", CTW_METRIC_LABELS("a", "a"))},
	{"container label set",
	 DEF("ctrwatch_x", CTW_GAUGE, "X.", CTW_METRIC_LABELS("container_id"))},
	{"container label set",
	 DEF("ctrwatch_x", CTW_GAUGE, "X.", .container = true, CTW_METRIC_LABELS("pod"))},
};

static void test_rules_refuse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *got = check_one(refused[i].def);
		if (!strstr(got, refused[i].want))
			fail_msg("%s: want '%s', got '%s'", refused[i].def.name, refused[i].want,
				 got);
	}
}

static void test_declared_twice_across_tables(void **state)
{
	static const struct ctw_metric_def a[] = {
		DEF("ctrwatch_a", CTW_GAUGE, "A.", ), DEF("ctrwatch_b", CTW_GAUGE, "B.", ), {0}};
	static const struct ctw_metric_def b[] = {
		DEF("ctrwatch_c", CTW_GAUGE, "C.", ), DEF("ctrwatch_b", CTW_COUNTER, "B.", ), {0}};
	static const struct ctw_metric_def c[] = {
		DEF("ctrwatch_d", CTW_GAUGE, "D.", ), DEF("ctrwatch_d", CTW_GAUGE, "D.", ), {0}};
	const struct ctw_metric_def *ab[] = {a, b}, *ac[] = {a, c}, *aa[] = {a, a};
	char err[256];

	(void)state;
	assert_int_equal(ctw_metric_defs_check(ab, 1, err, sizeof(err)), 0);
	/* b's ctrwatch_b is a counter without _total: the type rule speaks
	 * first; the same name as a gauge is a repeat */
	assert_int_not_equal(ctw_metric_defs_check(ab, 2, err, sizeof(err)), 0);
	assert_int_not_equal(ctw_metric_defs_check(ac, 2, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "metric ctrwatch_d: declared twice"));
	assert_int_not_equal(ctw_metric_defs_check(aa, 2, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "metric ctrwatch_a: declared twice"));
}

/* HELP and TYPE come from the table, as the table says. */
static void test_declare_writes_header(void **state)
{
	static const struct ctw_metric_def d =
		DEF("ctrwatch_y_seconds", CTW_HISTOGRAM, "Y \\ z.", );
	struct ctw_metrics *m = ctw_metrics_new(0);
	const double bounds[] = {1};
	const uint64_t buckets[] = {1, 0};

	(void)state;
	ctw_metrics_declare(m, &d);
	assert_true(ctw_metrics_histogram(m, NULL, bounds, buckets, 1, 0.5));
	assert_non_null(strstr(ctw_metrics_text(m, NULL), "# HELP ctrwatch_y_seconds Y \\\\ z.\n"
							  "# TYPE ctrwatch_y_seconds histogram\n"));
	ctw_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_agent_table_passes),
		cmocka_unit_test(test_good_family),
		cmocka_unit_test(test_rules_refuse),
		cmocka_unit_test(test_declared_twice_across_tables),
		cmocka_unit_test(test_declare_writes_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
