// SPDX-License-Identifier: Apache-2.0
/* ctrwatch import: OCI image layouts and `docker save` archives into the
 * image store. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "options.h"
#include "../image/image.h"

struct import_args {
	bool quiet;
	const char *ref, *root, *max_size;
};

static const struct ctw_opt import_opts[] = {
	{.name = "quiet",
	 .short_name = 'q',
	 .kind = CTW_OPT_FLAG,
	 .help = "print only the image id",
	 .off = offsetof(struct import_args, quiet)},
	{.name = "ref",
	 .kind = CTW_OPT_STR,
	 .metavar = "REF",
	 .help = "which image of a layout or archive that holds several",
	 .off = offsetof(struct import_args, ref)},
	{.name = "max-size",
	 .kind = CTW_OPT_STR,
	 .metavar = "SIZE",
	 .help = "cap on the uncompressed size of all layers (512m, 20g;\n"
		 "default $CTRWATCH_IMPORT_MAX_SIZE or 16g)",
	 .off = offsetof(struct import_args, max_size)},
	{.name = "root",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "image store (default: $CTRWATCH_ROOT or /var/lib/ctrwatch)",
	 .off = offsetof(struct import_args, root)},
	{0},
};

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
	      "\n",
	      out);
	ctw_opts_print(out, import_opts);
	fputs("\n"
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
	struct import_args a = {0};
	int first = ctw_opts_parse("import", import_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	const char *root = a.root, *ref = a.ref;
	const char *max_size = getenv("CTRWATCH_IMPORT_MAX_SIZE"),
		   *max_from = "CTRWATCH_IMPORT_MAX_SIZE";
	bool quiet = a.quiet;
	if (a.max_size) {
		max_size = a.max_size;
		max_from = "--max-size";
	}
	uint64_t max = 0;
	if (max_size && *max_size && (ctw_parse_bytes(max_size, &max) < 0 || !max))
		return ctw_cmd_usage_error("import", "import: %s: `%s` is not a size (512m, 20g)",
					   max_from, max_size);
	if (first >= argc)
		return ctw_cmd_usage_error("import", "import: PATH missing");
	if (argc - first > 2)
		return ctw_cmd_usage_error("import", "import: unexpected argument '%s'",
					   argv[first + 2]);
	const char *path = argv[first];
	const char *name = first + 1 < argc ? argv[first + 1] : NULL;
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
