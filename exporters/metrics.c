// SPDX-License-Identifier: Apache-2.0
/*
 * The metrics builder: Prometheus text exposition format 0.0.4.
 *
 * Collectors declare a family, then add samples; they never format text.
 * The builder keeps each family's samples in its own buffer, so a family that
 * is declared again later (two modules contributing to one family) still
 * comes out contiguous, under one HELP/TYPE pair.  Series identity is the
 * metric name plus the label set (sorted by label name, as Prometheus sees
 * it): a second sample for the same series is rejected and counted, since
 * promtool does not catch duplicates but Prometheus rejects the scrape.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters.h"
#include "../lib/lib.h"

#define MAX_LABELS 16

struct sbuf {
	char *p;
	size_t len, cap;
};

static void __attribute__((noinline)) sb_grow_slow(struct sbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static inline __attribute__((always_inline)) void sb_grow(struct sbuf *b, size_t need)
{
	if (__builtin_expect(b->len + need + 1 > b->cap, 0))
		sb_grow_slow(b, need);
}

static inline __attribute__((always_inline)) void sb_put(struct sbuf *b, const char *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static inline void sb_putc(struct sbuf *b, char c)
{
	sb_grow(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

struct family {
	char *name;
	char *help;
	enum ctw_metric_type type;
	bool bad;      /* invalid name: its samples are rejected */
	bool declared; /* declared in the current scrape */
	size_t nseries;
	struct sbuf body;
};

/* Open-addressing set of series keys ("name\0k=v\0k=v..."), hashed; the
 * keys live in one arena, each after its 32-bit length, so a scrape of
 * 10 000 series makes no per-series allocation.  A slot is 8 bytes (the
 * hash's high half as a tag, 0 = empty, and the key's arena offset): the
 * table is cleared every scrape and probed for every sample. */
struct slot {
	uint32_t tag;
	uint32_t off;
};

struct seriesset {
	struct slot *slots;
	size_t cap, n;
	struct sbuf arena;
};

struct ctw_metrics {
	size_t max_series;
	size_t nseries;
	uint64_t dropped;
	uint64_t duplicates;
	uint64_t invalid;
	struct family *fams;
	size_t nfams, capfams;
	struct family *cur;
	size_t cur_idx;
	bool have_cur;
	struct seriesset set;
	struct sbuf key; /* scratch: the series key being checked */
	struct sbuf out;
	bool rendered;
};

/* A word-at-a-time multiplicative hash: the keys are ~40-120 bytes with
 * long shared prefixes, and byte-wise FNV showed up in profiles. */
static uint64_t key_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	uint64_t w = 0;
	memcpy(&w, s + i, n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return h;
}

static inline uint32_t hash_tag(uint64_t h)
{
	uint32_t t = (uint32_t)(h >> 32);
	return t ? t : 1;
}

static void set_grow(struct seriesset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	struct slot *ns = xcalloc(ncap, sizeof(*ns));
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slots[i].tag)
			continue;
		uint32_t len;
		memcpy(&len, s->arena.p + s->slots[i].off, sizeof(len));
		uint64_t h = key_hash(s->arena.p + s->slots[i].off + sizeof(len), len);
		size_t j = h & (ncap - 1);
		while (ns[j].tag)
			j = (j + 1) & (ncap - 1);
		ns[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = ns;
	s->cap = ncap;
}

/* Insert; false when the key was already there. */
static bool set_add(struct seriesset *s, const char *key, size_t len)
{
	if ((s->n + 1) * 2 > s->cap)
		set_grow(s);
	uint64_t h = key_hash(key, len);
	uint32_t tag = hash_tag(h);
	size_t j = h & (s->cap - 1);
	while (s->slots[j].tag) {
		const struct slot *e = &s->slots[j];
		if (e->tag == tag) {
			uint32_t elen;
			memcpy(&elen, s->arena.p + e->off, sizeof(elen));
			if (elen == len && !memcmp(s->arena.p + e->off + sizeof(elen), key, len))
				return false;
		}
		j = (j + 1) & (s->cap - 1);
	}
	if (s->arena.len + len + sizeof(uint32_t) > UINT32_MAX)
		return true; /* 4 GiB of keys: not remembered (never in practice) */
	s->slots[j] = (struct slot){.tag = tag, .off = (uint32_t)s->arena.len};
	uint32_t l32 = (uint32_t)len;
	sb_put(&s->arena, (const char *)&l32, sizeof(l32));
	sb_put(&s->arena, key, len);
	s->n++;
	return true;
}

