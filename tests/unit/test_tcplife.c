// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the tcplife user side: port lists, record decoding, the
 * table and JSON output, and the agent's per-container aggregation. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <jansson.h>

#include "../../agent/agent.h"
#include "../../exporters/exporters.h"
#include "../../lib/lib.h"
#include "../../tcp/tcp.h"

static struct tcplife_event ev4(const char *sa, __u16 sp, const char *da, __u16 dp)
{
	struct tcplife_event e = {0};

	e.family = AF_INET;
	inet_pton(AF_INET, sa, e.saddr);
	inet_pton(AF_INET, da, e.daddr);
	e.sport = sp;
	e.dport = dp;
	return e;
}

static void test_parse_ports(void **state)
{
	__u16 p[TCPLIFE_MAX_PORTS];
	__u32 n;

	assert_int_equal(ctw_tcp_parse_ports("80", p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 80);
	assert_int_equal(ctw_tcp_parse_ports("80,443,65535", p, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[2], 65535);
	assert_int_equal(ctw_tcp_parse_ports("", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports("0", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports("65536", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports("80,", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports(",80", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports("80,,81", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports("8x", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports("-1", p, &n), -EINVAL);
	assert_int_equal(ctw_tcp_parse_ports("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", p, &n), 0);
	assert_int_equal(n, 16);
	assert_int_equal(ctw_tcp_parse_ports("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", p, &n),
			 -E2BIG);
}

static void test_decode(void **state)
{
	struct tcplife_event e = ev4("10.0.0.1", 40000, "192.168.1.2", 80);
	char buf[64];

	ctw_tcp_format_addr(&e, true, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
	ctw_tcp_format_addr(&e, false, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.2");

	e.family = AF_INET6;
	inet_pton(AF_INET6, "fd00::1", e.saddr);
	inet_pton(AF_INET6, "2001:db8::42", e.daddr);
	ctw_tcp_format_addr(&e, true, buf, sizeof(buf));
	assert_string_equal(buf, "fd00::1");
	ctw_tcp_format_addr(&e, false, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::42");

	assert_string_equal(ctw_tcp_close_name(TCPLIFE_CLOSE_FIN), "fin");
	assert_string_equal(ctw_tcp_close_name(TCPLIFE_CLOSE_REFUSED), "refused");
	assert_string_equal(ctw_tcp_close_name(200), "other");

	e.flags = 0;
	assert_true(ctw_tcp_is_connect_failure(&e));
	assert_string_equal(ctw_tcp_direction(&e), "active");
	e.flags = TCPLIFE_F_ESTABLISHED;
	assert_false(ctw_tcp_is_connect_failure(&e));
	e.flags = TCPLIFE_F_PASSIVE;
	assert_false(ctw_tcp_is_connect_failure(&e));
	assert_string_equal(ctw_tcp_direction(&e), "passive");
}

static char *capture_row(const struct ctw_tcp_columns *c, const struct tcplife_event *e,
			 const char *container, bool header)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (header)
		ctw_tcp_print_header(f, c);
	else
		ctw_tcp_print_row(f, c, e, container, 1.5, "12:34:56");
	fclose(f);
	return buf;
}

static void test_table(void **state)
{
	struct tcplife_event e = ev4("127.0.0.1", 19201, "127.0.0.1", 40000);
	struct ctw_tcp_columns c = {0};
	char *s;

	e.pid = 4242;
	memcpy(e.comm, "httpd", 6);
	e.tx_bytes = 2048;
	e.rx_bytes = 512;
	e.span_ns = 301500000;

	s = capture_row(&c, NULL, NULL, true);
	assert_non_null(strstr(s, "CONTAINER"));
	assert_true(strstr(s, "CONTAINER") < strstr(s, "PID"));
	assert_non_null(strstr(s, "LADDR           LPORT RADDR           RPORT TX_KB  RX_KB  MS"));
	assert_null(strstr(s, "TIME"));
	free(s);

	s = capture_row(&c, &e, "web", false);
	assert_string_equal(s, "web              4242    httpd            127.0.0.1       19201 "
			       "127.0.0.1       40000 2.00   0.50   301.50\n");
	free(s);

	/* A host process, a comm the probe could not name. */
	e.pid = 0;
	e.comm[0] = '\0';
	s = capture_row(&c, &e, NULL, false);
	assert_true(!strncmp(s, "-                0       -                ", 42));
	free(s);

	c.clock = c.elapsed = c.wide = true;
	s = capture_row(&c, NULL, NULL, true);
	assert_true(!strncmp(s, "TIME     TIME(s)   CONTAINER", 28));
	free(s);
	s = capture_row(&c, &e, "web", false);
	assert_true(!strncmp(s, "12:34:56 1.500     web ", 23));
	/* 39 columns for the address. */
	assert_non_null(strstr(s, "127.0.0.1                               19201"));
	free(s);
}

static void test_json(void **state)
{
	struct tcplife_event e = {0};
	json_error_t jerr;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	e.family = AF_INET6;
	inet_pton(AF_INET6, "::1", e.saddr);
	inet_pton(AF_INET6, "::1", e.daddr);
	e.sport = 33000;
	e.dport = 19205;
	e.pid = 7;
	memcpy(e.comm, "a\"b\\c", 6);
	e.tx_bytes = 1002;
	e.rx_bytes = 11;
	e.span_ns = 2500000;
	e.flags = TCPLIFE_F_ESTABLISHED;
	e.cgroup_id = 1234;
	ctw_tcp_print_json(f, &e, "db", 0);
	e.flags = 0;
	e.close = TCPLIFE_CLOSE_REFUSED;
	e.sk_err = 111;
	ctw_tcp_print_json(f, &e, NULL, 0);
	fclose(f);

	char *nl = strchr(buf, '\n');
	assert_non_null(nl);
	*nl = '\0';
	json_t *j = json_loads(buf, 0, &jerr);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "container")), "db");
	assert_int_equal(json_integer_value(json_object_get(j, "cgroup_id")), 1234);
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 7);
	assert_string_equal(json_string_value(json_object_get(j, "comm")), "a\"b\\c");
	assert_int_equal(json_integer_value(json_object_get(j, "family")), 6);
	assert_string_equal(json_string_value(json_object_get(j, "saddr")), "::1");
	assert_int_equal(json_integer_value(json_object_get(j, "sport")), 33000);
	assert_string_equal(json_string_value(json_object_get(j, "daddr")), "::1");
	assert_int_equal(json_integer_value(json_object_get(j, "dport")), 19205);
	assert_int_equal(json_integer_value(json_object_get(j, "tx_bytes")), 1002);
	assert_int_equal(json_integer_value(json_object_get(j, "rx_bytes")), 11);
	assert_true(json_real_value(json_object_get(j, "duration_ms")) == 2.5);
	assert_true(json_is_true(json_object_get(j, "established")));
	assert_string_equal(json_string_value(json_object_get(j, "direction")), "active");
	assert_string_equal(json_string_value(json_object_get(j, "close")), "fin");
	json_decref(j);

	j = json_loads(nl + 1, 0, &jerr);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "container")));
	assert_true(json_is_false(json_object_get(j, "established")));
	assert_string_equal(json_string_value(json_object_get(j, "close")), "refused");
	assert_int_equal(json_integer_value(json_object_get(j, "error")), 111);
	json_decref(j);
	free(buf);
}

static struct ctw_container mkctr(const char *id, const char *name, uint64_t cg)
{
	struct ctw_container c = {0};

	c.cgroup_id = cg;
	ctw_strlcpy(c.id, id, sizeof(c.id));
	ctw_strlcpy(c.name, name, sizeof(c.name));
	return c;
}

static void forget(void *ctx, __u64 cg)
{
	(*(int *)ctx)++;
}

static void test_stats(void **state)
{
	struct ctw_tcp_stats *s = ctw_tcp_stats_new();
	struct ctw_container web = mkctr("aaaa", "web", 100), db = mkctr("bbbb", "db", 200);
	struct tcplife_event e = ev4("127.0.0.1", 1, "127.0.0.1", 2);
	struct ctw_metrics *m;
	const char *text;
	int forgotten = 0;

	ctw_tcp_stats_add_cgroup(s, 100, &web);
	ctw_tcp_stats_add_cgroup(s, 101, &web); /* a child cgroup of web */
	ctw_tcp_stats_add_cgroup(s, 200, &db);

	e.cgroup_id = 101; /* client in web: 300 ms, 10 B out, 20 B in */
	e.flags = TCPLIFE_F_ESTABLISHED;
	e.span_ns = 300000000;
	e.tx_bytes = 10;
	e.rx_bytes = 20;
	assert_true(ctw_tcp_stats_event(s, &e));
	e.cgroup_id = 200; /* its server side in db */
	e.flags = TCPLIFE_F_ESTABLISHED | TCPLIFE_F_PASSIVE;
	e.tx_bytes = 20;
	e.rx_bytes = 10;
	assert_true(ctw_tcp_stats_event(s, &e));
	e.cgroup_id = 100; /* a refused connect in web */
	e.flags = 0;
	e.tx_bytes = e.rx_bytes = 0;
	assert_true(ctw_tcp_stats_event(s, &e));
	e.cgroup_id = 999; /* not a container */
	assert_false(ctw_tcp_stats_event(s, &e));
	ctw_tcp_stats_set_open(s, 100, 2);
	ctw_tcp_stats_set_open(s, 101, 1);

	m = ctw_metrics_new(0);
	ctw_tcp_stats_collect(s, m);
	text = ctw_metrics_text(m, NULL);
	assert_non_null(strstr(text, "ctrwatch_tcp_connections_total{container=\"web\",container_"
				     "id=\"aaaa\",direction=\"active\"} 1\n"));
	assert_non_null(strstr(text, "ctrwatch_tcp_connections_total{container=\"web\",container_"
				     "id=\"aaaa\",direction=\"passive\"} 0\n"));
	assert_non_null(strstr(text, "ctrwatch_tcp_connections_total{container=\"db\",container_id="
				     "\"bbbb\",direction=\"passive\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE ctrwatch_tcp_connection_duration_seconds histogram"));
	assert_non_null(strstr(
		text, "ctrwatch_tcp_connection_duration_seconds_bucket{container="
		      "\"web\",container_id=\"aaaa\",direction=\"active\",le=\"0.25\"} 0\n"));
	assert_non_null(
		strstr(text, "ctrwatch_tcp_connection_duration_seconds_bucket{container="
			     "\"web\",container_id=\"aaaa\",direction=\"active\",le=\"0.5\"} 1\n"));
	assert_non_null(strstr(text, "ctrwatch_tcp_connection_duration_seconds_count{container="
				     "\"web\",container_id=\"aaaa\",direction=\"active\"} 1\n"));
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_sent_bytes_total{container=\"web\",container_id=\"aaaa\"} 10\n"));
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_received_bytes_total{container=\"web\",container_id=\"aaaa\"} 20\n"));
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_sent_bytes_total{container=\"db\",container_id=\"bbbb\"} 20\n"));
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_connections_open{container=\"web\",container_id=\"aaaa\"} 3\n"));
	assert_non_null(strstr(
		text, "ctrwatch_tcp_connections_open{container=\"db\",container_id=\"bbbb\"} 0\n"));
	assert_non_null(strstr(text, "ctrwatch_tcp_connect_failures_total{container=\"web\","
				     "container_id=\"aaaa\"} 1\n"));
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_connect_failures_total{container=\"db\",container_id=\"bbbb\"} 0\n"));
	ctw_metrics_free(m);

	/* A new container that reuses the name web has series of its own. */
	struct ctw_container web2 = mkctr("dddd", "web", 400);
	ctw_tcp_stats_add_cgroup(s, 400, &web2);
	e.cgroup_id = 400;
	e.flags = TCPLIFE_F_ESTABLISHED;
	e.tx_bytes = 5;
	assert_true(ctw_tcp_stats_event(s, &e));
	m = ctw_metrics_new(0);
	ctw_tcp_stats_collect(s, m);
	text = ctw_metrics_text(m, NULL);
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_sent_bytes_total{container=\"web\",container_id=\"dddd\"} 5\n"));
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_sent_bytes_total{container=\"web\",container_id=\"aaaa\"} 10\n"));
	ctw_metrics_free(m);
	ctw_tcp_stats_remove(s, "dddd", forget, &forgotten);
	forgotten = 0;

	/* The open gauge is re-read at every scrape, not accumulated. */
	ctw_tcp_stats_set_open(s, 100, 1);
	m = ctw_metrics_new(0);
	ctw_tcp_stats_collect(s, m);
	assert_non_null(strstr(
		ctw_metrics_text(m, NULL),
		"ctrwatch_tcp_connections_open{container=\"web\",container_id=\"aaaa\"} 1\n"));
	ctw_metrics_free(m);

	/* A container that goes away takes its series and cgroups with it. */
	ctw_tcp_stats_remove(s, "aaaa", forget, &forgotten);
	assert_int_equal(forgotten, 2);
	e.cgroup_id = 101;
	assert_false(ctw_tcp_stats_event(s, &e));
	m = ctw_metrics_new(0);
	ctw_tcp_stats_collect(s, m);
	text = ctw_metrics_text(m, NULL);
	assert_null(strstr(text, "container=\"web\""));
	assert_non_null(strstr(text, "container=\"db\""));
	ctw_metrics_free(m);
	ctw_tcp_stats_remove(s, "nope", forget, &forgotten);
	ctw_tcp_stats_free(s);
}

