// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP server: /metrics, /healthz, /readyz on libmicrohttpd's own
 * thread.
 *
 * We bind the listening socket ourselves (clear errors, any address family,
 * port 0 for tests) and hand it to MHD.  Production limits: a total
 * connection limit, a per-IP limit, an idle timeout that cuts connections
 * that say nothing, and a per-connection memory pool limit.  /metrics is
 * built through the scrape callback at most once per cache window (or when
 * the agent says the data changed); every request in the window gets the
 * same reference-counted response, and the gzip of it, compressed once when
 * first asked for (Accept-Encoding).  Once scrapes come at a steady interval,
 * the next text is built ahead of the next scrape (see `ahead`).  Basic auth, when set, guards /metrics only:
 * the kubelet's probes on /healthz and /readyz carry no credentials.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "exporters.h"
#include "gz_choice.h"
#include "../lib/lib.h"

/* Per-connection memory pool.  Above 32 KiB libmicrohttpd mmap()s each pool
 * (below, it malloc()s it): only the pages a request touches count, and
 * they go back to the system when the connection closes, where malloc'ed
 * pools of a hundred connections stayed in the heap (measured: 3 MB). */
#define POOL_SIZE (64 * 1024)
#define CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"

struct ctw_http {
	struct MHD_Daemon *d;
	int fd;
	int port;
	struct ctw_http_opts o;
	char *user, *pass;
	char *cert_pem, *key_pem;
	/* The builder, reused by every build, with or without a cache: its
	 * series set and text buffer stay warm.  Freed after each cached
	 * build it was ~0.5-1.7 MB less RSS at 1 000 containers, but on this
	 * VM the fresh pages cost each cold build ~10 ms (a scrape with gzip:
	 * p50 60 -> 50 ms kept).  The text itself is not kept (a memfd owned
	 * by the response).  Under `lock`. */
	struct ctw_metrics *m;
	/* The scrape cache, under `lock` (MHD's thread and `ahead`): our
	 * references to the current responses (plain, and gzip once asked
	 * for), the text the plain one owns, and when it was built.  `stale`
	 * is set from the agent's thread. */
	struct MHD_Response *plain, *gz;
	const char *text;
	int text_fd; /* the text's memfd (owned by `plain`), or -1: `text` */
	size_t text_len;
	/* The text's segments, and the compressed units of the last gzip:
	 * the next gzip compresses only units whose text changed. */
	struct ctw_metrics_seg *segs;
	size_t nsegs;
	struct ctw_gzcache *gzc;
	/* gzip alongside the build, when the next gzip is of the whole text
	 * (NULL: no thread; then after the build, in ensure_gz) */
	struct ctw_gzstream *gzs;
	struct gz_choice gz_choice; /* units or the whole text next */
	uint64_t built_ns;
	atomic_bool stale;
	/* Scrape-ahead (with a cache): Prometheus scrapes at a fixed
	 * interval, and a scrape that finds the cache expired pays the whole
	 * build (~5 ms for 5 000 series here, ~1.5 ms more for the gzip).  Once
	 * two scrapes came one interval apart, our `ahead` thread builds the
	 * next text (and its gzip when the scraper asks for gzip) shortly
	 * before the next scrape is due, which then finds a fresh cache.  It
	 * builds once per scrape, as a request would: nothing when nobody
	 * scrapes.  `lock` guards the cache, the builder and these fields
	 * between MHD's thread and `ahead`. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t ahead;
	bool ahead_started, quit;
	bool want_gz;		 /* the last scrape asked for gzip */
	uint64_t last_scrape_ns; /* when the last scrape began */
	uint64_t ahead_at_ns;	 /* when to build ahead; 0: not planned */
	uint64_t build_ns;	 /* how long the last build took */
	/* when the last request less than a window after the scrape before
	 * it came (atomic: read by the agent's loop, ctw_http_last_repeat_ns) */
	uint64_t last_repeat_ns;
};

