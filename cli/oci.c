// SPDX-License-Identifier: Apache-2.0
/*
 * runc's command line, as containerd's runc shim, conmon (Podman) and
 * dockerd (through containerd) call it: the commands create, run, start,
 * state, kill, delete, list, pause/resume, features and spec, each with its
 * table of options (the others in cli/oci_cmds.c and cli/oci_exec.c; the
 * global options and the dispatch in cli/oci_main.c).  Options are read as
 * runc's CLI library reads them: one or two dashes, `--opt value` or
 * `--opt=value`, and they stop at the first operand (`exec ID ls -l` gives
 * -l to ls).  Errors: one line on stderr, the same at level error in the
 * --log file (where containerd reads why a call failed), exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

struct create_args {
	struct ctw_oci_create_opts o;
	bool detach;
	bool accepted; /* options runc has and ctrwatch needs not */
};

#define CREATE_ARG(f) offsetof(struct create_args, f)
/* Options shared by create and run. */
#define OCI_CREATE_ENTRIES                                                                   \
	{.name = "bundle",                                                                   \
	 .short_name = 'b',                                                                  \
	 .kind = CTW_OPT_STR,                                                                \
	 .metavar = "DIR",                                                                   \
	 .help = "the bundle (default: the current directory)",                              \
	 .off = CREATE_ARG(o.bundle)},                                                       \
		{.name = "console-socket",                                                   \
		 .kind = CTW_OPT_STR,                                                        \
		 .metavar = "PATH",                                                          \
		 .help = "with process.terminal: send the pty's master there\n"              \
			 "(a unix socket; SCM_RIGHTS, runc's protocol)",                     \
		 .off = CREATE_ARG(o.console_socket)},                                       \
		{.name = "pid-file",                                                         \
		 .kind = CTW_OPT_STR,                                                        \
		 .metavar = "FILE",                                                          \
		 .help = "write the init's pid to FILE",                                     \
		 .off = CREATE_ARG(o.pid_file)},                                             \
		{.name = "no-pivot",                                                         \
		 .kind = CTW_OPT_FLAG,                                                       \
		 .help = "chroot instead of pivot_root (for a ramfs root)",                  \
		 .off = CREATE_ARG(o.no_pivot)},                                             \
		{.name = "no-new-keyring",                                                   \
		 .kind = CTW_OPT_FLAG,                                                       \
		 .help = "accepted (ctrwatch creates no session keyring)",                   \
		 .off = CREATE_ARG(o.no_new_keyring)},                                       \
		{.name = "preserve-fds",                                                     \
		 .kind = CTW_OPT_UINT,                                                       \
		 .metavar = "N",                                                             \
		 .max = 1 << 16,                                                             \
		 .help = "pass fds 3 .. 3+N-1 on to the process",                            \
		 .off = CREATE_ARG(o.preserve_fds)},                                         \
	{                                                                                    \
		.name = "pidfd-socket", .kind = CTW_OPT_CUSTOM, .metavar = "PATH",           \
		.help = "refused (not supported by ctrwatch)", .off = 0, .parse = oci_refuse \
	}

const struct ctw_opt oci_create_opts[] = {
	OCI_CREATE_ENTRIES,
	{0},
};

const struct ctw_opt oci_run_opts[] = {
	OCI_CREATE_ENTRIES,
	{.name = "detach",
	 .short_name = 'd',
	 .kind = CTW_OPT_FLAG,
	 .help = "return once it runs (needs --console-socket for a\n"
		 "terminal)",
	 .off = CREATE_ARG(detach)},
	{.name = "keep", .kind = CTW_OPT_FLAG, .help = "accepted", .off = CREATE_ARG(accepted)},
	{.name = "no-subreaper",
	 .kind = CTW_OPT_FLAG,
	 .help = "accepted",
	 .off = CREATE_ARG(accepted)},
	{0},
};
#undef CREATE_ARG

static int parse_create(int argc, char **argv, bool run, struct create_args *a)
{
	const char *cmd = run ? "run" : "create";

	memset(a, 0, sizeof(*a));
	a->o.root = g_oci.root;
	a->o.annotations = g_oci.annotations;
	a->o.n_annotations = g_oci.n_annotations;
	int first = oci_parse(cmd, run ? oci_run_opts : oci_create_opts, argc, argv, a);
	if (first < 0)
		return -first;
	return oci_one_id(argc, argv, first, cmd, &a->o.id);
}

