// SPDX-License-Identifier: Apache-2.0
/* The typed option tables (cli/options.c): parsing into a struct by the
 * table, errors naming the option, aliases, and the help block made from the
 * same table.  The CLI is not in the unit tests' library, so the file is
 * compiled in here with the one function of main.c it calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../cli/options.c"

static char last_error[256];

int ctw_cmd_usage_error(const char *cmd_name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	(void)cmd_name;
	return CTW_EXIT_USAGE;
}

struct args {
	bool flag;
	int family;
	const char *name;
	unsigned count;
	uint64_t ns;
	int odd;
};

static int parse_odd(const char *arg, void *field, char *why, size_t whylen)
{
	int v = atoi(arg);
	if (!(v & 1)) {
		snprintf(why, whylen, "want an odd number");
		return -1;
	}
	*(int *)field = v;
	return 0;
}

#define ARG(f) offsetof(struct args, f)
static const struct ctw_opt tab[] = {
	{.name = "flag",
	 .short_name = 'f',
	 .kind = CTW_OPT_FLAG,
	 .help = "a flag",
	 .off = ARG(flag)},
	{.name = "ipv6",
	 .short_name = '6',
	 .kind = CTW_OPT_SET,
	 .value = 10,
	 .help = "six",
	 .off = ARG(family)},
	{.name = "name",
	 .alias = "called",
	 .kind = CTW_OPT_STR,
	 .metavar = "NAME",
	 .help = "a name,\non two lines",
	 .off = ARG(name)},
	{.name = "count",
	 .short_name = 'c',
	 .kind = CTW_OPT_UINT,
	 .metavar = "N",
	 .min = 1,
	 .max = 9,
	 .help = "1 to 9",
	 .off = ARG(count)},
	{.name = "duration",
	 .short_name = 'd',
	 .kind = CTW_OPT_DURATION,
	 .metavar = "T",
	 .help = "how long",
	 .off = ARG(ns)},
	{.name = "a-very-long-option-name",
	 .kind = CTW_OPT_CUSTOM,
	 .metavar = "ODD",
	 .help = "its text on the next line",
	 .off = ARG(odd),
	 .parse = parse_odd},
	{0},
};

static int parse(struct args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	last_error[0] = '\0';
	opterr = 0;
	return ctw_opts_parse("demo", tab, argc, argv, a);
}

static void test_parse(void **state)
{
	struct args a;
	char *ok[] = {"demo",
		      "-f6",
		      "--called",
		      "x",
		      "op1",
		      "-c",
		      "3",
		      "--duration=1.5s",
		      "--a-very-long-option-name",
		      "7",
		      "op2",
		      NULL};
	int first = parse(&a, 11, ok);
	assert_int_equal(first, 9); /* operands permuted to the end */
	assert_string_equal(ok[first], "op1");
	assert_string_equal(ok[first + 1], "op2");
	assert_true(a.flag);
	assert_int_equal(a.family, 10);
	assert_string_equal(a.name, "x");
	assert_int_equal(a.count, 3);
	assert_int_equal(a.ns, 1500000000ull);
	assert_int_equal(a.odd, 7);

	char *bad_uint[] = {"demo", "--count", "10", NULL};
	assert_int_equal(parse(&a, 3, bad_uint), -CTW_EXIT_USAGE);
	assert_string_equal(last_error, "demo: --count 10: want a number from 1 to 9");
	char *bad_dur[] = {"demo", "-d", "soon", NULL};
	assert_int_equal(parse(&a, 3, bad_dur), -CTW_EXIT_USAGE);
	assert_non_null(strstr(last_error, "demo: --duration soon: not a duration"));
	char *bad_custom[] = {"demo", "--a-very-long-option-name", "4", NULL};
	assert_int_equal(parse(&a, 3, bad_custom), -CTW_EXIT_USAGE);
	assert_string_equal(last_error, "demo: --a-very-long-option-name 4: want an odd number");
	/* in order: options end at the first operand (a command line follows) */
	char *cmdline[] = {"demo", "-f", "ctr", "sh", "-c", "3", NULL};
	memset(&a, 0, sizeof(a));
	int at = ctw_opts_parse_in_order("demo", tab, 6, cmdline, &a);
	assert_int_equal(at, 2);
	assert_true(a.flag);
	assert_int_equal(a.count, 0);
	assert_string_equal(cmdline[at + 2], "-c");

	char *unknown[] = {"demo", "--nope", NULL};
	assert_int_equal(parse(&a, 2, unknown), -CTW_EXIT_USAGE);
	assert_string_equal(last_error, "demo: bad option");
	(void)state;
}