/* Split "ADDR:PORT", ":PORT", "[V6]:PORT" into host (NULL = any) and port. */
int ctw_http_parse_listen(const char *listen, char *host, size_t hostlen, char *port,
			  size_t portlen)
{
	const char *colon;
	host[0] = '\0';
	if (!listen || !*listen)
		return -EINVAL;
	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (!end || end[1] != ':' || (size_t)(end - listen - 1) >= hostlen)
			return -EINVAL;
		memcpy(host, listen + 1, end - listen - 1);
		host[end - listen - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		if ((size_t)(colon - listen) >= hostlen)
			return -EINVAL;
		memcpy(host, listen, colon - listen);
		host[colon - listen] = '\0';
		if (strchr(host, ':'))
			return -EINVAL; /* bare IPv6 needs brackets */
	}
	uint64_t p;
	if (ctw_parse_u64(colon + 1, 0, 65535, &p) < 0)
		return -EINVAL;
	snprintf(port, portlen, "%llu", (unsigned long long)p);
	return 0;
}

/* The listen spec's addresses (freeaddrinfo them); -EINVAL with err set. */
static int listen_addrs(const char *listen_spec, char *host, size_t hostlen, struct addrinfo **res,
			struct ctw_err *err)
{
	char port[16];
	if (ctw_http_parse_listen(listen_spec, host, hostlen, port, sizeof(port)) < 0) {
		if (listen_spec && *listen_spec &&
		    strspn(listen_spec, "0123456789") == strlen(listen_spec))
			return ctw_err_setx(
				err, EINVAL,
				"listen address '%s': a port alone is written :%s (all addresses)",
				listen_spec, listen_spec);
		return ctw_err_setx(err, EINVAL,
				    "listen address '%s': expected ADDR:PORT, :PORT or [V6]:PORT "
				    "(port 0-65535)",
				    listen_spec ? listen_spec : "");
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, res);
	if (rc)
		return ctw_err_setx(err, EINVAL, "listen address '%s': %s", listen_spec,
				    gai_strerror(rc));
	return 0;
}

int ctw_http_check_listen(const char *listen_spec, struct ctw_err *err)
{
	char host[256];
	struct addrinfo *res;
	int rc = listen_addrs(listen_spec, host, sizeof(host), &res, err);
	if (rc == 0)
		freeaddrinfo(res);
	return rc;
}

int ctw_http_bind(const char *listen_spec, struct ctw_err *e)
{
	char host[256];
	struct addrinfo *res;
	int rc = listen_addrs(listen_spec, host, sizeof(host), &res, e);
	if (rc < 0)
		return rc;
	int err = 0, fd = -1;
	/* With no host, prefer an IPv6 socket that also takes IPv4. */
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			if (!host[0] && (pass == 0) != (ai->ai_family == AF_INET6))
				continue;
			if (host[0] && pass == 1)
				break;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				err = errno;
				continue;
			}
			int one = 1, zero = 0;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6 && !host[0])
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
				break;
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ctw_err_set(e, err ? err : EINVAL, "listen on %s", listen_spec);
	if (fd < 3) { /* 0 is "no fd" in ctw_http_opts.listen_fd */
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3), en = errno;
		close(fd);
		if (hi < 0)
			return ctw_err_set(e, en, "listen on %s", listen_spec);
		fd = hi;
	}
	return fd;
}

/* ---- gzip ---- */

/* Does Accept-Encoding allow gzip?  "gzip", "x-gzip", or "*" with q > 0,
 * unless gzip itself is listed with q=0. */
bool ctw_http_accepts_gzip(const char *ae)
{
	if (!ae)
		return false;
	int gzip = -1, star = -1;
	const char *p = ae;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *tok = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		size_t toklen = p - tok;
		double q = 1.0;
		/* parameters */
		while (*p && *p != ',') {
			while (*p == ' ' || *p == '\t' || *p == ';')
				p++;
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
				char *end;
				q = strtod(p + 2, &end);
				if (end == p + 2)
					q = 0;
				p = end;
			}
			while (*p && *p != ',' && *p != ';')
				p++;
		}
		int ok = q > 0;
		if ((toklen == 4 && !strncasecmp(tok, "gzip", 4)) ||
		    (toklen == 6 && !strncasecmp(tok, "x-gzip", 6)))
			gzip = ok;
		else if (toklen == 1 && tok[0] == '*')
			star = ok;
	}
	if (gzip >= 0)
		return gzip;
	return star > 0;
}

