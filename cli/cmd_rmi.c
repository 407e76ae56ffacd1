// SPDX-License-Identifier: Apache-2.0
/* ctrwatch rmi: remove image names and images; layers no image uses go. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "../image/image.h"

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
	      "\n"
	      "Options:\n"
	      "  -f, --force       remove even when in use, or all names of an id\n"
	      "      --root DIR    image store (default: $CTRWATCH_ROOT or /var/lib/ctrwatch)\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch rmi app:v1\n"
	      "  ctrwatch rmi -f 3f2a9c\n"
	      "  ctrwatch rmi $(ctrwatch images -q)\n",
	      out);
}

static int cmd_rmi(int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{"root", required_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	const char *root = NULL;
	bool force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'R': root = optarg; break;
		default: return ctw_cmd_usage_error("rmi", "rmi: bad option");
		}
	}
	if (optind >= argc)
		return ctw_cmd_usage_error("rmi", "rmi: IMAGE missing");
	int rc = CTW_EXIT_OK;
	for (int i = optind; i < argc; i++) {
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
