/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/ — the subcommand table.  Each cli/cmd_<name>.c registers itself with
 * CTW_COMMAND(); main.c keeps the table, sorted by `order`, and dispatches on
 * argv[1] (exact name or unique prefix).  Registering from the command's own
 * file means adding a subcommand touches no shared file.
 */
#ifndef CTW_CMD_H
#define CTW_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "../lib/lib.h"
#include "options.h"

struct ctw_cmd {
	const char *name;
	const char *summary;		  /* one line for `ctrwatch --help` */
	int order;			  /* position in the help listing (lower first) */
	int (*fn)(int argc, char **argv); /* argv[0] is the subcommand name */
	/* Full usage (with examples) printed by `ctrwatch NAME --help`. */
	void (*usage)(FILE *out);
};

/* commands.c: the table of subcommands. */
void ctw_cmd_register(const struct ctw_cmd *cmd);
/* In help order (order, then name); once, before any lookup. */
void ctw_cmds_sort(void);
/* By name, or by a prefix only one name has; NULL if none. */
const struct ctw_cmd *ctw_cmd_find(const char *name);
/* Is name one of ctrwatch's own subcommands (exactly)? */
bool ctw_cmd_native(const char *name);
/* `ctrwatch --help`: the commands, grouped, and the global options. */
void ctw_cmds_usage(FILE *out);
/* Print `cmd`'s usage on stderr and return CTW_EXIT_USAGE: for bad options. */
int ctw_cmd_usage_error(const char *cmd_name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Before a command loads BPF programs: false, after printing "ctrwatch:
 * CMD: needs root, or the capabilities ..." on stderr, when the process
 * lacks `what` (CTW_NEED_* from lib.h); the caller exits CTW_EXIT_FAIL. */
bool ctw_cmd_privileged(const char *cmd_name, unsigned int what);

/* Which container the user means (select.c): an engine name or id, a
 * containerd NAMESPACE/ID, a Kubernetes NAMESPACE/POD/CONTAINER or
 * POD/CONTAINER, a unique id prefix, else a cgroup path or a PID; narrowed
 * by namespace_ and pod (NULL: any).  0 and *out, or -errno with err saying
 * why: -EINVAL when several match (err lists them), -ENOENT when none. */
struct ctw_registry;
struct ctw_container;
struct ctw_err;
struct ctw_select {
	const char *namespace_;
	const char *pod;
};
/* On 0, *out is a copy to release (ctw_container_release). */
int ctw_select_container(struct ctw_registry *r, const char *spec, const struct ctw_select *sel,
			 struct ctw_container *out, struct ctw_err *err);

/* ---- runc's command line (cli/oci*.c) ---- */

/* How main() chooses it: by the name we are called by (ending in "runc":
 * a ctrwatch-runc link), `ctrwatch oci ...`, a global option only runc has
 * (--log, --log-format, --debug, --systemd-cgroup, --rootless, --criu) or a
 * command only runc has (create, start, state, delete, list, pause, ...).
 * ctrwatch's own run, exec, kill and ps keep their meaning otherwise. */
bool ctw_oci_mode(const char *argv0, int argc, char **argv);
/* argv[0] is the program; global options, then the command. */
int ctw_oci_main(int argc, char **argv);

struct ctw_err;
struct oci_globals {
	const char *root; /* --root: the state root */
	int log_fd;	  /* --log, or -1 */
	bool systemd_cgroup;
	/* --annotation KEY=VALUE: defaults for what create makes */
	const char **annotations;
	size_t n_annotations;
};
extern struct oci_globals g_oci;

struct oci_cmd {
	const char *name;
	const char *summary;		  /* its line of --help; NULL: refused, not listed */
	int (*fn)(int argc, char **argv); /* argv[0] is the command */
	void (*usage)(FILE *out);
};
const struct oci_cmd *oci_find_cmd(const char *name);
/* The Commands: block of runc's --help, from the same table. */
void oci_print_commands(FILE *out);
/* Report err (stderr and the log): CTW_EXIT_FAIL. */
int oci_fail(struct ctw_err *err);
int oci_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one id operand at first: -1 and *id, else the exit code. */
int oci_one_id(int argc, char **argv, int first, const char *cmd, const char **id);

/* The options of runc's commands, one table each (cli/options.h): their
 * parsing and the Options block of their --help. */
int oci_parse(const char *cmd, const struct ctw_opt *tab, int argc, char **argv, void *dst);
/* A CTW_OPT_CUSTOM parser for runc options ctrwatch refuses. */
int oci_refuse(const char *arg, void *field, char *why, size_t whylen);
/* --format table|json: bool json. */
int oci_parse_format(const char *arg, void *field, char *why, size_t whylen);
/* --help of one: its table, the help texts from OCI_HELP_COLUMN. */
void oci_usage_options(FILE *out, const struct ctw_opt *tab);
#define OCI_HELP_COLUMN 30
extern const struct ctw_opt oci_global_opts[], oci_create_opts[], oci_run_opts[], oci_kill_opts[],
	oci_delete_opts[], oci_list_opts[], oci_spec_opts[], oci_ps_opts[], oci_exec_opts[],
	oci_update_opts[], oci_events_opts[];

struct ctw_oci_info;
void oci_print_list_json(const struct ctw_oci_info *v, size_t n);
void oci_print_list_table(const struct ctw_oci_info *v, size_t n);
int oci_cmd_ps(int argc, char **argv);
int oci_cmd_exec(int argc, char **argv);
int oci_cmd_update(int argc, char **argv);
int oci_cmd_events(int argc, char **argv);

/* cli/oci_usage.c */
void oci_usage(FILE *out);
void oci_usage_create(FILE *out);
void oci_usage_start(FILE *out);
void oci_usage_run(FILE *out);
void oci_usage_state(FILE *out);
void oci_usage_kill(FILE *out);
void oci_usage_delete(FILE *out);
void oci_usage_list(FILE *out);
void oci_usage_ps(FILE *out);
void oci_usage_exec(FILE *out);
void oci_usage_pause(FILE *out);
void oci_usage_resume(FILE *out);
void oci_usage_update(FILE *out);
void oci_usage_events(FILE *out);
void oci_usage_features(FILE *out);
void oci_usage_spec(FILE *out);

#define CTW_COMMAND(ident, ...)                                            \
	static const struct ctw_cmd ctw_cmd_##ident = {__VA_ARGS__};       \
	__attribute__((constructor)) static void ctw_cmd_reg_##ident(void) \
	{                                                                  \
		ctw_cmd_register(&ctw_cmd_##ident);                        \
	}

/* Help-listing order bands, so related commands stay together. */
enum {
	CTW_ORDER_RUNTIME = 100, /* run, ps, exec, ... */
	CTW_ORDER_IMAGE = 200,	 /* import, images, rmi */
	CTW_ORDER_OBSERVE = 300, /* trace, tcplife, dns */
	CTW_ORDER_AGENT = 400,	 /* agent */
	CTW_ORDER_POLICY = 500,	 /* policy */
	CTW_ORDER_MISC = 900,	 /* probe, version */
};

#endif /* CTW_CMD_H */