/* gzip inlen bytes, from memory (`in`, all at once) or from fd (read with
 * pread 64 KiB at a time: a small buffer stays warm; see drain() in
 * metrics.c for what fresh pages cost here), into a malloc'ed buffer. */
static int gzip_src(const char *in, int fd, size_t inlen, char **out, size_t *outlen)
{
	enum { CHUNK = 64 << 10 };
	z_stream zs = {0};
	/* Level 1: a scrape is text with long repeated prefixes; the fastest
	 * level already shrinks it ~10x, and scrape latency matters more. */
	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	size_t cap = deflateBound(&zs, inlen);
	char *buf = xmalloc(cap), *chunk = in ? NULL : xmalloc(CHUNK);
	ctw_mem_populate(buf, cap / 8); /* a scrape gzips to ~1/13 of its size */
	zs.next_out = (Bytef *)buf;
	zs.avail_out = cap;
	int rc = Z_OK, err = 0;
	for (size_t off = 0; rc == Z_OK;) {
		/* memory: the rest in one call; fd: up to a chunk */
		size_t want = in || inlen - off < CHUNK ? inlen - off : CHUNK;
		ssize_t n = in || !want ? (ssize_t)want : pread(fd, chunk, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (want && !n)) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		zs.next_in = (Bytef *)(in ? in + off : chunk);
		zs.avail_in = (uInt)n;
		off += (size_t)n;
		rc = deflate(&zs, off == inlen ? Z_FINISH : Z_NO_FLUSH);
	}
	size_t used = zs.total_out;
	deflateEnd(&zs);
	free(chunk);
	if (err || rc != Z_STREAM_END) {
		free(buf);
		return err ? err : -EIO;
	}
	/* deflateBound() is ~the input size; keep what was used. */
	if (used) {
		char *shrunk = realloc(buf, used);
		if (shrunk)
			buf = shrunk;
	}
	*out = buf;
	*outlen = used;
	return 0;
}

int ctw_gzip(const char *in, size_t inlen, char **out, size_t *outlen)
{
	return gzip_src(in ? in : "", -1, inlen, out, outlen);
}

int ctw_gzip_fd(int fd, size_t inlen, char **out, size_t *outlen)
{
	return gzip_src(NULL, fd, inlen, out, outlen);
}

/* ---- handlers ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status, const char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool const_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return diff == 0;
}

static bool authorized(struct ctw_http *h, struct MHD_Connection *c)
{
	if (!h->user)
		return true;
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	bool ok = user && pass && const_eq(user, h->user) && const_eq(pass, h->pass);
	if (user)
		MHD_free(user);
	if (pass)
		MHD_free(pass);
	return ok;
}

/* A finished /metrics response: the text (or its gzip) owned by the
 * response, which MHD reference-counts, so every connection in the cache
 * window sends the same buffer without a copy and the last one to finish
 * frees it. */
static struct MHD_Response *metrics_headers(struct MHD_Response *r, bool gzip)
{
	if (!r)
		return NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE_TEXT);
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	return r;
}

static struct MHD_Response *metrics_response(char *body, size_t len, bool gzip)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (!r)
		free(body);
	return metrics_headers(r, gzip);
}

/* The text in a memfd (ctw_metrics_take_fd): MHD sends it with sendfile
 * (plain HTTP; it reads it with pread under TLS) and closes it with the
 * response. */
static struct MHD_Response *metrics_fd_response(int fd, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_fd64(len, fd);
	if (!r)
		close(fd);
	return metrics_headers(r, false);
}

static void drop_cache(struct ctw_http *h)
{
	if (h->plain)
		MHD_destroy_response(h->plain);
	if (h->gz)
		MHD_destroy_response(h->gz);
	h->plain = h->gz = NULL;
	h->text = NULL;
	h->text_fd = -1;
	if (h->m)
		ctw_metrics_give_back_segments(h->m, h->segs);
	else
		free(h->segs);
	h->segs = NULL;
	h->nsegs = 0;
}

void ctw_http_invalidate(struct ctw_http *h)
{
	if (h)
		atomic_store(&h->stale, true);
}

