// SPDX-License-Identifier: Apache-2.0
/*
 * runc's command line, as containerd's runc shim, conmon (Podman) and
 * dockerd (through containerd) call it: global options (--root, --log,
 * --log-format, --debug, --systemd-cgroup, --rootless, --criu), then a
 * command.  Options are read as runc's CLI library reads them: one or two
 * dashes, `--opt value` or `--opt=value`, and they stop at the first
 * operand (`exec ID ls -l` gives -l to ls).  Errors: one line on stderr,
 * the same at level error in the --log file (where containerd reads why a
 * call failed), exit status 1.
 *
 * How this mode is chosen: see cli/main.c (ctw_oci_mode).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

/* Options shared by create and run. */
enum {
	O_BUNDLE = 'b',
	O_CONSOLE = 256,
	O_PIDFILE,
	O_NOPIVOT,
	O_NOKEYRING,
	O_PRESERVE,
	O_DETACH,
	O_KEEP,
	O_NOSUBREAPER,
	O_PIDFD
};

static int parse_create(int argc, char **argv, bool run, struct ctw_oci_create_opts *o,
			bool *detach)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, O_BUNDLE},
		{"console-socket", required_argument, NULL, O_CONSOLE},
		{"pid-file", required_argument, NULL, O_PIDFILE},
		{"no-pivot", no_argument, NULL, O_NOPIVOT},
		{"no-new-keyring", no_argument, NULL, O_NOKEYRING},
		{"preserve-fds", required_argument, NULL, O_PRESERVE},
		{"pidfd-socket", required_argument, NULL, O_PIDFD},
		{"detach", no_argument, NULL, O_DETACH},
		{"keep", no_argument, NULL, O_KEEP},
		{"no-subreaper", no_argument, NULL, O_NOSUBREAPER},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = run ? "run" : "create";
	memset(o, 0, sizeof(*o));
	o->root = g_oci.root;
	o->annotations = g_oci.annotations;
	o->n_annotations = g_oci.n_annotations;
	int c;
	uint64_t n;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+b:d", opts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE: o->bundle = optarg; break;
		case O_CONSOLE: o->console_socket = optarg; break;
		case O_PIDFILE: o->pid_file = optarg; break;
		case O_NOPIVOT: o->no_pivot = true; break;
		case O_NOKEYRING: o->no_new_keyring = true; break;
		case O_PRESERVE:
			if (ctw_parse_u64(optarg, 0, 1 << 16, &n))
				return oci_usage_error(cmd, "--preserve-fds %s: not a number",
						       optarg);
			o->preserve_fds = (int)n;
			break;
		case O_PIDFD:
			return oci_usage_error(cmd, "--pidfd-socket is not supported by ctrwatch");
		case 'd':
		case O_DETACH:
			if (!run)
				return oci_usage_error(cmd, "bad option");
			*detach = true;
			break;
		case O_KEEP:
		case O_NOSUBREAPER:
			if (!run)
				return oci_usage_error(cmd, "bad option");
			break;
		default: return oci_usage_error(cmd, "bad option");
		}
	}
	return oci_one_id(argc, argv, cmd, &o->id);
}

static int cmd_create(int argc, char **argv)
{
	struct ctw_oci_create_opts o;
	bool detach = false;
	int rc = parse_create(argc, argv, false, &o, &detach);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	if (ctw_oci_create(&o, NULL, NULL, &err))
		return oci_fail(&err);
	return CTW_EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
	struct ctw_oci_create_opts o;
	bool detach = false;
	int rc = parse_create(argc, argv, true, &o, &detach);
	if (rc >= 0)
		return rc;
	struct ctw_err err = {0};
	int code;
	if (ctw_oci_run(&o, detach, &code, &err))
		return oci_fail(&err);
	return code;
}

/* Commands whose only operand is one id. */
static int only_id(int argc, char **argv, const char **id)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	optind = 1;
	if (getopt_long_only(argc, argv, "+", none, NULL) != -1)
		return oci_usage_error(argv[0], "bad option");
	return oci_one_id(argc, argv, argv[0], id);
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

