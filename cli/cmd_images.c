// SPDX-License-Identifier: Apache-2.0
/* ctrwatch images (list) and ctrwatch image inspect. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "options.h"
#include "../image/image.h"

struct images_args {
	bool json, quiet;
	const char *root;
};

#define ROOT_OPT                                                                      \
	{                                                                             \
		.name = "root", .kind = CTW_OPT_STR, .metavar = "DIR",                \
		.help = "image store (default: $CTRWATCH_ROOT or /var/lib/ctrwatch)", \
		.off = offsetof(struct images_args, root)                             \
	}
static const struct ctw_opt images_opts[] = {
	{.name = "json",
	 .kind = CTW_OPT_FLAG,
	 .help = "a JSON array: id, names, layers (diff_ids), size, created",
	 .off = offsetof(struct images_args, json)},
	{.name = "quiet",
	 .short_name = 'q',
	 .kind = CTW_OPT_FLAG,
	 .help = "only the image ids",
	 .off = offsetof(struct images_args, quiet)},
	ROOT_OPT,
	{0},
};
static const struct ctw_opt inspect_opts[] = {ROOT_OPT, {0}};
#undef ROOT_OPT

static void images_usage(FILE *out)
{
	fputs("Usage: ctrwatch images [OPTIONS]\n"
	      "\n"
	      "List the images in the store: repository, tag, id, layer count, size (of the\n"
	      "layers' files) and when the image entered the store.  An image without a\n"
	      "name shows <none>.  The built-in busybox image appears once it was used.\n"
	      "\n",
	      out);
	ctw_opts_print(out, images_opts);
	fputs("\n"
	      "Examples:\n"
	      "  ctrwatch images\n"
	      "  ctrwatch images --json | jq -r '.[].names[]'\n",
	      out);
}

static void image_usage(FILE *out)
{
	fputs("Usage: ctrwatch image inspect [--root DIR] IMAGE...\n"
	      "       ctrwatch image ls [OPTIONS]          (same as `ctrwatch images`)\n"
	      "\n"
	      "inspect prints, as a JSON array with one object per IMAGE: id, names,\n"
	      "layers (diff_ids, bottom first), layer_dirs (the overlay lower directories),\n"
	      "size, created and the OCI image config (Entrypoint, Cmd, Env, WorkingDir,\n"
	      "User, StopSignal under .config.config).  IMAGE is NAME[:TAG], an id or a\n"
	      "unique id prefix.\n"
	      "\n"
	      "Examples:\n"
	      "  ctrwatch image inspect busybox\n"
	      "  ctrwatch image inspect app:v1 | jq -r '.[0].config.config.Cmd'\n",
	      out);
}

static void human_size(uint64_t b, char *buf, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)b;
	size_t u = 0;
	while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

static void print_row(const struct ctw_image_info *in, const char *name)
{
	char repo[256] = "<none>", tag[128] = "<none>", size[32], created[20];
	if (name) {
		const char *colon = strrchr(name, ':');
		snprintf(repo, sizeof(repo), "%.*s", (int)(colon - name), name);
		snprintf(tag, sizeof(tag), "%s", colon + 1);
	}
	human_size(in->size, size, sizeof(size));
	/* "2026-11-29T13:35:00.123Z" -> "2026-11-29 13:35:00" */
	snprintf(created, sizeof(created), "%.19s", in->created);
	if (created[10] == 'T')
		created[10] = ' ';
	printf("%-30s %-12s %-14.12s %6zu %9s  %s\n", repo, tag, in->id + 7, in->nlayers, size,
	       created);
}

static int list(const char *root, bool json, bool quiet)
{
	struct ctw_image_info *infos = NULL;
	size_t n = 0;
	struct ctw_err err = {0};
	if (ctw_image_list(root, &infos, &n, &err) < 0) {
		fprintf(stderr, "ctrwatch: images: %s\n", err.msg);
		return CTW_EXIT_FAIL;
	}
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *names = json_array(), *layers = json_array();
			for (char **p = infos[i].names; *p; p++)
				json_array_append_new(names, json_string(*p));
			for (size_t k = 0; k < infos[i].nlayers; k++)
				json_array_append_new(layers, json_string(infos[i].layers[k]));
			json_array_append_new(arr,
					      json_pack("{s:s, s:o, s:o, s:I, s:s}", "id",
							infos[i].id, "names", names, "layers",
							layers, "size", (json_int_t)infos[i].size,
							"created", infos[i].created));
		}
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(arr);
	} else if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%.12s\n", infos[i].id + 7);
	} else {
		printf("%-30s %-12s %-14s %6s %9s  %s\n", "REPOSITORY", "TAG", "IMAGE ID", "LAYERS",
		       "SIZE", "CREATED");
		for (size_t i = 0; i < n; i++) {
			if (!infos[i].names[0])
				print_row(&infos[i], NULL);
			for (char **p = infos[i].names; *p; p++)
				print_row(&infos[i], *p);
		}
	}
	ctw_image_info_free(infos, n);
	return CTW_EXIT_OK;
}

static int parse_list_opts(const char *cmd, int argc, char **argv, struct images_args *a)
{
	int first = ctw_opts_parse(cmd, images_opts, argc, argv, a);
	if (first < 0)
		return -first;
	if (first < argc)
		return ctw_cmd_usage_error(cmd, "%s: unexpected argument '%s'", cmd, argv[first]);
	return 0;
}

static int cmd_images(int argc, char **argv)
{
	struct images_args a = {0};
	int r = parse_list_opts("images", argc, argv, &a);
	return r ? r : list(a.root, a.json, a.quiet);
}

static int inspect(int argc, char **argv)
{
	struct images_args a = {0};
	int first = ctw_opts_parse("image", inspect_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	const char *root = a.root;
	if (first >= argc)
		return ctw_cmd_usage_error("image", "image inspect: IMAGE missing");
	int rc = CTW_EXIT_OK;
	json_t *arr = json_array();
	for (int i = first; i < argc; i++) {
		struct ctw_err err = {0};
		char *text = NULL;
		json_t *j = NULL;
		if (ctw_image_inspect(root, argv[i], &text, &err) < 0 ||
		    !(j = json_loads(text, 0, NULL))) {
			fprintf(stderr, "ctrwatch: image inspect %s: %s\n", argv[i], err.msg);
			rc = CTW_EXIT_FAIL;
		} else {
			json_array_append_new(arr, j);
		}
		free(text);
	}
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(arr);
	return rc;
}

static int cmd_image(int argc, char **argv)
{
	if (argc < 2)
		return ctw_cmd_usage_error("image", "image: subcommand missing");
	/* `ctrwatch image inspect --help`: main.c only sees `image inspect` */
	for (int i = 2; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			image_usage(stdout);
			return CTW_EXIT_OK;
		}
	}
	if (!strcmp(argv[1], "inspect"))
		return inspect(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls") || !strcmp(argv[1], "list")) {
		struct images_args a = {0};
		int r = parse_list_opts("image", argc - 1, argv + 1, &a);
		return r ? r : list(a.root, a.json, a.quiet);
	}
	return ctw_cmd_usage_error("image", "image: unknown subcommand '%s'", argv[1]);
}

CTW_COMMAND(images, .name = "images", .summary = "list the images in the store",
	    .order = CTW_ORDER_IMAGE + 20, .fn = cmd_images, .usage = images_usage)
CTW_COMMAND(image, .name = "image", .summary = "image inspect IMAGE: an image's record as JSON",
	    .order = CTW_ORDER_IMAGE + 25, .fn = cmd_image, .usage = image_usage)