/* A builder in fd mode: the text in a memfd, sent with sendfile (see
 * metrics_fd_response); in memory when there is no memfd. */
static struct ctw_metrics *new_builder(const struct ctw_http *h)
{
	struct ctw_metrics *m = ctw_metrics_new(h->o.max_series);
	ctw_metrics_use_fd(m);
	return m;
}

static void gz_grow(void *gzs, int fd, size_t len)
{
	ctw_gzstream_grow(gzs, fd, len);
}

static bool gz_holds(void *gzc, uint64_t id, uint64_t hash, size_t len)
{
	return ctw_gzcache_holds(gzc, id, hash, len);
}

/* The unit gzip of the text just built (memfd fd, or in memory), as the
 * gzip response; false when it failed.  Updates whether units pay. */
static bool gz_units(struct ctw_http *h, int fd, const char *text, size_t len)
{
	char *zbuf;
	size_t zlen, reused, compressed;
	int rc = fd >= 0 ? ctw_gzcache_compress_fd(h->gzc, fd, len, h->segs, h->nsegs, &zbuf, &zlen)
			 : ctw_gzcache_compress(h->gzc, text, len, h->segs, h->nsegs, &zbuf, &zlen);
	ctw_gzcache_stats(h->gzc, &reused, &compressed);
	gz_choice_units_done(&h->gz_choice, rc == 0, reused, compressed);
	if (rc == 0)
		h->gz = metrics_response(zbuf, zlen, true);
	return h->gz != NULL;
}

static int build(struct ctw_http *h, uint64_t now, bool gz, bool skip);

/* Build /metrics afresh when forced, or when the cache is older than
 * cache_ms or stale, or has no text and the request wants plain text (the
 * last build was gzip only); with gz (a request asks for gzip) see
 * build().  Called with h->lock held. */
static int refresh(struct ctw_http *h, uint64_t now, bool force, bool gz)
{
	bool stale = atomic_exchange(&h->stale, false);
	if (!force && (h->plain || (gz && h->gz)) && !stale &&
	    now - h->built_ns < (uint64_t)h->o.cache_ms * 1000000ull)
		return 0;
	return build(h, now, gz, true);
}

/* Build /metrics.  With gz and a unit gzip next, a gzip-only build when
 * skip: the stamped blocks that did not change since the gzip cache's
 * units were made are left out of the text (ctw_metrics_skip_same), and
 * the text, not whole, is only gzipped (no plain response until a plain
 * request builds one).  With gz and a whole-text gzip next, the gzip is
 * made alongside the build (gzstream.c). */
/* The build is done: when, how long it took, how long the whole text is
 * (the next build reserves about that much). */
static void built(struct ctw_http *h, uint64_t now, size_t whole_len)
{
	h->text_len = whole_len;
	h->built_ns = now;
	h->build_ns = ctw_now_ns() - now;
	if (h->ahead_started)
		pthread_cond_signal(&h->wake); /* a new expiry to wait for */
}

/* A gzip-only build's text (fd, or in memory): gzipped with the units
 * left out taken from the gzip cache; the text itself is not kept.  False
 * when that failed (the cache lost a unit, or memory ran out). */
static bool gzip_only(struct ctw_http *h, struct ctw_metrics *m, int fd, size_t len)
{
	char *text = fd >= 0 ? NULL : ctw_metrics_take_text(m, &len);
	h->segs = ctw_metrics_take_segments(m, &h->nsegs);
	bool ok = (fd >= 0 || text) && gz_units(h, fd, text, len);
	if (fd >= 0)
		close(fd);
	free(text);
	return ok;
}

