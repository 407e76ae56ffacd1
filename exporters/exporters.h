/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exporters/ — Prometheus text exposition (format 0.0.4), the HTTP server
 * (libmicrohttpd) and JSON-lines output.
 *
 * A scrape builds one `struct ctw_metrics`: collectors declare a family, then
 * add its samples.  The builder keeps families contiguous, drops duplicate
 * series, enforces the series cap (counting what it dropped) and escapes
 * label values.  Collectors never format text themselves.
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

/* One sample of the current family.  labels: NULL-terminated list of
 * alternating names and values, e.g. (const char *[]){"container", "web", NULL}.
 * Returns false when the series was dropped (cap reached or duplicate). */
bool ctw_metrics_sample(struct ctw_metrics *m, const char *const *labels, double value);

/* One histogram series of the current family: `bounds` are the upper bounds
 * (ascending, without +Inf), `buckets[i]` the non-cumulative count of
 * observations in bucket i, with buckets[nbounds] the overflow bucket. */
bool ctw_metrics_histogram(struct ctw_metrics *m, const char *const *labels, const double *bounds,
			   const uint64_t *buckets, size_t nbounds, double sum);

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
/* Change the cap mid-scrape (0 = none): the agent lifts it for its own few
 * self metrics at the end, so ctrwatch_series_dropped_total always appears. */
void ctw_metrics_set_max_series(struct ctw_metrics *m, size_t max_series);
/* Empty the builder for the next scrape, keeping its buffers (no
 * allocation in the steady state); counters restart at 0. */
void ctw_metrics_reset(struct ctw_metrics *m, size_t max_series);
/* The finished exposition text, handed over: a malloc'ed, NUL-terminated
 * buffer the caller frees; the builder starts its next text afresh. */
char *ctw_metrics_take_text(struct ctw_metrics *m, size_t *len);
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

struct ctw_http_opts {
	const char *listen; /* "ADDR:PORT" or ":PORT" or "[v6]:PORT" */
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

struct ctw_http *ctw_http_start(const struct ctw_http_opts *opts, char *errbuf, size_t errlen);
void ctw_http_stop(struct ctw_http *h);
/* The data changed (a container came or went): the next /metrics request
 * builds afresh whatever the cache's age.  Any thread. */
void ctw_http_invalidate(struct ctw_http *h);
/* The bound port (useful with port 0). */
int ctw_http_port(const struct ctw_http *h);
/* Helpers, exposed for unit tests: split a listen spec; does an
 * Accept-Encoding value allow gzip; gzip a buffer (malloc'ed result). */
int ctw_http_parse_listen(const char *listen, char *host, size_t hostlen, char *port,
			  size_t portlen);
bool ctw_http_accepts_gzip(const char *accept_encoding);
int ctw_gzip(const char *in, size_t inlen, char **out, size_t *outlen);

/* ---- JSON output helpers for CLI event streams ---- */

/* Append a JSON-escaped string (with quotes) to a FILE. */
#include <stdio.h>
void ctw_json_string(FILE *f, const char *s);
/* Same for a buffer of known length (may contain NULs). */
void ctw_json_string_n(FILE *f, const char *s, size_t n);

#endif /* CTW_EXPORTERS_H */
