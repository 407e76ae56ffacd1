// SPDX-License-Identifier: Apache-2.0
/* ctrwatch version: what this binary is and what it runs on. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"

#ifndef CTW_GIT_REV
#define CTW_GIT_REV "unknown"
#endif

static const struct ctw_opt version_opts[] = {
	{.name = "json", .kind = CTW_OPT_FLAG, .help = "one JSON object instead of text", .off = 0},
	{0},
};

static void version_usage(FILE *out)
{
	fputs("Usage: ctrwatch version [--json]\n"
	      "\n"
	      "Print the ctrwatch version, git revision, libbpf version and kernel release.\n"
	      "\n",
	      out);
	ctw_opts_print(out, version_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch version\n"
	      "  ctrwatch version --json | jq -r .kernel\n",
	      out);
}

static int cmd_version(int argc, char **argv)
{
	bool json = false;
	int rc = ctw_opts_parse_only("version", version_opts, argc, argv, &json);
	if (rc >= 0)
		return rc;
	struct utsname u;
	uname(&u);
	if (json)
		printf("{\"version\":\"%s\",\"revision\":\"%s\",\"libbpf\":\"%u.%u\",\"kernel\":\"%"
		       "s\"}\n",
		       CTW_VERSION, CTW_GIT_REV, libbpf_major_version(), libbpf_minor_version(),
		       u.release);
	else
		printf("ctrwatch %s\nrevision: %s\nlibbpf:   %u.%u\nkernel:   %s\n", CTW_VERSION,
		       CTW_GIT_REV, libbpf_major_version(), libbpf_minor_version(), u.release);
	return CTW_EXIT_OK;
}

CTW_COMMAND(version, .name = "version", .summary = "print version, revision, libbpf and kernel",
	    .order = CTW_ORDER_MISC + 90, .fn = cmd_version, .usage = version_usage)