static int build(struct ctw_http *h, uint64_t now, bool gz, bool skip)
{
	drop_cache(h);
	if (!h->m)
		h->m = new_builder(h);
	struct ctw_metrics *m = h->m;
	ctw_metrics_reset(m, h->o.max_series);
	if (h->text_len) /* about the last text's size (containers change slowly) */
		ctw_metrics_reserve(m, h->text_len + h->text_len / 16 + 4096);
	bool units = gz && gz_choice_units(&h->gz_choice);
	if (units && skip)
		ctw_metrics_skip_same(m, gz_holds, h->gzc);
	bool stream = gz && h->gzs && !units && ctw_gzstream_begin(h->gzs) == 0;
	if (stream)
		ctw_metrics_on_drain(m, gz_grow, h->gzs);
	if (h->o.scrape)
		h->o.scrape(h->o.ctx, m);
	size_t len = 0;
	int fd = ctw_metrics_take_fd(m, &len);
	size_t skipped = ctw_metrics_skipped(m);
	if (skipped) {
		uint64_t collected = ctw_now_ns();
		if (!gzip_only(h, m, fd, len))
			return build(h, now, gz, false); /* all of it, then */
		size_t reused, compressed;
		ctw_gzcache_stats(h->gzc, &reused, &compressed);
		pr_debug("metrics: gzip only, %zu of %zu bytes left out, %zu units reused, %zu "
			 "compressed, %.1f ms (build %.1f)",
			 skipped, len + skipped, reused, compressed, (ctw_now_ns() - now) / 1e6,
			 (collected - now) / 1e6);
		built(h, now, len + skipped);
		return 0;
	}
	char *zbuf = NULL;
	size_t zlen = 0;
	if (stream) {
		ctw_metrics_on_drain(m, NULL, NULL);
		if (ctw_gzstream_finish(h->gzs, fd, len, &zbuf, &zlen))
			zbuf = NULL; /* ensure_gz gzips it after */
	}
	/* The plain response owns the text (its memfd, or in memory when
	 * there is no memfd); the first request that asks for gzip compresses
	 * it (h->text_fd and h->text are valid while we hold h->plain). */
	if (fd >= 0) {
		h->plain = metrics_fd_response(fd, len);
		h->text_fd = h->plain ? fd : -1;
	} else if (fd == -EINVAL) {
		char *text = ctw_metrics_take_text(m, &len);
		h->plain = metrics_response(text, len, false);
		h->text = h->plain ? text : NULL;
	} else {
		pr_warn("metrics: building /metrics in a memfd: %s", strerror(-fd));
	}
	h->segs = ctw_metrics_take_segments(m, &h->nsegs);
	if (zbuf && h->plain) {
		h->gz = metrics_response(zbuf, zlen, true);
		gz_choice_whole_done(&h->gz_choice);
	} else {
		free(zbuf);
	}
	built(h, now, len);
	return h->plain ? 0 : -ENOMEM;
}

/* The gzip response of the current text, made once, reusing the
 * compressed units of the last one where the text did not change.
 * h->lock held. */
static void ensure_gz(struct ctw_http *h)
{
	char *zbuf;
	size_t zlen;
	int rc;
	if (h->gz || (!h->text && h->text_fd < 0))
		return;
	if (gz_choice_units(&h->gz_choice)) {
		gz_units(h, h->text_fd, h->text, h->text_len);
		return;
	}
	rc = h->text_fd >= 0 ? ctw_gzip_fd(h->text_fd, h->text_len, &zbuf, &zlen)
			     : ctw_gzip(h->text, h->text_len, &zbuf, &zlen);
	gz_choice_whole_done(&h->gz_choice);
	if (rc == 0)
		h->gz = metrics_response(zbuf, zlen, true);
}

/* A /metrics request at `now`: is it a new scrape (not a repeat within the
 * cache window: those are only noted, for ctw_http_last_repeat_ns), and if
 * two came one steady interval apart, when should the next text be built?
 * h->lock held. */
static void plan_ahead(struct ctw_http *h, uint64_t now, bool gz)
{
	uint64_t win = (uint64_t)h->o.cache_ms * 1000000ull;
	if (!h->ahead_started)
		return;
	if (h->last_scrape_ns && now - h->last_scrape_ns < win) {
		__atomic_store_n(&h->last_repeat_ns, now, __ATOMIC_RELAXED);
		return;
	}
	uint64_t interval = h->last_scrape_ns ? now - h->last_scrape_ns : 0;
	h->last_scrape_ns = now;
	h->want_gz = gz;
	h->ahead_at_ns = 0;
	/* Plausible scrape intervals only: two cache windows up to an hour. */
	if (interval < 2 * win || interval > 3600ull * 1000000000ull)
		return;
	/* Early enough for a slow build, late enough that the text is still
	 * fresh (younger than the window) when the scrape comes. */
	uint64_t lead = 4 * h->build_ns;
	if (lead < 100000000ull)
		lead = 100000000ull;
	if (lead > win / 2)
		lead = win / 2;
	h->ahead_at_ns = now + interval - lead;
	pthread_cond_signal(&h->wake);
}

