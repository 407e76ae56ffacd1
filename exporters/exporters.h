/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exporters/ — Prometheus text exposition (format 0.0.4), the HTTP server
 * (libmicrohttpd) and JSON-lines output.
 *
 * A scrape builds one `struct ctw_metrics`: collectors declare a family, then
 * add its samples.  The builder keeps families contiguous, drops duplicate
 * series, enforces the series cap (counting what it dropped) and escapes
 * label values.  Collectors never format text themselves.
 *
 * Scrape cost: a collector with many series per container opens a block per
 * container (ctw_metrics_block: the container's labels, checked and
 * rendered once) and adds its samples to it with at most one label of their
 * own (ctw_metrics_block_sample).  Blocks are also the units the gzip cache
 * (ctw_gzcache) keys on: a block whose text did not change since the last
 * scrape is not compressed again.
 */
#ifndef CTW_EXPORTERS_H
#define CTW_EXPORTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ctw_metric_type { CTW_COUNTER, CTW_GAUGE, CTW_HISTOGRAM };

struct ctw_metrics;

/* max_series 0 means no cap. */
struct ctw_metrics *ctw_metrics_new(size_t max_series);
void ctw_metrics_free(struct ctw_metrics *m);

/* Start (or continue) a family: name without suffixes, HELP text, TYPE.
 * Must be called before samples of that family. */
void ctw_metrics_family(struct ctw_metrics *m, const char *name, enum ctw_metric_type type,
			const char *help);

/* A metric family as its module declares it, once, in a table: the
 * exposition writes HELP and TYPE from it (ctw_metrics_declare), the
 * README's metrics table is generated from it (ctrwatch agent
 * --list-metrics) and the naming rules are checked on it
 * (ctw_metric_defs_check).  Tables end with an entry without a name. */
#define CTW_METRIC_MAX_LABELS 6
struct ctw_metric_def {
	const char *name; /* without the _bucket/_sum/_count suffixes */
	enum ctw_metric_type type;
	const char *help;
	/* Its series carry the container label set first (container, pod and
	 * namespace when known, container_id: ctw_agent_labels). */
	bool container;
	/* Its own label names, after the container's; NULL-terminated. */
	const char *labels[CTW_METRIC_MAX_LABELS + 1];
	/* When it is exported, if not always (the README says so). */
	const char *when;
};
#define CTW_METRIC_LABELS(...) .labels = {__VA_ARGS__, NULL}
/* The container label set, in the order series carry it. */
extern const char *const ctw_metric_container_labels[];
/* ctw_metrics_family from a table entry. */
void ctw_metrics_declare(struct ctw_metrics *m, const struct ctw_metric_def *d);
/* The naming rules, on n tables (each ended by an entry without a name):
 * prefix ctrwatch_ (process_ for the standard process metrics), snake_case,
 * counters end in _total and nothing else does, base units only
 * (_seconds, _bytes: no _ms, _kb, ...), label names valid, not reserved,
 * not repeated, not the container's own; HELP present; no family declared
 * twice.  0, or -EINVAL with the first problem in errbuf. */
int ctw_metric_defs_check(const struct ctw_metric_def *const *tables, size_t n, char *errbuf,
			  size_t errlen);

/* One sample of the current family.  labels: NULL-terminated list of
 * alternating names and values, e.g. (const char *[]){"container", "web", NULL}.
 * Returns false when the series was dropped (cap reached or duplicate). */
bool ctw_metrics_sample(struct ctw_metrics *m, const char *const *labels, double value);

/* One histogram series of the current family: `bounds` are the upper bounds
 * (ascending, without +Inf), `buckets[i]` the non-cumulative count of
 * observations in bucket i, with buckets[nbounds] the overflow bucket. */
bool ctw_metrics_histogram(struct ctw_metrics *m, const char *const *labels, const double *bounds,
			   const uint64_t *buckets, size_t nbounds, double sum);

/* Blocks: open a block of the current family with the labels its samples
 * share (a container's); the family's next samples may go to it through
 * ctw_metrics_block_sample/_histogram, each adding at most one label
 * (label NULL: none).  The block ends at the next ctw_metrics_block,
 * ctw_metrics_family, ctw_metrics_sample or _histogram.  The same
 * validation, duplicate check and cap apply as to ctw_metrics_sample.
 * False when the labels are invalid (the block's samples are then refused
 * and counted invalid). */