static void set_free(struct seriesset *s)
{
	free(s->slots);
	free(s->arena.p);
}

struct ctw_metrics *ctw_metrics_new(size_t max_series)
{
	struct ctw_metrics *m = xcalloc(1, sizeof(*m));
	m->max_series = max_series;
	return m;
}

void ctw_metrics_free(struct ctw_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfams; i++) {
		free(m->fams[i].name);
		free(m->fams[i].help);
		free(m->fams[i].body.p);
	}
	free(m->fams);
	set_free(&m->set);
	free(m->key.p);
	free(m->out.p);
	free(m);
}

static bool valid_name(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (colon && c == ':') || (p != s && c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

bool ctw_metrics_valid_name(const char *name)
{
	return valid_name(name, true);
}

void ctw_metrics_family(struct ctw_metrics *m, const char *name, enum ctw_metric_type type,
			const char *help)
{
	for (size_t i = 0; i < m->nfams; i++) {
		if (!strcmp(m->fams[i].name, name)) {
			struct family *f = &m->fams[i];
			m->cur_idx = i;
			m->have_cur = true;
			if (!f->declared) {
				/* kept from before a reset: declare afresh */
				f->declared = true;
				f->type = type;
				f->bad = !valid_name(name, true);
				if (strcmp(f->help, help ? help : "")) {
					free(f->help);
					f->help = xstrdup(help ? help : "");
				}
				return;
			}
			if (m->fams[i].type != type) {
				pr_debug("metrics: family %s redeclared with another type", name);
				m->fams[i].bad = true;
			}
			return;
		}
	}
	if (m->nfams == m->capfams) {
		m->capfams = m->capfams ? m->capfams * 2 : 32;
		m->fams = xrealloc(m->fams, m->capfams * sizeof(*m->fams));
	}
	struct family *f = &m->fams[m->nfams];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->help = xstrdup(help ? help : "");
	f->type = type;
	f->declared = true;
	f->bad = !valid_name(name, true);
	if (f->bad)
		pr_debug("metrics: invalid metric name '%s'", name);
	m->cur_idx = m->nfams++;
	m->have_cur = true;
	m->rendered = false;
}

static void put_escaped_value(struct sbuf *b, const char *v)
{
	for (;;) {
		size_t n = strcspn(v, "\\\"\n");
		sb_put(b, v, n);
		v += n;
		if (!*v)
			return;
		sb_puts(b, *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : "\\n");
		v++;
	}
}

/* Decimal digits of u into buf (at least 21 bytes), NUL-terminated. */
static void format_u64(uint64_t u, char *buf)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = '0' + u % 10;
		u /= 10;
	} while (u);
	size_t o = 0;
	while (n)
		buf[o++] = tmp[--n];
	buf[o] = '\0';
}

/* Shortest text that reads back as the same double; Prometheus spellings
 * for the special values. */
void ctw_metrics_format_value(double v, char *buf, size_t size)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v && size >= 24) {
		/* integers (most counters): no printf */
		int64_t x = (int64_t)v;
		if (x < 0)
			*buf++ = '-';
		format_u64(x < 0 ? -(uint64_t)x : (uint64_t)x, buf);
		return;
	}
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

struct lbl {
	const char *k, *v;
};

static int cmp_lbl(const void *a, const void *b)
{
	return strcmp(((const struct lbl *)a)->k, ((const struct lbl *)b)->k);
}

