// SPDX-License-Identifier: Apache-2.0
/* Allocation that aborts on OOM, cleanup helpers, string helpers. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lib.h"

static void oom(void)
{
	fputs("ctrwatch: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return s;
}

void ctw_freep(void *p)
{
	free(*(void **)p);
}

void ctw_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

size_t ctw_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

bool ctw_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ctw_str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int ctw_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
	for (size_t i = 0; s && i < 3; i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	return -EINVAL;
}

int ctw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Split "123abc" into a number and its unit suffix. */
static int split_number(const char *s, double *num, const char **unit)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	*num = v;
	*unit = end;
	return 0;
}

int ctw_parse_bytes(const char *s, uint64_t *out)
{
	double v;
	const char *u;
	if (split_number(s, &v, &u))
		return -EINVAL;
	static const struct {
		const char *name;
		double mult;
	} units[] = {
		{"", 1},
		{"b", 1},
		{"k", 1024.0},
		{"kb", 1024.0},
		{"kib", 1024.0},
		{"m", 1048576.0},
		{"mb", 1048576.0},
		{"mib", 1048576.0},
		{"g", 1073741824.0},
		{"gb", 1073741824.0},
		{"gib", 1073741824.0},
		{"t", 1099511627776.0},
		{"tb", 1099511627776.0},
		{"tib", 1099511627776.0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcasecmp(u, units[i].name)) {
			double r = v * units[i].mult;
			if (r > 1.8e19)
				return -ERANGE;
			*out = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

int ctw_parse_duration_ns(const char *s, uint64_t *out_ns)
{
	double v;
	const char *u;
	if (split_number(s, &v, &u))
		return -EINVAL;
	static const struct {
		const char *name;
		double mult;
	} units[] = {
		{"", 1e9}, {"s", 1e9},	{"ms", 1e6},   {"us", 1e3},
		{"ns", 1}, {"m", 60e9}, {"h", 3600e9},
	};
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcmp(u, units[i].name)) {
			double r = v * units[i].mult;
			if (r > 1.8e19)
				return -ERANGE;
			*out_ns = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

void ctw_mem_populate(void *p, size_t len)
{
	/* A big buffer is its own mapping (the agent's M_MMAP_THRESHOLD),
	 * fresh at every build: fault its pages in with one call rather than
	 * one fault per page (each fault is costly in a VM, ~40% of a gzip
	 * that reused every unit was the faults of its output; a scrape text
	 * of 1 000 containers is ~3 000 pages).  Best effort (Linux >= 5.14). */
	if (len < (128u << 10))
		return;
	uintptr_t pg = 4096, lo = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t hi = ((uintptr_t)p + len) & ~(pg - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
}
