// SPDX-License-Identifier: Apache-2.0
/*
 * strace's -e expressions: trace=SET, signal=SET, status=SET and quiet=SET
 * (a bare SET means trace=).  A SET is comma-separated names, "all" or
 * "none", with a leading '!' for its complement.  trace= is kept as text
 * and checked by ctw_trace_parse_filter, which knows the syscall table.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

void ctw_trace_select_init(struct ctw_trace_select *s)
{
	memset(s, 0, sizeof(*s));
	s->signals = ~0ull;
	s->status = CTW_STATUS_ALL;
}

void ctw_trace_select_fini(struct ctw_trace_select *s)
{
	free(s->filter);
	s->filter = NULL;
}

/* Call add(name) for each element of a SET; all/none/! handled here. */
static int parse_set(const char *set, uint64_t all, uint64_t *out, const char *what,
		     int (*add)(const char *name, uint64_t *bits), struct ctw_err *err)
{
	_cleanup_free_ char *copy = NULL;
	bool negate = false;
	uint64_t bits = 0;
	char *tok, *save = NULL;

	if (*set == '!') {
		negate = true;
		set++;
	}
	if (!*set)
		return ctw_err_setx(err, EINVAL, "empty %s set", what);
	copy = xstrdup(set);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all"))
			bits = all;
		else if (!strcmp(tok, "none"))
			continue;
		else if (add(tok, &bits) < 0)
			return ctw_err_setx(err, EINVAL, "invalid %s '%s'", what, tok);
	}
	*out = negate ? ~bits & all : bits;
	return 0;
}

static int add_signal(const char *name, uint64_t *bits)
{
	int s = ctw_trace_signal_nr(name);

	if (s < 1 || s > 64)
		return -1;
	*bits |= 1ull << (s - 1);
	return 0;
}

static int add_status(const char *name, uint64_t *bits)
{
	if (!strcmp(name, "successful"))
		*bits |= CTW_STATUS_SUCCESSFUL;
	else if (!strcmp(name, "failed"))
		*bits |= CTW_STATUS_FAILED;
	else if (!strcmp(name, "unfinished"))
		*bits |= CTW_STATUS_UNFINISHED;
	else if (strcmp(name, "unavailable") && strcmp(name, "detached"))
		return -1; /* the last two never happen here: every call returns */
	return 0;
}

static int add_quiet(const char *name, uint64_t *bits)
{
	static const char *const ignored[] = {"path-resolution", "personality", "thread-execve",
					      "superseded"};

	if (!strcmp(name, "attach"))
		*bits |= CTW_QUIET_ATTACH;
	else if (!strcmp(name, "exit") || !strcmp(name, "exits"))
		*bits |= CTW_QUIET_EXIT;
	else {
		for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
			if (!strcmp(name, ignored[i]))
				return 0; /* nothing ctrwatch prints */
		return -1;
	}
	return 0;
}

int ctw_trace_parse_expr(struct ctw_trace_select *s, const char *expr, struct ctw_err *err)
{
	const char *eq = strchr(expr, '=');
	uint64_t bits;
	int rc;

	if (!eq || ctw_str_has_prefix(expr, "trace=")) {
		const char *set = eq ? eq + 1 : expr;
		bool sel[TRACE_NR_MAX];

		rc = ctw_trace_parse_filter(set, sel, err);
		if (rc < 0)
			return rc;
		free(s->filter);
		s->filter = xstrdup(set);
		return 0;
	}
	if (ctw_str_has_prefix(expr, "signal=") || ctw_str_has_prefix(expr, "signals=")) {
		rc = parse_set(eq + 1, ~0ull, &bits, "signal", add_signal, err);
		if (!rc)
			s->signals = bits;
		return rc;
	}
	if (ctw_str_has_prefix(expr, "status=")) {
		rc = parse_set(eq + 1, CTW_STATUS_ALL, &bits, "status", add_status, err);
		if (!rc)
			s->status = bits;
		return rc;
	}
	if (ctw_str_has_prefix(expr, "quiet=") || ctw_str_has_prefix(expr, "silent=") ||
	    ctw_str_has_prefix(expr, "silence=")) {
		rc = parse_set(eq + 1, CTW_QUIET_ATTACH | CTW_QUIET_EXIT, &bits, "quiet", add_quiet,
			       err);
		if (!rc)
			s->quiet = bits;
		return rc;
	}
	return ctw_err_setx(err, EINVAL,
			    "-e %.*s: not supported (trace=, signal=, status= and quiet= are)",
			    (int)(eq - expr), expr);
}