bool ctw_metrics_block(struct ctw_metrics *m, const char *const *labels);
bool ctw_metrics_block_sample(struct ctw_metrics *m, const char *label, const char *value,
			      double v);
bool ctw_metrics_block_histogram(struct ctw_metrics *m, const char *label, const char *value,
				 const double *bounds, const uint64_t *buckets, size_t nbounds,
				 double sum);

/* Stamped blocks: a block whose whole text the collector summarizes in a
 * stamp (e.g. a hash of the counters it shows; never the same stamp for
 * another text under the same family and labels).  It is a gzip unit of
 * its own (see ctw_gzcache).  In a build told to skip what is unchanged
 * (ctw_metrics_skip_same), a stamped block whose family, labels and stamp
 * were in the last build, whose series fit and are not in this text yet,
 * and whose compressed unit the gzip cache still holds, is left out of the
 * text: CTW_BLOCK_SAME, the collector adds no samples, its series count as
 * written.  Otherwise the block is open as with ctw_metrics_block
 * (CTW_BLOCK_OPEN), or its labels are invalid (CTW_BLOCK_BAD). */
enum ctw_block_state { CTW_BLOCK_BAD, CTW_BLOCK_OPEN, CTW_BLOCK_SAME };
/* A stamp from what a block shows: XXH3-64 of p[0..n), seeded with seed
 * (chain calls to stamp several arrays). */
uint64_t ctw_metrics_stamp(const void *p, size_t n, uint64_t seed);
enum ctw_block_state ctw_metrics_block_stamped(struct ctw_metrics *m, const char *const *labels,
					       uint64_t stamp);
/* For the next build only (ctw_metrics_reset ends it): leave out the
 * stamped blocks that did not change, when held(ctx, id, hash, len) says
 * the compressed unit of that segment (ctw_gzcache_holds) is kept.  The
 * text is then not the exposition: only ctw_gzcache_compress(_fd) with its
 * segments makes it whole (in gzip).  fn NULL: off. */
void ctw_metrics_skip_same(struct ctw_metrics *m,
			   bool (*held)(void *ctx, uint64_t id, uint64_t hash, size_t len),
			   void *ctx);
/* Bytes of the exposition left out of this build's text (0: the text is
 * whole). */
size_t ctw_metrics_skipped(const struct ctw_metrics *m);

/* Series dropped by the cap since the builder was created. */
uint64_t ctw_metrics_dropped(const struct ctw_metrics *m);
size_t ctw_metrics_series(const struct ctw_metrics *m);

/* The finished exposition text; the builder keeps ownership. */
const char *ctw_metrics_text(struct ctw_metrics *m, size_t *len);

/* Samples rejected as duplicates of a series already in this scrape, and
 * samples rejected as invalid (bad label name, no current family, type
 * mismatch, repeated label). */
uint64_t ctw_metrics_duplicates(const struct ctw_metrics *m);
uint64_t ctw_metrics_invalid(const struct ctw_metrics *m);
/* Room for a text of `bytes` (the last one's size and a little): one
 * allocation, its pages faulted in at once, instead of a buffer doubling
 * from 256 bytes (whose last doubling left up to half of it unused but
 * faulted in). */
void ctw_metrics_reserve(struct ctw_metrics *m, size_t bytes);
/* Change the cap mid-scrape (0 = none): the agent lifts it for its own few
 * self metrics at the end, so ctrwatch_series_dropped_total always appears. */
void ctw_metrics_set_max_series(struct ctw_metrics *m, size_t max_series);
/* Empty the builder for the next scrape, keeping its buffers (no
 * allocation in the steady state); counters restart at 0. */
void ctw_metrics_reset(struct ctw_metrics *m, size_t max_series);
/* The finished exposition text, handed over: a malloc'ed, NUL-terminated
 * buffer the caller frees; the builder starts its next text afresh. */
char *ctw_metrics_take_text(struct ctw_metrics *m, size_t *len);
/* fd mode, for the agent's scrapes: the text goes to a memfd as it is
 * built (through a 64 KiB buffer, at segment boundaries), and is handed
 * over as that fd (ctw_metrics_take_fd) instead of as a string.  Fresh
 * memory is what a big text costs on a VM with shadow paging (see
 * drain() in metrics.c); the fd is sent with sendfile.  Only between
 * builds; false (memory mode kept) when memfd_create fails. */