static void test_stats_pending(void **state)
{
	struct ctw_tcp_stats *s = ctw_tcp_stats_new();
	struct ctw_container late = mkctr("cccc", "late", 300);
	struct tcplife_event e = ev4("127.0.0.1", 1, "127.0.0.1", 2);
	struct ctw_metrics *m;
	const char *text;

	/* Two connections close before discovery knows the container... */
	e.cgroup_id = 300;
	e.flags = TCPLIFE_F_ESTABLISHED;
	e.span_ns = 1000000;
	e.tx_bytes = 7;
	assert_false(ctw_tcp_stats_event(s, &e));
	assert_false(ctw_tcp_stats_event(s, &e));
	/* ...and the host's own are never held. */
	e.cgroup_id = 1;
	assert_false(ctw_tcp_stats_event(s, &e));
	assert_int_equal(ctw_tcp_stats_pending(s), 1);

	ctw_tcp_stats_add_cgroup(s, 300, &late);
	assert_int_equal(ctw_tcp_stats_pending(s), 0);
	m = ctw_metrics_new(0);
	ctw_tcp_stats_collect(s, m);
	text = ctw_metrics_text(m, NULL);
	assert_non_null(strstr(text, "ctrwatch_tcp_connections_total{container=\"late\",container_"
				     "id=\"cccc\",direction=\"active\"} 2\n"));
	assert_non_null(strstr(
		text,
		"ctrwatch_tcp_sent_bytes_total{container=\"late\",container_id=\"cccc\"} 14\n"));
	ctw_metrics_free(m);

	/* Held records expire. */
	e.cgroup_id = 400;
	assert_false(ctw_tcp_stats_event(s, &e));
	assert_int_equal(ctw_tcp_stats_pending(s), 1);
	ctw_tcp_stats_expire(s, ctw_now_ns() + 10 * 1000000000ull);
	assert_int_equal(ctw_tcp_stats_pending(s), 1);
	ctw_tcp_stats_expire(s, ctw_now_ns() + 31 * 1000000000ull);
	assert_int_equal(ctw_tcp_stats_pending(s), 0);
	ctw_tcp_stats_free(s);
}

static void test_event_abi(void **state)
{
	/* The layout both sides agree on. */
	assert_int_equal(offsetof(struct tcplife_event, cgroup_id), 32);
	assert_int_equal(offsetof(struct tcplife_event, pid), 72);
	assert_int_equal(offsetof(struct tcplife_event, comm), 88);
	assert_int_equal(sizeof(struct tcplife_event), 104);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ports), cmocka_unit_test(test_decode),
		cmocka_unit_test(test_table),	    cmocka_unit_test(test_json),
		cmocka_unit_test(test_stats),	    cmocka_unit_test(test_stats_pending),
		cmocka_unit_test(test_event_abi),
	};
	return cmocka_run_group_tests_name("tcplife", tests, NULL, NULL);
}
