// SPDX-License-Identifier: Apache-2.0
/*
 * runc's exec: the process from --process FILE (a process object, as in
 * config.json), or the container's own process with the operands as its
 * args and the flags applied, as runc builds it: --cwd, --env appended,
 * --tty, --user UID[:GID], --additional-gids, --cap added to the bounding,
 * effective and permitted sets (and ambient where the spec has inheritable
 * ones), --no-new-privs, --apparmor, --process-label.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

static void strv_add(char ***v, const char *s)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

static int parse_uint32(const char *s, uint32_t *out)
{
	uint64_t v;
	if (ctw_parse_u64(s, 0, UINT32_MAX, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int read_process(const char *file, struct ctw_spec_process **p, struct ctw_err *err)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ctw_err_set(err, errno, "--process %s", file);
	char *txt;
	size_t len;
	int r = ctw_read_fd_capped(fd, 4 << 20, &txt, &len);
	close(fd);
	if (r)
		return ctw_err_set(err, -r, "read --process %s", file);
	r = ctw_spec_process_parse(file, txt, len, p, err);
	free(txt);
	return r;
}

struct exec_args {
	struct ctw_oci_exec_opts o;
	const char *process_file, *cwd, *user, *label, *apparmor;
	char **env;
	uint64_t caps;
	uint32_t *gids;
	size_t ngids;
	bool tty, nnp, accepted;
};

static int add_env(const char *arg, void *field, char *why, size_t whylen)
{
	if (!strchr(arg, '='))
		return snprintf(why, whylen, "not KEY=VALUE"), -1;
	strv_add(field, arg);
	return 0;
}

static int add_gids(const char *arg, void *field, char *why, size_t whylen)
{
	struct exec_args *a = field;
	char *s = xstrdup(arg), *save;
	int r = 0;

	for (char *t = strtok_r(s, ",", &save); t && !r; t = strtok_r(NULL, ",", &save)) {
		a->gids = xrealloc(a->gids, (a->ngids + 1) * sizeof(*a->gids));
		if (parse_uint32(t, &a->gids[a->ngids++]))
			r = -1;
	}
	free(s);
	if (r)
		snprintf(why, whylen, "want G1,G2, numbers");
	return r;
}

static int add_cap(const char *arg, void *field, char *why, size_t whylen)
{
	int cap = ctw_spec_cap_from_name(arg);

	if (cap < 0)
		return snprintf(why, whylen, "unknown capability"), -1;
	*(uint64_t *)field |= 1ull << cap;
	return 0;
}

#define ARG(f) offsetof(struct exec_args, f)
const struct ctw_opt oci_exec_opts[] = {
	{.name = "process",
	 .short_name = 'p',
	 .kind = CTW_OPT_STR,
	 .metavar = "FILE",
	 .help = "the process, whole",
	 .off = ARG(process_file)},
	{.name = "detach",
	 .short_name = 'd',
	 .kind = CTW_OPT_FLAG,
	 .help = "return once it runs",
	 .off = ARG(o.detach)},
	{.name = "pid-file",
	 .kind = CTW_OPT_STR,
	 .metavar = "FILE",
	 .help = "write its pid to FILE",
	 .off = ARG(o.pid_file)},
	{.name = "console-socket",
	 .kind = CTW_OPT_STR,
	 .metavar = "PATH",
	 .help = "send its terminal's master there (with --tty)",
	 .off = ARG(o.console_socket)},
	{.name = "tty",
	 .short_name = 't',
	 .kind = CTW_OPT_FLAG,
	 .help = "a terminal for it",
	 .off = ARG(tty)},
	{.name = "cwd",
	 .kind = CTW_OPT_STR,
	 .metavar = "DIR",
	 .help = "its working directory",
	 .off = ARG(cwd)},
	{.name = "env",
	 .short_name = 'e',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "K=V",
	 .help = "add to its environment (repeatable)",
	 .off = ARG(env),
	 .parse = add_env},
	{.name = "user",
	 .short_name = 'u',
	 .kind = CTW_OPT_STR,
	 .metavar = "UID[:GID]",
	 .help = "run as UID (and GID)",
	 .off = ARG(user)},
	{.name = "additional-gids",
	 .short_name = 'g',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "G",
	 .help = "supplementary groups, G1,G2",
	 .off = 0,
	 .parse = add_gids},
	{.name = "cap",
	 .short_name = 'c',
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "CAP",
	 .help = "add CAP (CAP_NET_ADMIN) to its sets",
	 .off = ARG(caps),
	 .parse = add_cap},
	{.name = "no-new-privs", .kind = CTW_OPT_FLAG, .help = "set no_new_privs", .off = ARG(nnp)},
	{.name = "apparmor",
	 .kind = CTW_OPT_STR,
	 .metavar = "PROFILE",
	 .help = "its AppArmor profile",
	 .off = ARG(apparmor)},
	{.name = "process-label",
	 .kind = CTW_OPT_STR,
	 .metavar = "LABEL",
	 .help = "its SELinux label",
	 .off = ARG(label)},
	{.name = "preserve-fds",
	 .kind = CTW_OPT_UINT,
	 .metavar = "N",
	 .max = 1 << 16,
	 .help = "pass fds 3 .. 3+N-1 on to it",
	 .off = ARG(o.preserve_fds)},
	{.name = "ignore-paused", .kind = CTW_OPT_FLAG, .help = "accepted", .off = ARG(accepted)},
	{.name = "cgroup",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "PATH",
	 .help = "refused (not supported by ctrwatch)",
	 .off = 0,
	 .parse = oci_refuse},
	{.name = "pidfd-socket",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "PATH",
	 .help = "refused (not supported by ctrwatch)",
	 .off = 0,
	 .parse = oci_refuse},
	{0},
};
#undef ARG

int oci_cmd_exec(int argc, char **argv)
{
	struct exec_args a = {.o.root = g_oci.root};
	int rc = -1, first = oci_parse("exec", oci_exec_opts, argc, argv, &a);
	struct ctw_spec_process *p = NULL;
	struct ctw_err err = {0};
	if (first < 0) {
		rc = -first;
		goto out;
	}
	if (first >= argc) {
		rc = oci_usage_error("exec", "a container id is required");
		goto out;
	}
	a.o.id = argv[first];
	if (a.process_file) {
		if (read_process(a.process_file, &p, &err)) {
			rc = oci_fail(&err);
			goto out;
		}
	} else {
		if (first + 1 >= argc) {
			rc = oci_usage_error("exec", "a command is required (or --process)");
			goto out;
		}
		if (ctw_oci_process_of(a.o.root, a.o.id, &p, &err)) {
			rc = oci_fail(&err);
			goto out;
		}
		for (char **arg = p->args; arg && *arg; arg++)
			free(*arg);
		free(p->args);
		p->args = NULL;
		for (int i = first + 1; i < argc; i++)
			strv_add(&p->args, argv[i]);
		for (char **e = a.env; e && *e; e++)
			strv_add(&p->env, *e);
		p->terminal = a.tty;
		if (a.cwd) {
			free(p->cwd);
			p->cwd = xstrdup(a.cwd);
		}
		if (a.user) {
			char *colon = strchr(a.user, ':');
			char *u = xstrdup(a.user);
			if (colon)
				u[colon - a.user] = '\0';
			if (parse_uint32(u, &p->user.uid) ||
			    (colon && parse_uint32(colon + 1, &p->user.gid))) {
				free(u);
				rc = oci_usage_error("exec", "--user %s: UID[:GID], numbers",
						     a.user);
				goto out;
			}
			free(u);
		}
		if (a.ngids) {
			free(p->user.additional_gids);
			p->user.additional_gids = a.gids;
			p->user.n_additional_gids = a.ngids;
			a.gids = NULL;
		}
		if (a.caps) {
			p->caps_set = true;
			p->caps[CTW_CAPS_BOUNDING] |= a.caps;
			p->caps[CTW_CAPS_EFFECTIVE] |= a.caps;
			p->caps[CTW_CAPS_PERMITTED] |= a.caps;
			if (p->caps[CTW_CAPS_INHERITABLE])
				p->caps[CTW_CAPS_AMBIENT] |= a.caps;
		}
		if (a.nnp)
			p->no_new_privileges = true;
		if (a.apparmor) {
			free(p->apparmor_profile);
			p->apparmor_profile = xstrdup(a.apparmor);
		}
		if (a.label) {
			free(p->selinux_label);
			p->selinux_label = xstrdup(a.label);
		}
	}
	a.o.process = p;
	int code;
	if (ctw_oci_exec(&a.o, &code, &err)) {
		oci_fail(&err);
		/* as runc: 255 when the runtime failed; the command's own
		 * reasons keep their codes for whoever maps them */
		rc = code == CTW_EXIT_NOEXEC || code == CTW_EXIT_NOTFOUND ? code
									  : CTW_EXIT_OCI_EXEC;
		goto out;
	}
	rc = code;
out:
	ctw_spec_process_free(p);
	for (char **e = a.env; e && *e; e++)
		free(*e);
	free(a.env);
	free(a.gids);
	return rc;
}