static int cmd_create(int argc, char **argv)
{
	struct create_args a;
	int rc = parse_create(argc, argv, false, &a);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	if (ctw_oci_create(&a.o, NULL, NULL, &err))
		return oci_fail(&err);
	return CTW_EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
	struct create_args a;
	int rc = parse_create(argc, argv, true, &a);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	int code;
	if (ctw_oci_run(&a.o, a.detach, &code, &err))
		return oci_fail(&err);
	return code;
}

/* Commands whose only operand is one id. */
static int only_id(int argc, char **argv, const char **id)
{
	static const struct ctw_opt none[] = {{0}};
	int first = oci_parse(argv[0], none, argc, argv, NULL);
	if (first < 0)
		return -first;
	return oci_one_id(argc, argv, first, argv[0], id);
}

static int cmd_start(int argc, char **argv)
{
	const char *id;
	int rc = only_id(argc, argv, &id);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	return ctw_oci_start(g_oci.root, id, &err) ? oci_fail(&err) : CTW_EXIT_OK;
}

static int cmd_pause(int argc, char **argv)
{
	const char *id;
	int rc = only_id(argc, argv, &id);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	bool pause = !strcmp(argv[0], "pause");
	return ctw_oci_pause(g_oci.root, id, pause, &err) ? oci_fail(&err) : CTW_EXIT_OK;
}

static int cmd_state(int argc, char **argv)
{
	const char *id;
	int rc = only_id(argc, argv, &id);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	char *json;
	if (ctw_oci_state(g_oci.root, id, &json, &err))
		return oci_fail(&err);
	printf("%s\n", json);
	free(json);
	return CTW_EXIT_OK;
}

/* kill's and delete's one flag */
const struct ctw_opt oci_kill_opts[] = {
	{.name = "all",
	 .short_name = 'a',
	 .kind = CTW_OPT_FLAG,
	 .help = "to every process of its cgroup",
	 .off = 0},
	{0},
};

static int cmd_kill(int argc, char **argv)
{
	bool all = false;
	int first = oci_parse("kill", oci_kill_opts, argc, argv, &all);
	if (first < 0)
		return -first;
	if (first >= argc)
		return oci_usage_error("kill", "a container id is required");
	if (first + 2 < argc)
		return oci_usage_error("kill", "too many arguments");
	int sig = SIGTERM;
	if (first + 1 < argc && (sig = ctw_parse_signal(argv[first + 1])) < 0)
		return oci_usage_error("kill", "unknown signal `%s`", argv[first + 1]);
	struct ctw_err err = {0};
	return ctw_oci_kill(g_oci.root, argv[first], sig, all, &err) ? oci_fail(&err) : CTW_EXIT_OK;
}

const struct ctw_opt oci_delete_opts[] = {
	{.name = "force",
	 .short_name = 'f',
	 .kind = CTW_OPT_FLAG,
	 .help = "kill a running, paused or creating one first;\n"
		 "one that does not exist is no error",
	 .off = 0},
	{0},
};

static int cmd_delete(int argc, char **argv)
{
	bool force = false;
	int first = oci_parse("delete", oci_delete_opts, argc, argv, &force);
	if (first < 0)
		return -first;
	if (first >= argc)
		return oci_usage_error("delete", "a container id is required");
	int rc = CTW_EXIT_OK;
	for (int i = first; i < argc; i++) {
		struct ctw_err err = {0};
		if (ctw_oci_delete(g_oci.root, argv[i], force, &err))
			rc = oci_fail(&err);
	}
	return rc;
}

struct list_args {
	bool json, quiet;
};

const struct ctw_opt oci_list_opts[] = {
	{.name = "format",
	 .short_name = 'f',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "table|json",
	 .help = "a table (default) or a JSON array of their states",
	 .off = offsetof(struct list_args, json),
	 .parse = oci_parse_format},
	{.name = "quiet",
	 .short_name = 'q',
	 .kind = CTW_OPT_FLAG,
	 .help = "their ids only",
	 .off = offsetof(struct list_args, quiet)},
	{0},
};

