// SPDX-License-Identifier: Apache-2.0
/*
 * What a trace leaves behind: the -c table in strace's own layout (so the
 * two can be diffed), and a Docker-format seccomp profile allowing exactly
 * the syscalls that were seen (record -> enforce).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

struct row {
	int nr;
	const struct ctw_trace_stat *s;
};

static int by_time(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	/* strace -c: most time first, ties by syscall number */
	if (x->s->ns != y->s->ns)
		return x->s->ns > y->s->ns ? -1 : 1;
	return x->nr - y->nr;
}

static void dashes(struct ctw_outbuf *o)
{
	ctw_outbuf_puts(o, "------ ----------- ----------- --------- --------- ----------------\n");
}

void ctw_trace_print_summary(struct ctw_outbuf *o, const struct ctw_trace_stat *stats)
{
	struct row rows[TRACE_NR_MAX];
	uint64_t total_ns = 0, calls = 0, errors = 0;
	size_t n = 0;

	for (int nr = 0; nr < TRACE_NR_MAX; nr++) {
		struct ctw_trace_spec spec;

		/* strace counts a call when it returns: exit_group never does */
		ctw_trace_syscall_spec(nr, &spec);
		if (!stats[nr].calls || (spec.flags & TRACE_SPEC_NORETURN))
			continue;
		rows[n].nr = nr;
		rows[n].s = &stats[nr];
		n++;
		total_ns += stats[nr].ns;
		calls += stats[nr].calls;
		errors += stats[nr].errors;
	}
	qsort(rows, n, sizeof(rows[0]), by_time);

	ctw_outbuf_printf(o, "%6.6s %11.11s %11.11s %9.9s %9.9s %s\n", "% time", "seconds",
			  "usecs/call", "calls", "errors", "syscall");
	dashes(o);
	for (size_t i = 0; i < n; i++) {
		const struct ctw_trace_stat *s = rows[i].s;
		const char *name = ctw_trace_syscall_name(rows[i].nr);
		char buf[32];

		if (!name) {
			snprintf(buf, sizeof(buf), "syscall_%d", rows[i].nr);
			name = buf;
		}
		ctw_outbuf_printf(o, "%6.2f %11.6f %11llu %9llu %9.llu %s\n",
				  total_ns ? 100.0 * s->ns / total_ns : 0.0, s->ns / 1e9,
				  (unsigned long long)(s->ns / 1000 / s->calls),
				  (unsigned long long)s->calls, (unsigned long long)s->errors,
				  name);
	}
	dashes(o);
	ctw_outbuf_printf(o, "%6.2f %11.6f %11llu %9llu %9.llu total\n", total_ns ? 100.0 : 0.0,
			  total_ns / 1e9, (unsigned long long)(calls ? total_ns / 1000 / calls : 0),
			  (unsigned long long)calls, (unsigned long long)errors);
}

int ctw_trace_write_seccomp_profile(const char *path, const bool *used, struct ctw_err *err)
{
	json_t *root = json_object(), *arches = json_array(), *names = json_array();
	json_t *rules = json_array(), *rule = json_object();
	char *text = NULL;
	int ret;

	for (int nr = 0; nr < TRACE_NR_MAX; nr++) {
		const char *name = ctw_trace_syscall_name(nr);

		if (used[nr] && name)
			json_array_append_new(names, json_string(name));
	}
	/* the architectures Docker's default profile lists for x86-64 */
	json_array_append_new(arches, json_string("SCMP_ARCH_X86_64"));
	json_array_append_new(arches, json_string("SCMP_ARCH_X86"));
	json_array_append_new(arches, json_string("SCMP_ARCH_X32"));
	json_object_set_new(rule, "names", names);
	json_object_set_new(rule, "action", json_string("SCMP_ACT_ALLOW"));
	json_array_append_new(rules, rule);
	json_object_set_new(root, "defaultAction", json_string("SCMP_ACT_ERRNO"));
	json_object_set_new(root, "defaultErrnoRet", json_integer(EPERM));
	json_object_set_new(root, "architectures", arches);
	json_object_set_new(root, "syscalls", rules);

	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!text)
		return ctw_err_setx(err, ENOMEM, "seccomp profile: cannot render JSON");
	{
		_cleanup_free_ char *line = xasprintf("%s\n", text);

		ret = ctw_write_file_atomic(path, line, strlen(line));
	}
	free(text);
	if (ret < 0)
		return ctw_err_set(err, -ret, "write seccomp profile `%s`", path);
	return 0;
}
