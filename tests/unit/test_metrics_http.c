// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests for the HTTP side of exporters/: listen-address parsing,
 * Accept-Encoding negotiation, gzip, and a live server on 127.0.0.1:0
 * spoken to with raw HTTP/1.1 over a socket (no root needed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "../../exporters/exporters.h"
#include "../../lib/lib.h"

static void test_parse_listen(void **state)
{
	char h[64], p[16];
	assert_int_equal(ctw_http_parse_listen("127.0.0.1:9464", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_string_equal(p, "9464");
	assert_int_equal(ctw_http_parse_listen(":80", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(h, "");
	assert_string_equal(p, "80");
	assert_int_equal(ctw_http_parse_listen("[::1]:9464", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(ctw_http_parse_listen("localhost:0", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(h, "localhost");
	assert_string_equal(p, "0");
	assert_int_equal(ctw_http_parse_listen("9464", h, sizeof(h), p, sizeof(p)), -EINVAL);
	assert_int_equal(ctw_http_parse_listen("::1:9464", h, sizeof(h), p, sizeof(p)), -EINVAL);
	assert_int_equal(ctw_http_parse_listen("[::1]9464", h, sizeof(h), p, sizeof(p)), -EINVAL);
	assert_int_equal(ctw_http_parse_listen("a:65536", h, sizeof(h), p, sizeof(p)), -EINVAL);
	assert_int_equal(ctw_http_parse_listen("a:x", h, sizeof(h), p, sizeof(p)), -EINVAL);
	assert_int_equal(ctw_http_parse_listen("", h, sizeof(h), p, sizeof(p)), -EINVAL);
	assert_int_equal(ctw_http_parse_listen(NULL, h, sizeof(h), p, sizeof(p)), -EINVAL);
}

static void test_accepts_gzip(void **state)
{
	assert_true(ctw_http_accepts_gzip("gzip"));
	assert_true(ctw_http_accepts_gzip("gzip, deflate, br"));
	assert_true(ctw_http_accepts_gzip("deflate, GZIP;q=0.5"));
	assert_true(ctw_http_accepts_gzip("x-gzip"));
	assert_true(ctw_http_accepts_gzip("*"));
	assert_true(ctw_http_accepts_gzip("identity;q=1, *;q=0.1"));
	assert_false(ctw_http_accepts_gzip(NULL));
	assert_false(ctw_http_accepts_gzip(""));
	assert_false(ctw_http_accepts_gzip("identity"));
	assert_false(ctw_http_accepts_gzip("deflate, br"));
	assert_false(ctw_http_accepts_gzip("gzip;q=0"));
	assert_false(ctw_http_accepts_gzip("gzip; q=0.000"));
	assert_false(ctw_http_accepts_gzip("*, gzip;q=0"));
	assert_false(ctw_http_accepts_gzip("*;q=0"));
}

static void test_gzip_roundtrip(void **state)
{
	char in[20000];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = "ctrwatch_syscalls_total{container=\"web\"} 1\n"[i % 44];
	char *z;
	size_t zl;
	assert_int_equal(ctw_gzip(in, sizeof(in), &z, &zl), 0);
	assert_true(zl < sizeof(in) / 10);
	assert_int_equal((unsigned char)z[0], 0x1f); /* gzip magic */
	assert_int_equal((unsigned char)z[1], 0x8b);
	char out[sizeof(in) + 16];
	z_stream zs = {0};
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)z;
	zs.avail_in = zl;
	zs.next_out = (Bytef *)out;
	zs.avail_out = sizeof(out);
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	inflateEnd(&zs);
	free(z);
}

/* ---- live server ---- */

static _Atomic int scrapes; /* MHD's thread and the scrape-ahead thread build */
static bool is_ready;

static void scrape(void *ctx, struct ctw_metrics *m)
{
	scrapes++;
	ctw_metrics_family(m, "ctrwatch_test_total", CTW_COUNTER, "A test counter.");
	ctw_metrics_sample(m, (const char *const[]){"container", "web", NULL}, 42);
	ctw_metrics_sample(m, (const char *const[]){"container", "db", NULL}, 7);
	ctw_metrics_sample(m, (const char *const[]){"container", "cache", NULL}, 1);
}

static bool ready(void *ctx)
{
	return is_ready;
}

/* One request on a fresh connection: the whole response, NUL-terminated, in
 * a buffer that grows; *len its size. */
static char *request_all(int port, const char *req, size_t *len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	*len = 0;
	while ((n = read(fd, buf + *len, cap - *len - 1)) > 0) {
		*len += (size_t)n;
		if (cap - *len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	buf[*len] = '\0';
	close(fd);
	return buf;
}

static char *request(int port, const char *req)
{
	size_t len;
	return request_all(port, req, &len);
}

static struct ctw_http *start(const char *auth, unsigned int max_series)
{
	struct ctw_err err = {0};
	struct ctw_http_opts o = {
		.listen = "127.0.0.1:0",
		.scrape = scrape,
		.ready = ready,
		.max_series = max_series,
		.basic_auth = auth,
		.timeout_s = 2,
	};
	struct ctw_http *h = ctw_http_start(&o, &err);
	if (!h)
		fail_msg("start: %s", err.msg);
	assert_true(ctw_http_port(h) > 0);
	return h;
}

static void test_server(void **state)
{
	struct ctw_http *h = start(NULL, 0);
	int port = ctw_http_port(h);
	char *r;

	r = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200"));
	assert_non_null(
		strstr(r, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(r, "\r\nVary: Accept-Encoding\r\n"));
	assert_null(strstr(r, "Content-Encoding"));
	assert_non_null(strstr(r, "\r\n\r\n# HELP ctrwatch_test_total A test counter.\n"));
	assert_non_null(strstr(r, "ctrwatch_test_total{container=\"web\"} 42\n"));
	free(r);

	/* HEAD: the headers, a Content-Length, no body */
	r = request(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200"));
	assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(r, "\r\n\r\n"));
	assert_string_equal(strstr(r, "\r\n\r\n"), "\r\n\r\n");
	free(r);

	/* gzip */
	r = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
			  "Connection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200"));
	assert_non_null(strstr(r, "\r\nContent-Encoding: gzip\r\n"));
	char *body = strstr(r, "\r\n\r\n") + 4;
	assert_int_equal((unsigned char)body[0], 0x1f);
	free(r);

	/* other methods */
	r = request(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
			  "Connection: close\r\n\r\nabc");
	assert_non_null(strstr(r, "HTTP/1.1 405"));
	assert_non_null(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
	free(r);
	r = request(port, "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 405"));
	free(r);

	r = request(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 404"));
	free(r);
	r = request(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200"));
	free(r);
	is_ready = false;
	r = request(port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 503"));
	free(r);
	is_ready = true;
	r = request(port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200"));
	free(r);
	ctw_http_stop(h);
}

static void test_server_cap(void **state)
{
	struct ctw_http *h = start(NULL, 2);
	char *r = request(ctw_http_port(h),
			  "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "container=\"web\""));
	assert_non_null(strstr(r, "container=\"db\""));
	assert_null(strstr(r, "container=\"cache\""));
	free(r);
	ctw_http_stop(h);
}

static void test_server_basic_auth(void **state)
{
	struct ctw_http *h = start("prom:s3cret", 0);
	int port = ctw_http_port(h);
	char *r = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 401"));
	assert_non_null(strstr(r, "WWW-Authenticate: Basic realm=\"ctrwatch\""));
	free(r);
	/* prom:wrong */
	r = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
			  "cHJvbTp3cm9uZw==\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 401"));
	free(r);
	/* prom:s3cret */
	r = request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
			  "cHJvbTpzM2NyZXQ=\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200"));
	assert_non_null(strstr(r, "ctrwatch_test_total"));
	free(r);
	/* probes need no credentials */
	r = request(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 200"));
	free(r);
	ctw_http_stop(h);
}

/* Body of a response (after the blank line), plain text only. */
static char *body_of(char *r)
{
	char *b = strstr(r, "\r\n\r\n");
	assert_non_null(b);
	return b + 4;
}

/* A server with a scrape cache of cache_ms. */
static struct ctw_http *start_cached(unsigned int cache_ms)
{
	struct ctw_err err = {0};
	struct ctw_http_opts o = {.listen = "127.0.0.1:0", .scrape = scrape, .cache_ms = cache_ms};
	struct ctw_http *h = ctw_http_start(&o, &err);
	if (!h)
		fail_msg("start: %s", err.msg);
	return h;
}

/* The scrape cache: one build per window, the same text to every request
 * in it (plain and gzip), a fresh build after the window or an
 * invalidation. */
static void test_server_cache(void **state)
{
	struct ctw_http *h = start_cached(300);
	int port = ctw_http_port(h);
	const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	const char *getz = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
			   "Connection: close\r\n\r\n";
	int before = scrapes;
	char *r1 = request(port, get);
	char *r2 = request(port, get);
	char *rz = request(port, getz);
	char *rh = request(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(scrapes - before, 1);
	assert_string_equal(body_of(r1), body_of(r2));
	assert_non_null(strstr(r1, "ctrwatch_test_total{container=\"web\"} 42\n"));
	assert_non_null(strstr(rz, "\r\nContent-Encoding: gzip\r\n"));
	assert_non_null(strstr(rz, "\r\nVary: Accept-Encoding\r\n"));
	assert_string_equal(body_of(rh), "");
	/* the gzip body decodes to the same text */
	const char *cl = strcasestr(rz, "\r\nContent-Length: ");
	assert_non_null(cl);
	size_t zlen = strtoul(cl + 18, NULL, 10);
	char out[4096];
	z_stream zs = {0};
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)body_of(rz);
	zs.avail_in = zlen;
	zs.next_out = (Bytef *)out;
	zs.avail_out = sizeof(out) - 1;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	out[zs.total_out] = '\0';
	inflateEnd(&zs);
	assert_string_equal(out, body_of(r1));
	free(r1);
	free(r2);
	free(rz);
	free(rh);

	/* invalidated: the next request builds afresh */
	ctw_http_invalidate(h);
	free(request(port, get));
	assert_int_equal(scrapes - before, 2);
	free(request(port, get));
	assert_int_equal(scrapes - before, 2);
	/* after the window */
	usleep(350 * 1000);
	free(request(port, getz));
	assert_int_equal(scrapes - before, 3);
	ctw_http_stop(h);
}

static void sleep_until(uint64_t t0, unsigned int ms)
{
	uint64_t at = t0 + ms * 1000000ull, now = ctw_now_ns();
	if (now < at)
		usleep((useconds_t)((at - now) / 1000));
}

/* Scrape-ahead: two scrapes one interval apart, and the third finds its
 * text built before it came (no build in the request); once scrapes stop,
 * at most the one planned build follows. */
static void test_server_ahead(void **state)
{
	struct ctw_http *h = start_cached(400);
	int port = ctw_http_port(h);
	const char *getz = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
			   "Connection: close\r\n\r\n";
	int before = scrapes;
	uint64_t t0 = ctw_now_ns();
	free(request(port, getz)); /* t = 0: builds */
	sleep_until(t0, 1000);
	free(request(port, getz)); /* t = 1 s: builds; next one due at 2 s */
	assert_int_equal(scrapes - before, 2);
	sleep_until(t0, 1700);
	assert_int_equal(scrapes - before, 2); /* not yet: at 2 s less a lead <= 200 ms */
	sleep_until(t0, 1990);
	assert_int_equal(scrapes - before, 3); /* built ahead */
	char *r = request(port, getz);	       /* t = 2 s: served from it */
	assert_non_null(strstr(r, "\r\nContent-Encoding: gzip\r\n"));
	free(r);
	assert_int_equal(scrapes - before, 3);
	/* Nobody scrapes any more: one more build ahead (for 3 s), then none. */
	sleep_until(t0, 3300);
	assert_int_equal(scrapes - before, 4);
	sleep_until(t0, 4600);
	assert_int_equal(scrapes - before, 4);
	ctw_http_stop(h);
}

static void test_server_errors(void **state)
{
	struct ctw_err err = {0};
	struct ctw_http_opts o = {.listen = "nonsense", .scrape = scrape};
	assert_null(ctw_http_start(&o, &err));
	assert_non_null(strstr(err.msg, "expected ADDR:PORT"));
	struct ctw_http *h = start(NULL, 0);
	char busy[64];
	snprintf(busy, sizeof(busy), "127.0.0.1:%d", ctw_http_port(h));
	o.listen = busy;
	assert_null(ctw_http_start(&o, &err));
	assert_non_null(strstr(err.msg, "Address already in use"));
	assert_int_equal(err.code, EADDRINUSE); /* the bind's errno, not a guess */
	o.listen = "127.0.0.1:0";
	o.tls_cert = "/nonexistent.pem";
	assert_null(ctw_http_start(&o, &err));
	assert_non_null(strstr(err.msg, "TLS needs both"));
	o.tls_key = "/nonexistent.key";
	assert_null(ctw_http_start(&o, &err));
	assert_string_equal(err.msg, "TLS certificate /nonexistent.pem: No such file or directory");
	assert_int_equal(err.code, ENOENT);
	o.tls_cert = o.tls_key = NULL;
	o.basic_auth = "nocolon";
	assert_null(ctw_http_start(&o, &err));
	assert_non_null(strstr(err.msg, "USER:PASSWORD"));
	ctw_http_stop(h);
	ctw_http_stop(NULL);
}

/* What the agent does: check the spec (--check), bind before loading its
 * probes, hand the socket to the server; the server owns it even when it
 * fails to start (no fd leaks either way). */
static void test_bind_first(void **state)
{
	struct ctw_err err = {0};
	assert_int_equal(ctw_http_check_listen("127.0.0.1:99999", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "(port 0-65535)"));
	assert_int_equal(ctw_http_check_listen("19775", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "a port alone is written :19775"));
	assert_int_equal(ctw_http_check_listen("[::1]:0", &err), 0);
	int fd = ctw_http_bind("127.0.0.1:0", &err);
	assert_true(fd >= 3);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	char spec[64];
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sa.sin_port));
	assert_int_equal(ctw_http_bind(spec, &err), -EADDRINUSE);
	assert_non_null(strstr(err.msg, "Address already in use"));
	struct ctw_http_opts o = {.listen = spec, .listen_fd = fd, .scrape = scrape};
	struct ctw_http *h = ctw_http_start(&o, &err);
	assert_non_null(h);
	assert_int_equal(ctw_http_port(h), ntohs(sa.sin_port));
	ctw_http_stop(h);
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed with the server */
	fd = ctw_http_bind("127.0.0.1:0", &err);
	o.listen_fd = fd;
	o.basic_auth = "nocolon";
	assert_null(ctw_http_start(&o, &err));
	assert_int_equal(fcntl(fd, F_GETFD), -1);
}

/* ---- a text of many drains (the memfd, sendfile, gzip alongside) ---- */

static int big_n;

static void scrape_big(void *ctx, struct ctw_metrics *m)
{
	char name[32];
	ctw_metrics_family(m, "ctrwatch_big_total", CTW_COUNTER, "Many series.");
	for (int i = 0; i < big_n; i++) {
		snprintf(name, sizeof(name), "container-%05d", i);
		ctw_metrics_sample(
			m, (const char *const[]){"container", name, "pod", "a-pod", NULL}, i);
	}
}

/* Texts of ~400 KB and ~2.7 MB (the builder drains them to its memfd
 * several times; sent from it with sendfile): the plain body is the text a
 * builder in memory makes; the gzip, made alongside the build (the first
 * gzip of a text is of the whole text), decodes to it, with and without a
 * scrape cache. */
static void test_server_big(void **state)
{
	for (int cached = 0; cached < 4; cached++) {
		big_n = cached < 2 ? 6000 : 40000;
		struct ctw_metrics *mem = ctw_metrics_new(0);
		scrape_big(NULL, mem);
		size_t want_len;
		const char *want = ctw_metrics_text(mem, &want_len);
		assert_true(want_len > (cached < 2 ? 300000u : 2200000u));
		struct ctw_err err = {0};
		struct ctw_http_opts o = {.listen = "127.0.0.1:0",
					  .scrape = scrape_big,
					  .cache_ms = cached % 2 ? 60000 : 0};
		struct ctw_http *h = ctw_http_start(&o, &err);
		if (!h)
			fail_msg("start: %s", err.msg);
		int port = ctw_http_port(h);
		for (int round = 0; round < 2; round++) {
			size_t len;
			char *rz =
				request_all(port,
					    "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: "
					    "gzip\r\nConnection: close\r\n\r\n",
					    &len);
			assert_non_null(strstr(rz, "\r\nContent-Encoding: gzip\r\n"));
			const char *cl = strcasestr(rz, "\r\nContent-Length: ");
			assert_non_null(cl);
			size_t zlen = strtoul(cl + 18, NULL, 10);
			char *zb = body_of(rz);
			assert_int_equal((size_t)(rz + len - zb), zlen);
			char *out = malloc(want_len + 1);
			z_stream zs = {0};
			assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
			zs.next_in = (Bytef *)zb;
			zs.avail_in = zlen;
			zs.next_out = (Bytef *)out;
			zs.avail_out = want_len + 1;
			assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
			assert_int_equal(zs.total_out, want_len);
			assert_memory_equal(out, want, want_len);
			inflateEnd(&zs);
			free(out);
			free(rz);
			char *r = request_all(
				port,
				"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
				&len);
			char *b = body_of(r);
			assert_int_equal((size_t)(r + len - b), want_len);
			assert_memory_equal(b, want, want_len);
			free(r);
		}
		ctw_http_stop(h);
		ctw_metrics_free(mem);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen),   cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_gzip_roundtrip), cmocka_unit_test(test_server),
		cmocka_unit_test(test_server_cap),     cmocka_unit_test(test_server_basic_auth),
		cmocka_unit_test(test_server_errors),  cmocka_unit_test(test_server_cache),
		cmocka_unit_test(test_server_ahead),   cmocka_unit_test(test_bind_first),
		cmocka_unit_test(test_server_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