static int cmd_list(int argc, char **argv)
{
	struct list_args a = {0};
	int first = oci_parse("list", oci_list_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	if (first < argc)
		return oci_usage_error("list", "unexpected argument `%s`", argv[first]);
	struct ctw_oci_info *v;
	size_t n;
	struct ctw_err err = {0};
	if (ctw_oci_list(g_oci.root, &v, &n, &err))
		return oci_fail(&err);
	if (a.json)
		oci_print_list_json(v, n);
	else if (a.quiet)
		for (size_t i = 0; i < n; i++)
			printf("%s\n", v[i].id);
	else
		oci_print_list_table(v, n);
	free(v);
	return CTW_EXIT_OK;
}

static int cmd_features(int argc, char **argv)
{
	if (argc > 1)
		return oci_usage_error("features", "unexpected argument `%s`", argv[1]);
	char *txt = ctw_spec_features_json();
	printf("%s\n", txt);
	free(txt);
	return CTW_EXIT_OK;
}

struct spec_args {
	const char *bundle;
	bool rootless;
};

const struct ctw_opt oci_spec_opts[] = {
	{.name = "bundle",
	 .short_name = 'b',
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "where config.json goes (default: .)",
	 .off = offsetof(struct spec_args, bundle)},
	{.name = "rootless",
	 .kind = CTW_OPT_FLAG,
	 .help = "a user namespace maps root to you; no network namespace",
	 .off = offsetof(struct spec_args, rootless)},
	{0},
};

static int cmd_spec(int argc, char **argv)
{
	struct spec_args a = {.bundle = "."};
	int first = oci_parse("spec", oci_spec_opts, argc, argv, &a);
	if (first < 0)
		return -first;
	if (first < argc)
		return oci_usage_error("spec", "unexpected argument `%s`", argv[first]);
	const char *bundle = a.bundle;
	bool rootless = a.rootless;
	struct ctw_err err = {0};
	char *path = xasprintf("%s/config.json", bundle);
	if (ctw_path_exists(path)) {
		ctw_err_setx(&err, EEXIST, "%s exists: remove it first", path);
		free(path);
		return oci_fail(&err);
	}
	struct ctw_spec *s = ctw_spec_default(rootless, (uint32_t)geteuid(), (uint32_t)getegid());
	char *txt = ctw_spec_to_json(s, true);
	ctw_spec_free(s);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : 0;
	if (!r) {
		size_t len = strlen(txt);
		if (write(fd, txt, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
			r = -EIO;
		close(fd);
	}
	free(txt);
	if (r) {
		ctw_err_set(&err, -r, "write %s", path);
		free(path);
		return oci_fail(&err);
	}
	free(path);
	return CTW_EXIT_OK;
}

static int cmd_unsupported(int argc, char **argv)
{
	struct ctw_err err = {0};
	ctw_err_setx(&err, EOPNOTSUPP, "%s is not supported by ctrwatch", argv[0]);
	return oci_fail(&err);
}

static const struct oci_cmd cmds[] = {
	{"create", "create a container from a bundle; its process waits for start", cmd_create,
	 oci_usage_create},
	{"start", "run the process of a created container", cmd_start, oci_usage_start},
	{"run", "create and start, then wait for it (or --detach)", cmd_run, oci_usage_run},
	{"state", "print the OCI state of a container", cmd_state, oci_usage_state},
	{"kill", "send a signal to a container's process (or all of them)", cmd_kill,
	 oci_usage_kill},
	{"delete", "remove a stopped (or created) container", cmd_delete, oci_usage_delete},
	{"list", "list the containers of the state root", cmd_list, oci_usage_list},
	{"ps", "the processes of a container", oci_cmd_ps, oci_usage_ps},
	{"exec", "run a new process in a container", oci_cmd_exec, oci_usage_exec},
	{"pause", "freeze every process of a container", cmd_pause, oci_usage_pause},
	{"resume", "thaw a paused container", cmd_pause, oci_usage_resume},
	{"update", "change the resources of a container", oci_cmd_update, oci_usage_update},
	{"events", "a container's statistics (and OOM), once or every interval", oci_cmd_events,
	 oci_usage_events},
	{"features", "the OCI features document of this runtime", cmd_features, oci_usage_features},
	{"spec", "write a default config.json", cmd_spec, oci_usage_spec},
	{"checkpoint", NULL, cmd_unsupported, NULL},
	{"restore", NULL, cmd_unsupported, NULL},
	{NULL, NULL, NULL, NULL},
};

void oci_print_commands(FILE *out)
{
	fputs("Commands:\n", out);
	for (const struct oci_cmd *c = cmds; c->name; c++)
		if (c->summary) /* not the refused ones */
			fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

const struct oci_cmd *oci_find_cmd(const char *name)
{
	for (const struct oci_cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