static int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	bool all = false;
	int c;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
		if (c != 'a')
			return oci_usage_error("kill", "bad option");
		all = true;
	}
	if (optind >= argc)
		return oci_usage_error("kill", "a container id is required");
	if (optind + 2 < argc)
		return oci_usage_error("kill", "too many arguments");
	int sig = SIGTERM;
	if (optind + 1 < argc && (sig = ctw_parse_signal(argv[optind + 1])) < 0)
		return oci_usage_error("kill", "unknown signal `%s`", argv[optind + 1]);
	struct ctw_err err = {0};
	return ctw_oci_kill(g_oci.root, argv[optind], sig, all, &err) ? oci_fail(&err)
								      : CTW_EXIT_OK;
}

static int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	bool force = false;
	int c;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return oci_usage_error("delete", "bad option");
		force = true;
	}
	if (optind >= argc)
		return oci_usage_error("delete", "a container id is required");
	int rc = CTW_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct ctw_err err = {0};
		if (ctw_oci_delete(g_oci.root, argv[i], force, &err))
			rc = oci_fail(&err);
	}
	return rc;
}

static int parse_format(const char *cmd, const char *v, bool *json)
{
	if (!strcmp(v, "json"))
		*json = true;
	else if (!strcmp(v, "table"))
		*json = false;
	else
		return oci_usage_error(cmd, "--format %s: table or json", v);
	return -1;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, quiet = false;
	int c, rc;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f' && (rc = parse_format("list", optarg, &json)) >= 0)
			return rc;
		else if (c == 'q')
			quiet = true;
		else if (c != 'f')
			return oci_usage_error("list", "bad option");
	}
	if (optind < argc)
		return oci_usage_error("list", "unexpected argument `%s`", argv[optind]);
	struct ctw_oci_info *v;
	size_t n;
	struct ctw_err err = {0};
	if (ctw_oci_list(g_oci.root, &v, &n, &err))
		return oci_fail(&err);
	if (json)
		oci_print_list_json(v, n);
	else if (quiet)
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

static int cmd_spec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"rootless", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	const char *bundle = ".";
	bool rootless = false;
	int c;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else
			return oci_usage_error("spec", "bad option");
	}
	if (optind < argc)
		return oci_usage_error("spec", "unexpected argument `%s`", argv[optind]);
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
	{"create", cmd_create, oci_usage_create},
	{"start", cmd_start, oci_usage_start},
	{"run", cmd_run, oci_usage_run},
	{"state", cmd_state, oci_usage_state},
	{"kill", cmd_kill, oci_usage_kill},
	{"delete", cmd_delete, oci_usage_delete},
	{"list", cmd_list, oci_usage_list},
	{"ps", oci_cmd_ps, oci_usage_ps},
	{"exec", oci_cmd_exec, oci_usage_exec},
	{"pause", cmd_pause, oci_usage_pause},
	{"resume", cmd_pause, oci_usage_resume},
	{"update", oci_cmd_update, oci_usage_update},
	{"events", oci_cmd_events, oci_usage_events},
	{"features", cmd_features, oci_usage_features},
	{"spec", cmd_spec, oci_usage_spec},
	{"checkpoint", cmd_unsupported, NULL},
	{"restore", cmd_unsupported, NULL},
	{NULL, NULL, NULL},
};

