/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command options declared once: a typed table per command (in the spirit
 * of xdp-tools' DEFINE_OPTION) from which come getopt's tables, the
 * parsing and validation of each value into the command's own struct, and
 * the "Options:" block of its --help, which the man pages and completions
 * are generated from (scripts/helpgen.py).  So an option is added in one
 * place and its help can't drift from what is parsed.
 */
#ifndef CTW_CLI_OPTIONS_H
#define CTW_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ctw_opt_kind {
	CTW_OPT_FLAG,	  /* bool = true; no argument */
	CTW_OPT_FLAG_OFF, /* bool = false; no argument (--no-init) */
	CTW_OPT_SET,	  /* int = .value; no argument (-4 / -6 and the like) */
	CTW_OPT_COUNT,	  /* int += 1; no argument (-v -v) */
	CTW_OPT_STR,	  /* const char * = the argument (argv's own) */
	CTW_OPT_UINT,	  /* unsigned = the argument, .min to .max */
	CTW_OPT_DURATION, /* uint64_t ns, > 0 ("10", "1.5s", "200ms") */
	CTW_OPT_CUSTOM,	  /* .parse(argument, field) */
};

struct ctw_opt {
	const char *name;  /* long name, without "--" */
	const char *alias; /* another long name for it, or NULL */
	int short_name;	   /* 0: none */
	enum ctw_opt_kind kind;
	const char *metavar;	     /* for options that take an argument */
	const char *help;	     /* may hold '\n' for more lines */
	size_t off;		     /* where the value goes in the command's struct */
	long long value;	     /* CTW_OPT_SET */
	unsigned long long min, max; /* CTW_OPT_UINT */
	/* CTW_OPT_CUSTOM: 0, or -1 with what the argument should be in why;
	 * arg is NULL when an optional argument was not given */
	int (*parse)(const char *arg, void *field, char *why, size_t whylen);
	bool optional_arg; /* CTW_OPT_CUSTOM: --name[=ARG] */
	/* --help: options of one section stay together under this heading
	 * ("Resources"); NULL: under "Options" */
	const char *section;
};

/* Entries several commands share (tcplife, dns): the same words in each. */
#define CTW_OPT_ENTRY_DURATION(field_off)                                                     \
	{                                                                                     \
		.name = "duration", .short_name = 'd', .kind = CTW_OPT_DURATION,              \
		.metavar = "SECS", .help = "stop after SECS seconds (default: until Ctrl-C)", \
		.off = (field_off)                                                            \
	}
#define CTW_OPT_ENTRY_NAMESPACE(short_, field_off)                                                 \
	{                                                                                          \
		.name = "namespace", .short_name = (short_), .kind = CTW_OPT_STR, .metavar = "NS", \
		.help = "CONTAINER names one of Kubernetes (or containerd)\n"                      \
			"namespace NS",                                                            \
		.off = (field_off)                                                                 \
	}
#define CTW_OPT_ENTRY_POD(field_off)                                         \
	{                                                                    \
		.name = "pod", .kind = CTW_OPT_STR, .metavar = "POD",        \
		.help = "CONTAINER names one of pod POD", .off = (field_off) \
	}

/* Parse argv's options by the table (ended by an entry without a name)
 * into dst.  The index of the first operand, or -CTW_EXIT_USAGE after
 * printing "ctrwatch: CMD: --NAME ARG: WHY" and the command's usage. */
int ctw_opts_parse(const char *cmd, const struct ctw_opt *tab, int argc, char **argv, void *dst);
/* The same, options ending at the first operand: for commands followed by a
 * command line of their own (exec CONTAINER CMD -x). */
int ctw_opts_parse_in_order(const char *cmd, const struct ctw_opt *tab, int argc, char **argv,
			    void *dst);

/* How a command's options are read and their errors reported, for the
 * commands whose conventions are not ctrwatch's own (runc's, Docker's). */
struct ctw_opts_style {
	bool in_order;	/* options end at the first operand */
	bool long_only; /* -name is --name too (runc's urfave/cli) */
	/* An unknown option or a missing argument: report msg (no "ctrwatch: CMD: "
	 * in it) and return the exit code.  NULL: ctw_cmd_usage_error (2). */
	int (*usage_error)(const char *cmd, const char *msg);
	/* A bad value of a known option; NULL: as usage_error. */
	int (*value_error)(const char *cmd, const char *msg);
};
/* ctw_opts_parse by a style: the first operand, or -(exit code). */
int ctw_opts_parse_style(const struct ctw_opts_style *style, const char *cmd,
			 const struct ctw_opt *tab, int argc, char **argv, void *dst);

/* For commands that take options only: -1 when argv holds nothing else,
 * else the exit code to return (usage printed). */
int ctw_opts_parse_only(const char *cmd, const struct ctw_opt *tab, int argc, char **argv,
			void *dst);

/* The "Options:" block of --help: every option of the table, "-h, --help"
 * last, help texts aligned in one column. */
void ctw_opts_print(FILE *out, const struct ctw_opt *tab);
/* The same with the help texts from column (a page whose options have
 * long metavars: run's, runc's). */
void ctw_opts_print_column(FILE *out, const char *heading, const struct ctw_opt *tab,
			   bool with_help, int column);
/* The same under another heading ("Options of add"), for commands whose
 * subcommands take options of their own; with_help adds "-h, --help". */
void ctw_opts_print_section(FILE *out, const char *heading, const struct ctw_opt *tab,
			    bool with_help);

#endif /* CTW_CLI_OPTIONS_H */
