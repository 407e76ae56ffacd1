// SPDX-License-Identifier: Apache-2.0
/* Error objects: a fixed buffer so that they survive clone() and can be
 * written whole to a sync socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib.h"

static int err_vset(struct ctw_err *e, int code, bool with_strerror, const char *fmt, va_list ap)
{
	if (!e)
		return code ? -code : -1;
	e->code = code;
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (with_strerror && code && n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(code));
	return code ? -code : -1;
}

int ctw_err_set(struct ctw_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(e, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int ctw_err_setx(struct ctw_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(e, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int ctw_err_prefix(struct ctw_err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char outer[256], inner[sizeof(e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(outer, sizeof(outer), fmt, ap);
	va_end(ap);
	memcpy(inner, e->msg, sizeof(inner));
	snprintf(e->msg, sizeof(e->msg), "%s: %s", outer, inner);
	return e->code ? -e->code : -1;
}

void ctw_err_clear(struct ctw_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