const struct oci_cmd *oci_find_cmd(const char *name)
{
	for (const struct oci_cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* --opt value, --opt=value, -opt value */
static bool global_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	if (a[0] != '-')
		return false;
	a += a[1] == '-' ? 2 : 1;
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return false;
	if (a[n] == '=') {
		*val = a + n + 1;
		return true;
	}
	if (a[n])
		return false;
	if (!val)
		return true;
	if (*i + 1 >= argc)
		return false;
	*val = argv[++*i];
	return true;
}

static bool global_flag(const char *a, const char *name)
{
	if (a[0] != '-')
		return false;
	a += a[1] == '-' ? 2 : 1;
	size_t n = strlen(name);
	/* --flag, or --flag=true/false as urfave/cli allows */
	return !strncmp(a, name, n) && (!a[n] || !strcmp(a + n, "=true"));
}

int ctw_oci_main(int argc, char **argv)
{
	const char *log = NULL, *log_format = "text", *v;
	bool debug = false;
	g_oci.root = ctw_oci_default_root();
	g_oci.log_fd = -1;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (global_opt(argc, argv, &i, "root", &v))
			g_oci.root = v;
		else if (global_opt(argc, argv, &i, "log-format", &log_format))
			continue;
		else if (global_opt(argc, argv, &i, "log", &log))
			continue;
		else if (global_flag(argv[i], "debug"))
			debug = true;
		else if (global_flag(argv[i], "systemd-cgroup"))
			g_oci.systemd_cgroup = true;
		else if (global_opt(argc, argv, &i, "annotation", &v)) {
			g_oci.annotations =
				xrealloc(g_oci.annotations,
					 (g_oci.n_annotations + 1) * sizeof(*g_oci.annotations));
			g_oci.annotations[g_oci.n_annotations++] = v;
		} else if (global_opt(argc, argv, &i, "rootless", &v) ||
			   global_opt(argc, argv, &i, "criu", &v) ||
			   global_flag(argv[i], "debug=false") ||
			   global_flag(argv[i], "systemd-cgroup=false"))
			continue; /* accepted: ctrwatch decides these itself */
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			oci_usage(stdout);
			return CTW_EXIT_OK;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v")) {
			printf("ctrwatch version %s (runc's command line)\nspec: %s\n", CTW_VERSION,
			       CTW_OCI_VERSION);
			return CTW_EXIT_OK;
		} else {
			fprintf(stderr, "ctrwatch: unknown global option '%s'\n", argv[i]);
			oci_usage(stderr);
			return CTW_EXIT_FAIL;
		}
	}
	if (strcmp(log_format, "text") && strcmp(log_format, "json")) {
		fprintf(stderr, "ctrwatch: --log-format %s: text or json\n", log_format);
		return CTW_EXIT_FAIL;
	}
	if (log && *log) {
		g_oci.log_fd =
			open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
		if (g_oci.log_fd < 0) {
			fprintf(stderr, "ctrwatch: --log %s: %s\n", log, strerror(errno));
			return CTW_EXIT_FAIL;
		}
		ctw_log_set_fd(g_oci.log_fd);
	}
	ctw_log_set_format(!strcmp(log_format, "json") ? CTW_LOG_JSON : CTW_LOG_TEXT);
	ctw_log_set_level(debug ? CTW_LOG_DEBUG : CTW_LOG_WARN);
	if (i >= argc) {
		oci_usage(stderr);
		return CTW_EXIT_FAIL;
	}
	const struct oci_cmd *c = oci_find_cmd(argv[i]);
	if (!c) {
		fprintf(stderr, "ctrwatch: unknown command '%s'\n", argv[i]);
		oci_usage(stderr);
		return CTW_EXIT_FAIL;
	}
	/* --help of a command, before its first operand */
	for (int k = i + 1; k < argc && argv[k][0] == '-'; k++) {
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
			if (c->usage)
				c->usage(stdout);
			return CTW_EXIT_OK;
		}
	}
	/* What enters a container must not be a binary it could write (runc
	 * CVE-2019-5736): create's init stays in it until start, exec's
	 * process until its execve.  Re-executed from a read-only copy. */
	if (!strcmp(c->name, "create") || !strcmp(c->name, "run") || !strcmp(c->name, "exec")) {
		struct ctw_err err = {0};
		if (ctw_exe_protect(&err))
			return oci_fail(&err);
	}
	return c->fn(argc - i, argv + i);
}

/* `ctrwatch oci ...` */
static int cmd_oci(int argc, char **argv)
{
	return ctw_oci_main(argc, argv);
}

CTW_COMMAND(oci, .name = "oci",
	    .summary = "runc's command line: ctrwatch as an OCI runtime (create, start, ...)",
	    .order = CTW_ORDER_RUNTIME + 90, .fn = cmd_oci, .usage = oci_usage)
