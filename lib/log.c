// SPDX-License-Identifier: Apache-2.0
/* Logging to stderr, as text or as JSON lines (for the DaemonSet). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "lib.h"

static enum ctw_log_level log_level = CTW_LOG_WARN;
static enum ctw_log_format log_format = CTW_LOG_TEXT;
static int log_fd = STDERR_FILENO;

static const char *const level_names[] = {
	[CTW_LOG_ERROR] = "error",
	[CTW_LOG_WARN] = "warn",
	[CTW_LOG_INFO] = "info",
	[CTW_LOG_DEBUG] = "debug",
};

void ctw_log_set_level(enum ctw_log_level lvl)
{
	log_level = lvl;
}
enum ctw_log_level ctw_log_get_level(void)
{
	return log_level;
}
void ctw_log_set_format(enum ctw_log_format fmt)
{
	log_format = fmt;
}
void ctw_log_set_fd(int fd)
{
	log_fd = fd;
}

int ctw_log_parse_level(const char *s, enum ctw_log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum ctw_log_level)i;
			return 0;
		}
	}
	if (!strcmp(s, "warning")) {
		*out = CTW_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

void ctw_vlog(enum ctw_log_level lvl, const char *fmt, va_list ap)
{
	if (lvl > log_level)
		return;
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* One write per entry: lines from several processes appending to one
	 * log file (an engine's runtime log) never interleave. */
	char line[4096];
	FILE *f = fmemopen(line, sizeof(line) - 1, "w");
	if (!f)
		return;
	if (log_format == CTW_LOG_JSON) {
		char ts[48];
		ctw_format_time(ctw_realtime_ns(), ts, sizeof(ts));
		fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[lvl]);
		ctw_json_fput(f, msg, n, CTW_JSON_UTF8);
		fputs("}\n", f);
	} else if (lvl == CTW_LOG_ERROR || lvl == CTW_LOG_WARN) {
		fprintf(f, "ctrwatch: %s%s\n", lvl == CTW_LOG_WARN ? "warning: " : "", msg);
	} else {
		fprintf(f, "ctrwatch: %s\n", msg);
	}
	long len = ftell(f);
	fclose(f);
	if (len > 0 && write(log_fd, line, (size_t)len) < 0) {
		/* nowhere to say it */
	}
}

void ctw_log(enum ctw_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctw_vlog(lvl, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings are our info, its info our debug, its debug dropped
	 * unless we are at debug level already. */
	enum ctw_log_level lvl = level == LIBBPF_WARN ? CTW_LOG_INFO : CTW_LOG_DEBUG;
	if (level == LIBBPF_DEBUG && log_level < CTW_LOG_DEBUG)
		return 0;
	ctw_vlog(lvl, fmt, ap);
	return 0;
}

void ctw_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
