// SPDX-License-Identifier: Apache-2.0
/* The table of ctrwatch's subcommands (each registers itself: CTW_COMMAND),
 * the lookups in it and the messages that name a command's usage. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"

#define MAX_CMDS 64
static const struct ctw_cmd *cmds[MAX_CMDS];
static size_t ncmds;

void ctw_cmd_register(const struct ctw_cmd *cmd)
{
	if (ncmds == MAX_CMDS) {
		fputs("ctrwatch: too many subcommands\n", stderr);
		abort();
	}
	cmds[ncmds++] = cmd;
}

static int cmp_cmd(const void *a, const void *b)
{
	const struct ctw_cmd *x = *(const struct ctw_cmd *const *)a;
	const struct ctw_cmd *y = *(const struct ctw_cmd *const *)b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

void ctw_cmds_usage(FILE *out)
{
	fputs("Usage: ctrwatch [--version] [--help] [--root DIR] COMMAND [ARGS...]\n"
	      "\n"
	      "eBPF container runtime, observability and policy agent.\n"
	      "\n"
	      "Commands:\n",
	      out);
	int band = -1;
	for (size_t i = 0; i < ncmds; i++) {
		if (band >= 0 && cmds[i]->order / 100 != band)
			fputc('\n', out);
		band = cmds[i]->order / 100;
		fprintf(out, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	}
	fputs("\nGlobal options:\n"
	      "  --root DIR   image store and container layers (default: $CTRWATCH_ROOT or\n"
	      "               /var/lib/ctrwatch)\n"
	      "\nRun 'ctrwatch COMMAND --help' for a command's options and examples.\n",
	      out);
}

const struct ctw_cmd *ctw_cmd_find(const char *name)
{
	const struct ctw_cmd *hit = NULL;
	size_t len = strlen(name), nhits = 0;
	for (size_t i = 0; i < ncmds; i++) {
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
		if (!strncmp(cmds[i]->name, name, len)) {
			hit = cmds[i];
			nhits++;
		}
	}
	return nhits == 1 ? hit : NULL;
}

int ctw_cmd_usage_error(const char *cmd_name, const char *fmt, ...)
{
	va_list ap;
	fputs("ctrwatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	const struct ctw_cmd *c = ctw_cmd_find(cmd_name);
	if (c && c->usage)
		c->usage(stderr);
	return CTW_EXIT_USAGE;
}

bool ctw_cmd_privileged(const char *cmd_name, unsigned int what)
{
	struct ctw_err err = {0};
	if (ctw_need_privs(what, &err) == 0)
		return true;
	fprintf(stderr, "ctrwatch: %s: %s\n", cmd_name, err.msg);
	return false;
}

bool ctw_cmd_native(const char *name)
{
	for (size_t i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i]->name, name))
			return true;
	return false;
}

void ctw_cmds_sort(void)
{
	qsort(cmds, ncmds, sizeof(cmds[0]), cmp_cmd);
}
