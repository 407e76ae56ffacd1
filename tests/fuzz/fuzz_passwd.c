// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the passwd/group reader (runtime/passwd.c): the
 * container writes its /etc/passwd and /etc/group, so `run -u` and `exec -u`
 * parse hostile bytes.  The input is "USER[:GROUP]\n" followed by the file
 * text; it is looked up as a passwd file and as a group file.  What is
 * checked: no crash, no read past the input (the text is copied into a
 * buffer of exactly its size, ASan watches), and what a lookup returns is
 * consistent with the text: a name found by name is that name, an id found
 * by id is that id, supplementary groups are ids that occur in the text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/internal.h"

/* A uid or gid as the reader takes one: 1-10 digits, at most 2^32 - 1. */
static bool is_id(const char *s)
{
	size_t n = strlen(s);
	return n && n <= 10 && strspn(s, "0123456789") == n && strtoull(s, NULL, 10) <= UINT32_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl || nl - data > 255)
		return 0;
	char spec[256];
	memcpy(spec, data, (size_t)(nl - data));
	spec[nl - data] = '\0';
	if (strlen(spec) != (size_t)(nl - data))
		return 0; /* a NUL in USER: the CLI never passes one */
	size_t len = size - (size_t)(nl - data) - 1;
	char *text = malloc(len ? len : 1); /* exactly len: ASan sees overreads */
	if (!text)
		abort();
	memcpy(text, nl + 1, len);

	char *colon = strchr(spec, ':');
	const char *group = NULL;
	if (colon) {
		*colon = '\0';
		group = colon + 1;
	}
	bool numeric = is_id(spec);

	struct pw_entry pw;
	if (passwd_find(text, len, spec, &pw)) {
		if (!pw.name || !pw.home || strchr(pw.name, ':') || strchr(pw.name, '\n') ||
		    strchr(pw.home, '\n'))
			abort();
		if (numeric ? pw.uid != strtoul(spec, NULL, 10) : strcmp(pw.name, spec))
			abort();
		if (!memmem(text, len, pw.name, strlen(pw.name)))
			abort();
		pw_entry_fini(&pw);
	} else if (pw.name || pw.home) {
		abort(); /* nothing allocated when nothing is found */
	}

	gid_t gid = 0xdeadbeef, *groups = NULL;
	size_t n = 0;
	bool found = group_scan(text, len, group, spec, &gid, &groups, &n);
	if (!found && gid != 0xdeadbeef)
		abort();
	if (found && group && is_id(group) && gid != strtoul(group, NULL, 10))
		abort();
	for (size_t i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof(id), "%u", (unsigned)groups[i]);
		if (!memmem(text, len, id, strlen(id)))
			abort();
	}
	if (n > 65536)
		abort();
	free(groups);
	free(text);
	return 0;
}