bool ctw_metrics_use_fd(struct ctw_metrics *m);
/* fd mode: the finished text's memfd (the caller closes it) and its
 * length, or -errno (making or writing the memfd failed: the text is
 * lost).  ctw_metrics_text returns NULL in fd mode once the text went to
 * the fd. */
int ctw_metrics_take_fd(struct ctw_metrics *m, size_t *len);
/* fd mode: call fn after each write to the memfd with how long it is now
 * (NULL: none).  Kept across resets. */
void ctw_metrics_on_drain(struct ctw_metrics *m, void (*fn)(void *ctx, int fd, size_t len),
			  void *ctx);
/* The segments of the last text (ctw_metrics_text/_take_text/_take_fd): each
 * family's HELP/TYPE lines (family_start), then each of its blocks and runs
 * of samples outside blocks, in text order.  id is stable from scrape to
 * scrape (the family and the block's labels; a run's family and ordinal).
 * Handed over: the caller frees the array, or gives it back with
 * ctw_metrics_give_back_segments once done with it, for the builder's next
 * text (its pages stay in). */
struct ctw_metrics_seg {
	uint64_t id;
	size_t off; /* in the text; a segment ends where the next begins */
	/* XXH3-64 of the segment's bytes, taken as the builder wrote them
	 * (hot in the cache: a second pass over a 12 MB text cost more than
	 * the gzip of what changed); 0 when not taken */
	uint64_t hash;
	/* its length when it was left out of the text (a stamped block that
	 * did not change: the gzip cache has its compressed unit); 0: it is
	 * in the text */
	size_t skipped;
	bool family_start;
	bool own_unit; /* a stamped block: a gzip unit of its own */
};
struct ctw_metrics_seg *ctw_metrics_take_segments(struct ctw_metrics *m, size_t *n);
/* s: what ctw_metrics_take_segments(m) gave last (anything else, NULL
 * included, is freed). */
void ctw_metrics_give_back_segments(struct ctw_metrics *m, struct ctw_metrics_seg *s);

/* ---- gzip of scrapes, reusing what did not change ---- */

/* The compressed units of the last text, kept for the next: a text is cut
 * into units at segment boundaries (a family's header always starts one;
 * within a family, cuts depend only on segment ids, so they fall at the
 * same places from scrape to scrape), each unit compressed on its own as
 * raw deflate ending on a byte boundary (Z_SYNC_FLUSH), and the gzip
 * member is the concatenation.  A unit whose bytes did not change
 * (XXH3-64 of its text and its length) is reused, not compressed again. */
struct ctw_gzcache;
struct ctw_gzcache *ctw_gzcache_new(void);
void ctw_gzcache_free(struct ctw_gzcache *c);
/* gzip text[0..len) cut at segs (NULL/0: one unit) into a malloc'ed
 * buffer; 0 or -errno.  len is what was written: segments left out of the
 * text (ctw_metrics_seg.skipped) are reused from the cache, or the call
 * fails with -ESTALE (the cache no longer holds them). */
int ctw_gzcache_compress(struct ctw_gzcache *c, const char *text, size_t len,
			 const struct ctw_metrics_seg *segs, size_t nsegs, char **out,
			 size_t *outlen);
/* The same, the text read from fd (ctw_metrics_take_fd) only where a unit
 * is compressed again. */
int ctw_gzcache_compress_fd(struct ctw_gzcache *c, int fd, size_t len,
			    const struct ctw_metrics_seg *segs, size_t nsegs, char **out,
			    size_t *outlen);
/* Does the cache hold the unit of one segment (a stamped block's) with
 * this id, XXH3-64 (ctw_metrics_seg.hash) and length? */
bool ctw_gzcache_holds(const struct ctw_gzcache *c, uint64_t id, uint64_t hash, size_t len);
/* Units of the last call: reused from the one before, and compressed. */
void ctw_gzcache_stats(const struct ctw_gzcache *c, size_t *reused, size_t *compressed);

/* ---- gzip of a text while it is written (gzstream.c) ---- */

/* A worker thread that gzips the builder's memfd as it grows (hooked to
 * its drains, ctw_metrics_on_drain), so a scrape that wants the gzip of a
 * text that changed everywhere waits for the build only.  One stream at a
 * time: begin, grow (the drain hook), finish. */