/* Validate labels and build the series key: name, then sorted k=v pairs,
 * NUL-separated.  Returns the number of labels, or -1 when invalid. */
static int series_key(const char *name, const char *const *labels, const char *extra_name,
		      struct lbl *out, struct sbuf *key)
{
	int n = 0;
	for (const char *const *l = labels; l && *l; l += 2) {
		if (n == MAX_LABELS || !l[1] || !valid_name(l[0], false) ||
		    !strncmp(l[0], "__", 2) || (extra_name && !strcmp(l[0], extra_name)))
			return -1;
		out[n].k = l[0];
		out[n].v = l[1];
		n++;
	}
	struct lbl sorted[MAX_LABELS];
	memcpy(sorted, out, n * sizeof(*out));
	bool in_order = true;
	for (int i = 1; i < n && in_order; i++)
		in_order = strcmp(sorted[i - 1].k, sorted[i].k) < 0;
	if (!in_order)
		qsort(sorted, n, sizeof(*sorted), cmp_lbl);
	sb_put(key, name, strlen(name) + 1);
	for (int i = 0; i < n; i++) {
		if (i && !strcmp(sorted[i].k, sorted[i - 1].k))
			return -1; /* the same label twice */
		sb_put(key, sorted[i].k, strlen(sorted[i].k));
		sb_putc(key, '=');
		sb_put(key, sorted[i].v, strlen(sorted[i].v) + 1);
	}
	return n;
}

static void put_series(struct sbuf *b, const char *name, const char *suffix, const struct lbl *l,
		       int n, const char *le, const char *value)
{
	sb_puts(b, name);
	if (suffix)
		sb_puts(b, suffix);
	if (n || le) {
		sb_putc(b, '{');
		for (int i = 0; i < n; i++) {
			if (i)
				sb_putc(b, ',');
			sb_puts(b, l[i].k);
			sb_puts(b, "=\"");
			put_escaped_value(b, l[i].v);
			sb_putc(b, '"');
		}
		if (le) {
			if (n)
				sb_putc(b, ',');
			sb_puts(b, "le=\"");
			sb_puts(b, le);
			sb_putc(b, '"');
		}
		sb_putc(b, '}');
	}
	sb_putc(b, ' ');
	sb_puts(b, value);
	sb_putc(b, '\n');
}

/* Checks shared by samples and histograms: current family, labels, cap,
 * duplicates.  cost = the number of series lines this adds. */
static int admit(struct ctw_metrics *m, const char *const *labels, bool histogram, size_t cost,
		 struct lbl *l, struct family **fout)
{
	if (!m->have_cur) {
		m->invalid++;
		return -1;
	}
	struct family *f = &m->fams[m->cur_idx];
	if (f->bad || (f->type == CTW_HISTOGRAM) != histogram) {
		m->invalid++;
		return -1;
	}
	m->key.len = 0;
	int n = series_key(f->name, labels, histogram ? "le" : NULL, l, &m->key);
	if (n < 0) {
		m->invalid++;
		return -1;
	}
	/* Duplicates first: a repeated series is a bug to count as such, not
	 * a victim of the cap. */
	if (!set_add(&m->set, m->key.p, m->key.len)) {
		m->duplicates++;
		return -1;
	}
	if (m->max_series && m->nseries + cost > m->max_series) {
		m->dropped += cost;
		return -1;
	}
	m->nseries += cost;
	f->nseries += cost;
	m->rendered = false;
	*fout = f;
	return n;
}

bool ctw_metrics_sample(struct ctw_metrics *m, const char *const *labels, double value)
{
	struct lbl l[MAX_LABELS];
	struct family *f;
	int n = admit(m, labels, false, 1, l, &f);
	if (n < 0)
		return false;
	char v[64];
	ctw_metrics_format_value(value, v, sizeof(v));
	put_series(&f->body, f->name, NULL, l, n, NULL, v);
	return true;
}

