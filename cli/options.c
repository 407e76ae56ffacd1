// SPDX-License-Identifier: Apache-2.0
/* Command options from one typed table (options.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "options.h"
#include "../lib/lib.h"

/* getopt_long's value for options without a short name: past any char. */
#define LONG_ONLY_BASE 256
#define OPTS_MAX 64
/* The help column: as the hand-written pages had it. */
#define HELP_COLUMN 25

static bool takes_arg(const struct ctw_opt *o)
{
	return o->kind != CTW_OPT_FLAG && o->kind != CTW_OPT_FLAG_OFF && o->kind != CTW_OPT_SET &&
	       o->kind != CTW_OPT_COUNT;
}

static int set_value(const struct ctw_opt *o, const char *arg, void *dst, char *why, size_t whylen)
{
	void *field = (char *)dst + o->off;
	uint64_t v;

	switch (o->kind) {
	case CTW_OPT_FLAG: *(bool *)field = true; return 0;
	case CTW_OPT_FLAG_OFF: *(bool *)field = false; return 0;
	case CTW_OPT_SET: *(int *)field = (int)o->value; return 0;
	case CTW_OPT_COUNT: (*(int *)field)++; return 0;
	case CTW_OPT_STR: *(const char **)field = arg; return 0;
	case CTW_OPT_UINT:
		if (ctw_parse_u64(arg, o->min, o->max, &v)) {
			snprintf(why, whylen, "want a number from %llu to %llu", o->min, o->max);
			return -1;
		}
		*(unsigned *)field = (unsigned)v;
		return 0;
	case CTW_OPT_DURATION:
		if (ctw_parse_duration_ns(arg, &v) || !v) {
			snprintf(why, whylen, "not a duration (10, 1.5s, 200ms)");
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	case CTW_OPT_CUSTOM: return o->parse(arg, field, why, whylen);
	}
	return -1;
}

static int usage_error(const char *cmd, const char *msg)
{
	return ctw_cmd_usage_error(cmd, "%s: %s", cmd, msg);
}

int ctw_opts_parse_style(const struct ctw_opts_style *style, const char *cmd,
			 const struct ctw_opt *tab, int argc, char **argv, void *dst)
{
	int (*bad_option)(const char *, const char *) =
		style->usage_error ? style->usage_error : usage_error;
	int (*bad_value)(const char *, const char *) =
		style->value_error ? style->value_error : bad_option;
	struct option lopts[2 * OPTS_MAX + 1];
	size_t nl = 0;
	char shorts[OPTS_MAX * 2 + 2], *sp = shorts;
	size_t n = 0;

	if (style->in_order)
		*sp++ = '+';
	for (; tab[n].name; n++) {
		if (n >= OPTS_MAX)
			return -bad_option(cmd, "too many options (internal)");
		int val = tab[n].short_name ? tab[n].short_name : LONG_ONLY_BASE + (int)n;
		int has_arg = !takes_arg(&tab[n])   ? no_argument
			      : tab[n].optional_arg ? optional_argument
						    : required_argument;

		lopts[nl++] = (struct option){tab[n].name, has_arg, NULL, val};
		if (tab[n].alias)
			lopts[nl++] = (struct option){tab[n].alias, has_arg, NULL, val};
		if (tab[n].short_name) {
			*sp++ = (char)tab[n].short_name;
			if (takes_arg(&tab[n]))
				*sp++ = ':';
		}
	}
	lopts[nl] = (struct option){0};
	*sp = '\0';

	/* 0, not 1: glibc then starts over, ordering ("+") included */
	optind = 0;
	for (;;) {
		int c = style->long_only ? getopt_long_only(argc, argv, shorts, lopts, NULL)
					 : getopt_long(argc, argv, shorts, lopts, NULL);
		const struct ctw_opt *o = NULL;
		char why[160], msg[400];

		if (c == -1)
			break;
		for (size_t i = 0; i < n && !o; i++)
			if (c == (tab[i].short_name ? tab[i].short_name : LONG_ONLY_BASE + (int)i))
				o = &tab[i];
		if (!o) /* getopt said what it was */
			return -bad_option(cmd, "bad option");
		if (set_value(o, optarg, dst, why, sizeof(why))) {
			snprintf(msg, sizeof(msg), "--%s%s%s: %s", o->name, optarg ? " " : "",
				 optarg ? optarg : "", why);
			return -bad_value(cmd, msg);
		}
	}
	return optind;
}

int ctw_opts_parse(const char *cmd, const struct ctw_opt *tab, int argc, char **argv, void *dst)
{
	static const struct ctw_opts_style style = {0};

	return ctw_opts_parse_style(&style, cmd, tab, argc, argv, dst);
}

int ctw_opts_parse_in_order(const char *cmd, const struct ctw_opt *tab, int argc, char **argv,
			    void *dst)
{
	static const struct ctw_opts_style style = {.in_order = true};

	return ctw_opts_parse_style(&style, cmd, tab, argc, argv, dst);
}

int ctw_opts_parse_only(const char *cmd, const struct ctw_opt *tab, int argc, char **argv,
			void *dst)
{
	int first = ctw_opts_parse(cmd, tab, argc, argv, dst);

	if (first < 0)
		return -first;
	if (first < argc)
		return ctw_cmd_usage_error(cmd, "%s: unexpected argument '%s'", cmd, argv[first]);
	return -1;
}

static void print_one(FILE *out, int column, int short_name, const char *name, const char *metavar,
		      bool optional, const char *help)
{
	char head[96];
	int len = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s%s", short_name ? '-' : ' ',
			   short_name ? short_name : ' ', short_name ? ", " : "  ", name,
			   !metavar   ? ""
			   : optional ? "[="
				      : " ",
			   metavar ? metavar : "", metavar && optional ? "]" : "");

	/* a long head gets its text on the next line */
	fputs(head, out);
	if (len + 2 > column) /* two spaces at least: helpgen.py splits there */
		fprintf(out, "\n%*s", column, "");
	else
		fprintf(out, "%*s", column - len, "");
	for (const char *p = help; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		fwrite(p, 1, l, out);
		fputc('\n', out);
		if (!nl)
			break;
		p = nl + 1;
		fprintf(out, "%*s", column, "");
	}
}

static void print_tab(FILE *out, int column, const char *heading, const struct ctw_opt *tab,
		      bool with_help)
{
	const char *section = tab->section ? tab->section : heading;

	fprintf(out, "%s:\n", section);
	for (const struct ctw_opt *o = tab; o->name; o++) {
		if (o->section && strcmp(o->section, section)) {
			section = o->section;
			fprintf(out, "\n%s:\n", section);
		}
		print_one(out, column, o->short_name, o->name, takes_arg(o) ? o->metavar : NULL,
			  o->optional_arg, o->help);
	}
	if (with_help)
		print_one(out, column, 'h', "help", NULL, false, "this text");
}

void ctw_opts_print_section(FILE *out, const char *heading, const struct ctw_opt *tab,
			    bool with_help)
{
	print_tab(out, HELP_COLUMN, heading, tab, with_help);
}

void ctw_opts_print_column(FILE *out, const char *heading, const struct ctw_opt *tab,
			   bool with_help, int column)
{
	print_tab(out, column, heading, tab, with_help);
}

void ctw_opts_print(FILE *out, const struct ctw_opt *tab)
{
	ctw_opts_print_section(out, "Options", tab, true);
}
