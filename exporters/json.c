// SPDX-License-Identifier: Apache-2.0
/* JSON string escaping for the CLI's --json event streams. */
#include <stdio.h>
#include <string.h>

#include "exporters.h"

void ctw_json_string_n(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			/* Control bytes and bytes >= 0x80 are escaped one by one:
			 * event data need not be valid UTF-8. */
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void ctw_json_string(FILE *f, const char *s)
{
	ctw_json_string_n(f, s ? s : "", s ? strlen(s) : 0);
}
