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
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/lib.h"
#include "../runtime/runtime.h"

enum {
	E_CONSOLE = 256,
	E_CWD,
	E_PIDFILE,
	E_LABEL,
	E_APPARMOR,
	E_NNP,
	E_PRESERVE,
	E_CGROUP,
	E_IGNORE_PAUSED,
	E_PIDFD,
};

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

int oci_cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{"console-socket", required_argument, NULL, E_CONSOLE},
		{"cwd", required_argument, NULL, E_CWD},
		{"env", required_argument, NULL, 'e'},
		{"tty", no_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"additional-gids", required_argument, NULL, 'g'},
		{"process", required_argument, NULL, 'p'},
		{"detach", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, E_PIDFILE},
		{"process-label", required_argument, NULL, E_LABEL},
		{"apparmor", required_argument, NULL, E_APPARMOR},
		{"no-new-privs", no_argument, NULL, E_NNP},
		{"cap", required_argument, NULL, 'c'},
		{"preserve-fds", required_argument, NULL, E_PRESERVE},
		{"cgroup", required_argument, NULL, E_CGROUP},
		{"ignore-paused", no_argument, NULL, E_IGNORE_PAUSED},
		{"pidfd-socket", required_argument, NULL, E_PIDFD},
		{NULL, 0, NULL, 0},
	};
	struct ctw_oci_exec_opts o = {.root = g_oci.root};
	const char *process_file = NULL, *cwd = NULL, *user = NULL, *label = NULL, *apparmor = NULL;
	char **env = NULL;
	uint64_t caps = 0;
	uint32_t *gids = NULL;
	size_t ngids = 0;
	bool tty = false, nnp = false;
	int c, rc = -1;
	uint64_t n;
	optind = 1;
	while (rc < 0 && (c = getopt_long_only(argc, argv, "+e:tu:g:p:dc:", opts, NULL)) != -1) {
		switch (c) {
		case E_CONSOLE: o.console_socket = optarg; break;
		case E_CWD: cwd = optarg; break;
		case 'e':
			if (!strchr(optarg, '='))
				rc = oci_usage_error("exec", "--env %s: not KEY=VALUE", optarg);
			else
				strv_add(&env, optarg);
			break;
		case 't': tty = true; break;
		case 'u': user = optarg; break;
		case 'g': {
			char *s = xstrdup(optarg), *save;
			for (char *t = strtok_r(s, ",", &save); t && rc < 0;
			     t = strtok_r(NULL, ",", &save)) {
				gids = xrealloc(gids, (ngids + 1) * sizeof(*gids));
				if (parse_uint32(t, &gids[ngids++]))
					rc = oci_usage_error("exec", "--additional-gids %s",
							     optarg);
			}
			free(s);
			break;
		}
		case 'p': process_file = optarg; break;
		case 'd': o.detach = true; break;
		case E_PIDFILE: o.pid_file = optarg; break;
		case E_LABEL: label = optarg; break;
		case E_APPARMOR: apparmor = optarg; break;
		case E_NNP: nnp = true; break;
		case 'c': {
			int cap = ctw_spec_cap_from_name(optarg);
			if (cap < 0)
				rc = oci_usage_error("exec", "--cap %s: unknown capability",
						     optarg);
			else
				caps |= 1ull << cap;
			break;
		}
		case E_PRESERVE:
			if (ctw_parse_u64(optarg, 0, 1 << 16, &n))
				rc = oci_usage_error("exec", "--preserve-fds %s: not a number",
						     optarg);
			o.preserve_fds = (int)n;
			break;
		case E_CGROUP:
			rc = oci_usage_error("exec", "--cgroup is not supported by ctrwatch");
			break;
		case E_IGNORE_PAUSED: break;
		case E_PIDFD:
			rc = oci_usage_error("exec", "--pidfd-socket is not supported by ctrwatch");
			break;
		default: rc = oci_usage_error("exec", "bad option"); break;
		}
	}
	struct ctw_spec_process *p = NULL;
	struct ctw_err err = {0};
	if (rc >= 0)
		goto out;
	if (optind >= argc) {
		rc = oci_usage_error("exec", "a container id is required");
		goto out;
	}
	o.id = argv[optind];
	if (process_file) {
		if (read_process(process_file, &p, &err)) {
			rc = oci_fail(&err);
			goto out;
		}
	} else {
		if (optind + 1 >= argc) {
			rc = oci_usage_error("exec", "a command is required (or --process)");
			goto out;
		}
		if (ctw_oci_process_of(o.root, o.id, &p, &err)) {
			rc = oci_fail(&err);
			goto out;
		}
		for (char **a = p->args; a && *a; a++)
			free(*a);
		free(p->args);
		p->args = NULL;
		for (int i = optind + 1; i < argc; i++)
			strv_add(&p->args, argv[i]);
		for (char **e = env; e && *e; e++)
			strv_add(&p->env, *e);
		p->terminal = tty;
		if (cwd) {
			free(p->cwd);
			p->cwd = xstrdup(cwd);
		}
		if (user) {
			char *colon = strchr(user, ':');
			char *u = xstrdup(user);
			if (colon)
				u[colon - user] = '\0';
			if (parse_uint32(u, &p->user.uid) ||
			    (colon && parse_uint32(colon + 1, &p->user.gid))) {
				free(u);
				rc = oci_usage_error("exec", "--user %s: UID[:GID], numbers", user);
				goto out;
			}
			free(u);
		}
		if (ngids) {
			free(p->user.additional_gids);
			p->user.additional_gids = gids;
			p->user.n_additional_gids = ngids;
			gids = NULL;
		}
		if (caps) {
			p->caps_set = true;
			p->caps[CTW_CAPS_BOUNDING] |= caps;
			p->caps[CTW_CAPS_EFFECTIVE] |= caps;
			p->caps[CTW_CAPS_PERMITTED] |= caps;
			if (p->caps[CTW_CAPS_INHERITABLE])
				p->caps[CTW_CAPS_AMBIENT] |= caps;
		}
		if (nnp)
			p->no_new_privileges = true;
		if (apparmor) {
			free(p->apparmor_profile);
			p->apparmor_profile = xstrdup(apparmor);
		}
		if (label) {
			free(p->selinux_label);
			p->selinux_label = xstrdup(label);
		}
	}
	o.process = p;
	int code;
	if (ctw_oci_exec(&o, &code, &err)) {
		oci_fail(&err);
		/* as runc: 255 when the runtime failed; the command's own
		 * reasons keep their codes for whoever maps them */
		rc = code == 126 || code == 127 ? code : 255;
		goto out;
	}
	rc = code;
out:
	ctw_spec_process_free(p);
	for (char **e = env; e && *e; e++)
		free(*e);
	free(env);
	free(gids);
	return rc;
}
