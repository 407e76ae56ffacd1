// SPDX-License-Identifier: Apache-2.0
/* ctrwatch rmi: remove image names and images; layers no image uses go. */
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "options.h"
#include "../image/image.h"

struct rmi_args {
	bool force;
	const char *root;
};

static const struct ctw_opt rmi_opts[] = {
	{.name = "force",
	 .short_name = 'f',
	 .kind = CTW_OPT_FLAG,
	 .help = "remove even when in use, or all names of an id",
	 .off = offsetof(struct rmi_args, force)},
	{.name = "root",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "image store (default: $CTRWATCH_ROOT or /var/lib/ctrwatch)",
	 .off = offsetof(struct rmi_args, root)},
	{0},
};

static void rmi_usage(FILE *out)
{
	fputs("Usage: ctrwatch rmi [OPTIONS] IMAGE...\n"
	      "\n"
	      "Remove images.  IMAGE is NAME[:TAG], an image id or a unique id prefix.\n"
	      "Removing one of several names of an image only untags it; removing its last\n"
	      "name (or its id) deletes the image and every layer no other image uses.\n"
	      "An image a container uses (running or stopped, see `ctrwatch ps -a`) is kept\n"
	      "unless -f is given; forced, it is untagged and stays, nameless, until its\n"
	      "containers are gone and it is removed by id.\n"
	      "\n",
	      out);
	ctw_opts_print(out, rmi_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch rmi app:v1\n"
	      "  ctrwatch rmi -f 3f2a9c\n"
	      "  ctrwatch rmi $(ctrwatch images -q)\n",
	      out);
}

static int cmd_rmi(int argc, char **argv)
{
	struct rmi_args a = {0};
	int first = ctw_opts_parse("rmi", rmi_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	const char *root = a.root;
	bool force = a.force;
	if (first >= argc)
		return ctw_cmd_usage_error("rmi", "rmi: IMAGE missing");
	int rc = CTW_EXIT_OK;
	for (int i = first; i < argc; i++) {
		struct ctw_err err = {0};
		char *msg = NULL;
		if (ctw_image_remove(root, argv[i], force, &msg, &err) < 0) {
			fprintf(stderr, "ctrwatch: rmi %s: %s\n", argv[i], err.msg);
			rc = CTW_EXIT_FAIL;
			continue;
		}
		fputs(msg ? msg : "", stdout);
		free(msg);
	}
	return rc;
}

CTW_COMMAND(rmi, .name = "rmi", .summary = "remove images (and layers no image uses)",
	    .order = CTW_ORDER_IMAGE + 30, .fn = cmd_rmi, .usage = rmi_usage)