bool ctw_metrics_histogram(struct ctw_metrics *m, const char *const *labels, const double *bounds,
			   const uint64_t *buckets, size_t nbounds, double sum)
{
	for (size_t i = 0; i < nbounds; i++) {
		if (isnan(bounds[i]) || (i && bounds[i] <= bounds[i - 1])) {
			m->invalid++;
			return false;
		}
	}
	struct lbl l[MAX_LABELS];
	struct family *f;
	int n = admit(m, labels, true, nbounds + 3, l, &f);
	if (n < 0)
		return false;
	uint64_t cum = 0;
	char le[64], v[64];
	for (size_t i = 0; i < nbounds; i++) {
		cum += buckets[i];
		ctw_metrics_format_value(bounds[i], le, sizeof(le));
		format_u64(cum, v);
		put_series(&f->body, f->name, "_bucket", l, n, le, v);
	}
	cum += buckets[nbounds];
	format_u64(cum, v);
	put_series(&f->body, f->name, "_bucket", l, n, "+Inf", v);
	ctw_metrics_format_value(sum, le, sizeof(le));
	put_series(&f->body, f->name, "_sum", l, n, NULL, le);
	put_series(&f->body, f->name, "_count", l, n, NULL, v);
	return true;
}

uint64_t ctw_metrics_dropped(const struct ctw_metrics *m)
{
	return m->dropped;
}
uint64_t ctw_metrics_duplicates(const struct ctw_metrics *m)
{
	return m->duplicates;
}
uint64_t ctw_metrics_invalid(const struct ctw_metrics *m)
{
	return m->invalid;
}
size_t ctw_metrics_series(const struct ctw_metrics *m)
{
	return m->nseries;
}

static const char *type_name(enum ctw_metric_type t)
{
	switch (t) {
	case CTW_COUNTER: return "counter";
	case CTW_GAUGE: return "gauge";
	case CTW_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

const char *ctw_metrics_text(struct ctw_metrics *m, size_t *len)
{
	if (!m->rendered) {
		m->out.len = 0;
		sb_grow(&m->out, 0);
		m->out.p[0] = '\0';
		for (size_t i = 0; i < m->nfams; i++) {
			struct family *f = &m->fams[i];
			/* A family without samples says nothing (as client_golang). */
			if (!f->nseries)
				continue;
			sb_puts(&m->out, "# HELP ");
			sb_puts(&m->out, f->name);
			sb_putc(&m->out, ' ');
			for (const char *h = f->help; *h; h++) {
				if (*h == '\\')
					sb_puts(&m->out, "\\\\");
				else if (*h == '\n')
					sb_puts(&m->out, "\\n");
				else
					sb_putc(&m->out, *h);
			}
			sb_puts(&m->out, "\n# TYPE ");
			sb_puts(&m->out, f->name);
			sb_putc(&m->out, ' ');
			sb_puts(&m->out, type_name(f->type));
			sb_putc(&m->out, '\n');
			sb_put(&m->out, f->body.p, f->body.len);
		}
		m->rendered = true;
	}
	if (len)
		*len = m->out.len;
	return m->out.p;
}

char *ctw_metrics_take_text(struct ctw_metrics *m, size_t *len)
{
	ctw_metrics_text(m, len);
	char *p = m->out.p;
	m->out = (struct sbuf){0};
	m->rendered = false;
	return p;
}

void ctw_metrics_set_max_series(struct ctw_metrics *m, size_t max_series)
{
	m->max_series = max_series;
}

void ctw_metrics_reset(struct ctw_metrics *m, size_t max_series)
{
	for (size_t i = 0; i < m->nfams; i++) {
		m->fams[i].body.len = 0;
		m->fams[i].nseries = 0;
		m->fams[i].declared = false;
	}
	if (m->set.cap)
		memset(m->set.slots, 0, m->set.cap * sizeof(*m->set.slots));
	m->set.n = 0;
	m->set.arena.len = 0;
	m->max_series = max_series;
	m->nseries = 0;
	m->dropped = m->duplicates = m->invalid = 0;
	m->have_cur = false;
	m->rendered = false;
}
