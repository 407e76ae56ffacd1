// SPDX-License-Identifier: Apache-2.0
/*
 * Metric families as data: the declaration a collector's table holds, and
 * the naming rules every table is checked against (tests/unit/
 * test_metric_defs.c runs them on every module's table).  The rules are
 * Prometheus' own conventions (https://prometheus.io/docs/practices/naming/)
 * made mechanical: one prefix, base units spelled out, counters and only
 * counters ending in _total, and one container label set that every
 * per-container family carries whole.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "exporters.h"

const char *const ctw_metric_container_labels[] = {"container", "pod", "namespace", "container_id",
						   NULL};

void ctw_metrics_declare(struct ctw_metrics *m, const struct ctw_metric_def *d)
{
	ctw_metrics_family(m, d->name, d->type, d->help);
}

/* The standard process collector's names (client_golang, client_python):
 * dashboards and alerts know them without a prefix. */
static const char *const process_names[] = {
	"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
	"process_max_fds",	     "process_start_time_seconds",    NULL,
};

/* Units spelled other than the base unit (seconds, bytes), as words of a
 * snake_case name. */
static const char *const bad_units[] = {
	"ms",	     "us",	    "ns",	    "msec",	    "usec",	   "nsec",
	"millis",    "millisecond", "milliseconds", "microseconds", "nanoseconds", "second",
	"minute",    "minutes",	    "hour",	    "hours",	    "byte",	   "kb",
	"mb",	     "gb",	    "kib",	    "mib",	    "gib",	   "kilobytes",
	"megabytes", "bits",	    "percent",	    NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* [a-z][a-z0-9]*(_[a-z0-9]+)*: lower case, no leading, trailing or double
 * underscore (so never the reserved __ prefix), no colon (recording rules'). */
static bool snake_case(const char *s)
{
	if (!s || !(*s >= 'a' && *s <= 'z'))
		return false;
	for (const char *p = s; *p; p++) {
		bool word = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
		if (!word && !(*p == '_' && p[1] && p[1] != '_'))
			return false;
	}
	return true;
}

/* The first word of name that spells a unit other than the base one. */
static const char *bad_unit(const char *name, char *word, size_t size)
{
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "_");
		if (n < size) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (in_list(bad_units, word))
				return word;
		}
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

static int problem(char *errbuf, size_t errlen, const char *name, const char *what)
{
	snprintf(errbuf, errlen, "metric %s: %s", name ? name : "(no name)", what);
	return -EINVAL;
}

static int check_labels(const struct ctw_metric_def *d, char *errbuf, size_t errlen)
{
	char what[160];
	size_t i;

	for (i = 0; i < CTW_METRIC_MAX_LABELS && d->labels[i]; i++) {
		const char *l = d->labels[i];
		if (!snake_case(l)) {
			snprintf(what, sizeof(what), "label name '%s' is not snake_case", l);
			return problem(errbuf, errlen, d->name, what);
		}
		if (!strcmp(l, "le") || !strcmp(l, "quantile")) {
			snprintf(what, sizeof(what), "label name '%s' is reserved", l);
			return problem(errbuf, errlen, d->name, what);
		}
		/* one container label set, carried whole and in one order:
		 * never a part of it spelled by hand */
		if (in_list(ctw_metric_container_labels, l)) {
			snprintf(what, sizeof(what),
				 "label '%s' belongs to the container label set (.container)", l);
			return problem(errbuf, errlen, d->name, what);
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(d->labels[j], l)) {
				snprintf(what, sizeof(what), "label '%s' declared twice", l);
				return problem(errbuf, errlen, d->name, what);
			}
		}
	}
	if (d->labels[i])
		return problem(errbuf, errlen, d->name, "too many labels");
	return 0;
}

static int check_one(const struct ctw_metric_def *d, char *errbuf, size_t errlen)
{
	char word[32], what[160];

	if (!snake_case(d->name) || !ctw_metrics_valid_name(d->name))
		return problem(errbuf, errlen, d->name, "name is not snake_case");
	if (strncmp(d->name, "ctrwatch_", 9) && !in_list(process_names, d->name))
		return problem(errbuf, errlen, d->name,
			       "name lacks the ctrwatch_ prefix (process_ only for the standard "
			       "process metrics)");
	if (d->type != CTW_COUNTER && d->type != CTW_GAUGE && d->type != CTW_HISTOGRAM)
		return problem(errbuf, errlen, d->name, "unknown type");
	if ((d->type == CTW_COUNTER) != ends_with(d->name, "_total"))
		return problem(errbuf, errlen, d->name,
			       d->type == CTW_COUNTER ? "a counter's name ends in _total"
						      : "only a counter's name ends in _total");
	if (d->type == CTW_HISTOGRAM &&
	    (ends_with(d->name, "_bucket") || ends_with(d->name, "_sum") ||
	     ends_with(d->name, "_count")))
		return problem(errbuf, errlen, d->name,
			       "a histogram is named without _bucket, _sum, _count");
	if (bad_unit(d->name, word, sizeof(word))) {
		snprintf(what, sizeof(what), "unit '%s': base units only (_seconds, _bytes)", word);
		return problem(errbuf, errlen, d->name, what);
	}
	if (!d->help || !*d->help || strchr(d->help, '\n'))
		return problem(errbuf, errlen, d->name, "HELP is empty or has a newline");
	return check_labels(d, errbuf, errlen);
}

int ctw_metric_defs_check(const struct ctw_metric_def *const *tables, size_t n, char *errbuf,
			  size_t errlen)
{
	for (size_t t = 0; t < n; t++) {
		for (const struct ctw_metric_def *d = tables[t]; d->name; d++) {
			int err = check_one(d, errbuf, errlen);
			if (err)
				return err;
			/* declared twice: in this table or any other */
			for (size_t u = 0; u <= t; u++)
				for (const struct ctw_metric_def *e = tables[u];
				     e->name && (u < t || e < d); e++)
					if (!strcmp(e->name, d->name))
						return problem(errbuf, errlen, d->name,
							       "declared twice");
		}
	}
	return 0;
}