static void *ahead_main(void *arg)
{
	struct ctw_http *h = arg;
	pthread_mutex_lock(&h->lock);
	uint64_t win = (uint64_t)h->o.cache_ms * 1000000ull;
	while (!h->quit) {
		uint64_t at = h->ahead_at_ns, now = ctw_now_ns();
		/* An expired text is never served again: give its memory back
		 * now rather than at the next scrape (with 1 000 containers
		 * the text is ~9 MB; between scrapes the agent keeps only the
		 * gzip cache's compressed units). */
		bool cached = h->plain || h->gz;
		if (cached && now - h->built_ns >= win)
			drop_cache(h);
		uint64_t expire = h->plain || h->gz ? h->built_ns + win : 0;
		if (expire && (!at || expire < at))
			at = expire;
		if (!at) {
			pthread_cond_wait(&h->wake, &h->lock);
			continue;
		}
		if (now < at) {
			struct timespec ts = {.tv_sec = (time_t)(at / 1000000000ull),
					      .tv_nsec = (long)(at % 1000000000ull)};
			pthread_cond_timedwait(&h->wake, &h->lock, &ts);
			continue;
		}
		if (at != h->ahead_at_ns)
			continue; /* woken to drop the expired text */
		h->ahead_at_ns = 0;
		/* A request built it moments ago: nothing to do. */
		if ((h->plain || h->gz) && now - h->built_ns < (uint64_t)h->o.cache_ms * 500000ull)
			continue;
		if (refresh(h, now, true, h->want_gz) == 0 && h->want_gz)
			ensure_gz(h);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static enum MHD_Result serve_metrics(struct ctw_http *h, struct MHD_Connection *c)
{
	bool gz = ctw_http_accepts_gzip(
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	enum MHD_Result ret = MHD_NO;
	pthread_mutex_lock(&h->lock);
	uint64_t now = ctw_now_ns();
	plan_ahead(h, now, gz);
	if (refresh(h, now, false, gz) == 0) {
		if (gz)
			ensure_gz(h);
		/* Queued under the lock: `ahead` may replace the cache, and
		 * MHD holds its own reference once queued. */
		ret = MHD_queue_response(c, MHD_HTTP_OK, gz && h->gz ? h->gz : h->plain);
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct ctw_http *h = cls;
	static int marker;
	if (!*con_cls) {
		/* First call: headers only.  Answer once the body (if any) is in. */
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* discard request bodies */
		return MHD_YES;
	}
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET);
	bool head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	bool known = !strcmp(url, "/metrics") || !strcmp(url, "/healthz") ||
		     !strcmp(url, "/readyz") || !strcmp(url, "/");
	if (!known)
		return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (!get && !head)
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/healthz"))
		return send_text(c, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/readyz")) {
		bool ready = !h->o.ready || h->o.ready(h->o.ctx);
		return send_text(c, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
				 ready ? "ready\n" : "not ready\n");
	}
	if (!strcmp(url, "/"))
		return send_text(c, MHD_HTTP_OK,
				 "ctrwatch agent: see /metrics, /healthz, /readyz\n");
	if (!authorized(h, c)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		enum MHD_Result ret = MHD_queue_basic_auth_fail_response(c, "ctrwatch", r);
		MHD_destroy_response(r);
		return ret;
	}
	return serve_metrics(h, c);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	ctw_vlog(CTW_LOG_DEBUG, fmt, ap);
}

struct ctw_http *ctw_http_start(const struct ctw_http_opts *opts, struct ctw_err *err)
{
	struct ctw_http *h = xcalloc(1, sizeof(*h));
	h->o = *opts;
	h->fd = opts->listen_fd > 0 ? opts->listen_fd : -1; /* ours now: closed on failure */
	h->text_fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* ctw_now_ns()'s clock */
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	h->m = new_builder(h);
	h->gzc = ctw_gzcache_new();
	/* units from the start: the second gzip already leaves out what did
	 * not change (two unit gzips decide whether they pay) */
	h->gz_choice = GZ_CHOICE_INIT;
	h->gzs = ctw_gzstream_new();
	/* A peer that hangs up mid-response must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);

	if (opts->basic_auth) {
		const char *colon = strchr(opts->basic_auth, ':');
		if (!colon) {
			ctw_err_setx(err, EINVAL, "basic auth: expected USER:PASSWORD");
			goto out_free;
		}
		h->user = strndup(opts->basic_auth, colon - opts->basic_auth);
		h->pass = xstrdup(colon + 1);
	}
	unsigned int flags =
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (!!opts->tls_cert != !!opts->tls_key) {
		ctw_err_setx(err, EINVAL, "TLS needs both a certificate and a key");
		goto out_free;
	}
	if (opts->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			ctw_err_setx(err, ENOTSUP,
				     "TLS: libmicrohttpd was built without TLS support");
			goto out_free;
		}
		int rc = ctw_read_file(opts->tls_cert, &h->cert_pem, NULL);
		if (rc < 0) {
			ctw_err_set(err, -rc, "TLS certificate %s", opts->tls_cert);
			goto out_free;
		}
		rc = ctw_read_file(opts->tls_key, &h->key_pem, NULL);
		if (rc < 0) {
			ctw_err_set(err, -rc, "TLS key %s", opts->tls_key);
			goto out_free;
		}
		flags |= MHD_USE_TLS;
	}
	if (h->fd < 0)
		h->fd = ctw_http_bind(opts->listen, err);
	if (h->fd < 0)
		goto out_free;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);

	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	errno = 0;
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_CONNECTION_LIMIT,
		opts->conn_limit ? opts->conn_limit : 512, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		opts->per_ip_limit ? opts->per_ip_limit : 128, MHD_OPTION_CONNECTION_TIMEOUT,
		opts->timeout_s ? opts->timeout_s : 15, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)POOL_SIZE, MHD_OPTION_ARRAY, opts->tls_cert ? tls : &tls[2],
		MHD_OPTION_END);
	if (!h->d) {
		/* libmicrohttpd says why only through its logger (mhd_log, at
		 * debug), and sets errno on some paths only */
		ctw_err_setx(err, errno ? errno : EIO, "start HTTP server on %s%s%s", opts->listen,
			     errno ? ": " : " failed", errno ? strerror(errno) : "");
		goto out_free;
	}
	if (opts->cache_ms) {
		pthread_attr_t ta;
		pthread_attr_init(&ta);
		pthread_attr_setstacksize(&ta, 1 << 20); /* builds keep their data on the heap */
		h->ahead_started = pthread_create(&h->ahead, &ta, ahead_main, h) == 0;
		pthread_attr_destroy(&ta);
		if (!h->ahead_started)
			pr_warn("http: no scrape-ahead thread: every scrape builds its text");
	}
	return h;

out_free:
	ctw_http_stop(h);
	return NULL;
}

int ctw_http_port(const struct ctw_http *h)
{
	return h ? h->port : -1;
}

uint64_t ctw_http_last_repeat_ns(const struct ctw_http *h)
{
	return h ? __atomic_load_n(&h->last_repeat_ns, __ATOMIC_RELAXED) : 0;
}

void ctw_http_stop(struct ctw_http *h)
{
	if (!h)
		return;
	if (h->d) {
		/* Stop accepting first, then finish: MHD_stop_daemon waits for
		 * its thread and closes every connection. */
		if (MHD_quiesce_daemon(h->d) == MHD_INVALID_SOCKET)
			h->fd = -1; /* MHD keeps it and closes it itself */
		MHD_stop_daemon(h->d);
	}
	if (h->ahead_started) {
		pthread_mutex_lock(&h->lock);
		h->quit = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->ahead, NULL);
	}
	if (h->fd >= 0)
		close(h->fd);
	free(h->user);
	free(h->pass);
	free(h->cert_pem);
	free(h->key_pem);
	drop_cache(h);
	ctw_metrics_free(h->m);
	ctw_gzcache_free(h->gzc);
	ctw_gzstream_free(h->gzs);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
