// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for config.json (spec/: the walker, parse.c,
 * parse_linux.c, the writer) and the cgroupsPath forms.
 *
 * Invariants:
 *  - a rejected input has a message that starts with the file's name;
 *  - an accepted one, written back, parses again, and writing that gives
 *    the same text (the writer and the parser agree on every field);
 *  - a process or resources object alone (exec --process, update
 *    --resources) never crashes, and cgroupsPath is either refused with a
 *    message or becomes a path without a ".." component.
 * One input is read by one of the three parsers, chosen by its size (the
 * JSON parse dominates the cost of a run; a third of the inputs go to each
 * entry point instead of every input to all three).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../spec/spec.h"

static void check_msg(const struct ctw_err *err, const char *name)
{
	if (strncmp(err->msg, name, strlen(name)))
		abort();
}

static void config(const uint8_t *data, size_t size)
{
	struct ctw_err err = {0};
	struct ctw_spec *s = NULL;
	if (ctw_spec_parse("fuzz.json", (const char *)data, size, &s, &err)) {
		if (s)
			abort();
		check_msg(&err, "fuzz.json");
		return;
	}
	char *a = ctw_spec_to_json(s, false);
	struct ctw_spec *t = NULL;
	if (ctw_spec_parse("again.json", a, strlen(a), &t, &err)) {
		fprintf(stderr, "round trip failed: %s\n%s\n", err.msg, a);
		abort();
	}
	char *b = ctw_spec_to_json(t, false);
	if (strcmp(a, b)) {
		fprintf(stderr, "not a fixed point:\n%s\n%s\n", a, b);
		abort();
	}
	char out[4096];
	if (ctw_spec_cgroups_path(s->linux.cgroups_path, "default", out, sizeof(out), &err) == 0) {
		for (char *p = strstr(out, ".."); p; p = strstr(p + 1, ".."))
			if ((p == out || p[-1] == '/') && (!p[2] || p[2] == '/'))
				abort();
	} else if (!err.msg[0]) {
		abort();
	}
	free(a);
	free(b);
	ctw_spec_free(t);
	ctw_spec_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctw_err err = {0};
	if (size % 3 == 0) {
		struct ctw_spec_process *p = NULL;
		if (ctw_spec_process_parse("process.json", (const char *)data, size, &p, &err))
			check_msg(&err, "process.json");
		ctw_spec_process_free(p);
	} else if (size % 3 == 1) {
		struct ctw_spec_resources res;
		if (ctw_spec_resources_parse("resources.json", (const char *)data, size, &res,
					     &err) == 0)
			ctw_spec_resources_fini(&res);
		else
			check_msg(&err, "resources.json");
	} else {
		config(data, size);
	}
	return 0;
}