struct ctw_gzstream;
struct ctw_gzstream *ctw_gzstream_new(void); /* NULL: no thread */
void ctw_gzstream_free(struct ctw_gzstream *g);
int ctw_gzstream_begin(struct ctw_gzstream *g);
/* fd holds len bytes now (always the same file within a stream). */
void ctw_gzstream_grow(struct ctw_gzstream *g, int fd, size_t len);
/* The whole text is fd[0..len): wait for its gzip (malloc'ed, one gzip
 * member).  -EXDEV when the text ended in another file than the one
 * streamed (or fd < 0: the build failed); -errno on a read error. */
int ctw_gzstream_finish(struct ctw_gzstream *g, int fd, size_t len, char **out, size_t *outlen);

/* Metric-name syntax check ([a-zA-Z_:][a-zA-Z0-9_:]*). */
bool ctw_metrics_valid_name(const char *name);
/* A sample value as the text format spells it (shortest round-trip form,
 * NaN, +Inf, -Inf). */
void ctw_metrics_format_value(double v, char *buf, size_t size);

/* ---- HTTP server ---- */

struct ctw_http;

/* Called on the HTTP thread for each /metrics request: fill `m`. */
typedef void (*ctw_scrape_fn)(void *ctx, struct ctw_metrics *m);
/* /readyz: true when the agent is ready to serve. */
typedef bool (*ctw_ready_fn)(void *ctx);

struct ctw_err;

struct ctw_http_opts {
	const char *listen; /* "ADDR:PORT" or ":PORT" or "[v6]:PORT" */
	/* A socket ctw_http_bind() bound to `listen` earlier (the agent binds
	 * before it loads anything), taken over even on failure; 0: bind here. */
	int listen_fd;
	ctw_scrape_fn scrape;
	ctw_ready_fn ready;
	void *ctx;
	size_t max_series;	 /* series cap per scrape, 0 = none */
	unsigned int conn_limit; /* total connections */
	unsigned int per_ip_limit;
	unsigned int timeout_s; /* idle connection timeout */
	const char *tls_cert;	/* PEM files; both or neither */
	const char *tls_key;
	const char *basic_auth; /* "user:password" or NULL */
	/* Scrape cache: /metrics is built at most once per cache_ms (0 = on
	 * every request) and the same text (and its gzip) is served to every
	 * request in that window. */
	unsigned int cache_ms;
};

/* The server on its own thread, or NULL with err saying what failed and why
 * (bad TLS or auth input, the bind, libmicrohttpd). */
struct ctw_http *ctw_http_start(const struct ctw_http_opts *opts, struct ctw_err *err);
void ctw_http_stop(struct ctw_http *h);
/* The data changed (a container came or went): the next /metrics request
 * builds afresh whatever the cache's age.  Any thread. */
void ctw_http_invalidate(struct ctw_http *h);
/* The bound port (useful with port 0). */
int ctw_http_port(const struct ctw_http *h);
/* When the last /metrics request came that repeated a scrape within the
 * cache window (ctw_now_ns; the cache answers those): a scraper faster
 * than the window, or a second one; 0: none yet.  Any thread. */
uint64_t ctw_http_last_repeat_ns(const struct ctw_http *h);
/* Helpers, exposed for unit tests: split a listen spec; does an
 * Accept-Encoding value allow gzip; gzip a buffer (malloc'ed result). */
int ctw_http_parse_listen(const char *listen, char *host, size_t hostlen, char *port,
			  size_t portlen);
/* Is the listen spec well-formed and its address known (what the bind
 * would refuse before trying)?  0, or -EINVAL with err set. */
int ctw_http_check_listen(const char *listen, struct ctw_err *err);
/* Bind and listen: the socket (>= 3, close-on-exec), or -errno with err
 * set ("listen on 127.0.0.1:9464: Address already in use"). */
int ctw_http_bind(const char *listen, struct ctw_err *err);
bool ctw_http_accepts_gzip(const char *accept_encoding);
int ctw_gzip(const char *in, size_t inlen, char **out, size_t *outlen);
/* The same, reading fd[0..inlen) with pread. */
int ctw_gzip_fd(int fd, size_t inlen, char **out, size_t *outlen);

#endif /* CTW_EXPORTERS_H */