static void test_help(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ctw_opts_print(f, tab);
	fclose(f);
	assert_string_equal(text, "Options:\n"
				  "  -f, --flag             a flag\n"
				  "  -6, --ipv6             six\n"
				  "      --name NAME        a name,\n"
				  "                         on two lines\n"
				  "  -c, --count N          1 to 9\n"
				  "  -d, --duration T       how long\n"
				  "      --a-very-long-option-name ODD\n"
				  "                         its text on the next line\n"
				  "  -h, --help             this text\n");
	free(text);
	(void)state;
}

/* The styles other conventions need: runc's -name (long only, in order,
 * exit 1), Docker's 125 for a bad value; --no-x, --x[=ARG] and sections. */
struct styled {
	bool on;
	const char *opt;
	int n;
};

static int set_opt(const char *arg, void *field, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	*(const char **)field = arg ? arg : "(none)";
	return 0;
}

static const struct ctw_opt styled_tab[] = {
	{.section = "First",
	 .name = "on",
	 .kind = CTW_OPT_FLAG,
	 .help = "on",
	 .off = offsetof(struct styled, on)},
	{.name = "no-on",
	 .kind = CTW_OPT_FLAG_OFF,
	 .help = "off",
	 .off = offsetof(struct styled, on)},
	{.section = "Second",
	 .name = "opt",
	 .kind = CTW_OPT_CUSTOM,
	 .optional_arg = true,
	 .metavar = "ARG",
	 .help = "optional",
	 .off = offsetof(struct styled, opt),
	 .parse = set_opt},
	{.name = "number",
	 .short_name = 'n',
	 .kind = CTW_OPT_UINT,
	 .metavar = "N",
	 .max = 5,
	 .help = "0 to 5",
	 .off = offsetof(struct styled, n)},
	{0},
};

static int usage_1(const char *cmd, const char *msg)
{
	snprintf(last_error, sizeof(last_error), "usage %s: %s", cmd, msg);
	return 1;
}

static int value_125(const char *cmd, const char *msg)
{
	snprintf(last_error, sizeof(last_error), "value %s: %s", cmd, msg);
	return 125;
}

static void test_styles(void **state)
{
	static const struct ctw_opts_style runc = {
		.in_order = true, .long_only = true, .usage_error = usage_1};
	static const struct ctw_opts_style docker = {.value_error = value_125};
	struct styled a = {0};

	opterr = 0;
	char *single[] = {"x", "-on", "-opt=v", "-n", "3", "id", "-on", NULL};
	assert_int_equal(ctw_opts_parse_style(&runc, "x", styled_tab, 7, single, &a), 5);
	assert_true(a.on);
	assert_string_equal(a.opt, "v");
	assert_int_equal(a.n, 3);
	char *off[] = {"x", "--on", "--no-on", "--opt", "id", NULL};
	memset(&a, 0, sizeof(a));
	assert_int_equal(ctw_opts_parse_style(&runc, "x", styled_tab, 5, off, &a), 4);
	assert_false(a.on);
	assert_string_equal(a.opt, "(none)"); /* an optional argument is never the next word */
	char *bad_runc[] = {"x", "-n", "9", NULL};
	assert_int_equal(ctw_opts_parse_style(&runc, "x", styled_tab, 3, bad_runc, &a), -1);
	assert_string_equal(last_error, "usage x: --number 9: want a number from 0 to 5");
	char *unknown[] = {"x", "--nope", NULL};
	assert_int_equal(ctw_opts_parse_style(&docker, "x", styled_tab, 2, unknown, &a),
			 -CTW_EXIT_USAGE);
	char *bad_docker[] = {"x", "-n", "9", NULL};
	assert_int_equal(ctw_opts_parse_style(&docker, "x", styled_tab, 3, bad_docker, &a), -125);
	assert_string_equal(last_error, "value x: --number 9: want a number from 0 to 5");

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ctw_opts_print_column(f, "Options", styled_tab, false, 20);
	fclose(f);
	assert_string_equal(text, "First:\n"
				  "      --on          on\n"
				  "      --no-on       off\n"
				  "\n"
				  "Second:\n"
				  "      --opt[=ARG]   optional\n"
				  "  -n, --number N    0 to 5\n");
	free(text);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_styles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
