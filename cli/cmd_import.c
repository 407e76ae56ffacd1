// SPDX-License-Identifier: Apache-2.0
/* ctrwatch import: OCI image layouts and `docker save` archives into the
 * image store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "../image/image.h"

static void import_usage(FILE *out)
{
	fputs("Usage: ctrwatch import [OPTIONS] PATH [NAME[:TAG]]\n"
	      "\n"
	      "Import an image into the ctrwatch image store.  PATH is an OCI image layout\n"
	      "(a directory with oci-layout and index.json, or a tar of one, gzip or not) or\n"
	      "an archive written by `docker save` (manifest.json).  Layers may be gzip or\n"
	      "uncompressed tars.\n"
	      "\n"
	      "Every blob is checked against its size and sha256 digest, and every layer\n"
	      "against the config's diff_id, before any of it is extracted: on a mismatch\n"
	      "nothing is imported.  Blobs must be regular files (a FIFO or a device is\n"
	      "refused).  The layers' uncompressed size is capped (--max-size).  A layer\n"
	      "entry that would land outside the layer (an absolute path, `..`, a path\n"
	      "through a symlink) rejects the image, naming the entry.  OCI whiteouts become\n"
	      "overlayfs whiteouts; trusted.* and security.* extended attributes of layers\n"
	      "are dropped, except security.capability (file capabilities).  Layers shared\n"
	      "with images already in the store are stored once.\n"
	      "\n"
	      "NAME[:TAG] names the image (TAG defaults to latest).  Without it the image\n"
	      "takes the name the archive records (docker save RepoTags, or a full reference\n"
	      "in the OCI annotations).  When the archive holds several images, --ref picks\n"
	      "one (else NAME's tag does): an org.opencontainers.image.ref.name of the OCI\n"
	      "index, or a RepoTag of a docker save archive.\n"
	      "\n"
	      "Options:\n"
	      "  -q, --quiet         print only the image id\n"
	      "      --ref REF       which image of a layout or archive that holds several\n"
	      "      --max-size SIZE cap on the uncompressed size of all layers (512m, 20g;\n"
	      "                      default $CTRWATCH_IMPORT_MAX_SIZE or 16g)\n"
	      "      --root DIR      image store (default: $CTRWATCH_ROOT or /var/lib/ctrwatch)\n"
	      "\n"
	      "Examples:\n"
	      "  umoci init --layout app-oci && umoci new --image app-oci:v1\n"
	      "  ctrwatch import app-oci app:v1\n"
	      "  ctrwatch import --ref v2 app-oci app:latest\n"
	      "  skopeo copy oci:app-oci:v1 docker-archive:app.tar:app:v1\n"
	      "  ctrwatch import app.tar\n"
	      "  ctrwatch run app:v1 /bin/sh\n",
	      out);
}

static int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"quiet", no_argument, NULL, 'q'},
		{"ref", required_argument, NULL, 'r'},
		{"root", required_argument, NULL, 'R'},
		{"max-size", required_argument, NULL, 'M'},
		{NULL, 0, NULL, 0},
	};
	const char *root = NULL, *ref = NULL;
	const char *max_size = getenv("CTRWATCH_IMPORT_MAX_SIZE"),
		   *max_from = "CTRWATCH_IMPORT_MAX_SIZE";
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'r': ref = optarg; break;
		case 'R': root = optarg; break;
		case 'M':
			max_size = optarg;
			max_from = "--max-size";
			break;
		default: return ctw_cmd_usage_error("import", "import: bad option");
		}
	}
	uint64_t max = 0;
	if (max_size && *max_size && (ctw_parse_bytes(max_size, &max) < 0 || !max))
		return ctw_cmd_usage_error("import", "import: %s: `%s` is not a size (512m, 20g)",
					   max_from, max_size);
	if (optind >= argc)
		return ctw_cmd_usage_error("import", "import: PATH missing");
	if (argc - optind > 2)
		return ctw_cmd_usage_error("import", "import: unexpected argument '%s'",
					   argv[optind + 2]);
	const char *path = argv[optind];
	const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
	struct ctw_err err = {0};
	char *id = NULL, *got = NULL;
	if (ctw_image_import(root, path, name, ref, max, &id, &got, &err) < 0) {
		fprintf(stderr, "ctrwatch: import: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	if (quiet)
		printf("%s\n", id);
	else
		printf("Imported %s%s%s\n", got ? got : "", got ? " " : "", id);
	free(got);
	free(id);
	return CTW_EXIT_OK;
}

CTW_COMMAND(import, .name = "import",
	    .summary = "import an OCI image layout or docker save archive",
	    .order = CTW_ORDER_IMAGE + 10, .fn = cmd_import, .usage = import_usage)
