// SPDX-License-Identifier: Apache-2.0
/*
 * --record FILE and --replay FILE: the ring buffer's records as the kernel
 * side wrote them, kept in a file instead of being decoded, and decoded
 * later (on another machine, without root).  Recording costs a copy per
 * record; the decoding, the expensive part, happens at replay.
 *
 * The file: "CTWTRACE", a version (__u32, little-endian as the records
 * are), 4 bytes of zeros, CLOCK_REALTIME - CLOCK_MONOTONIC when it was made
 * (__s64, for -t), then for each record its length (__u32) and its bytes
 * (a struct ctw_trace_event and its payload), padded to 8 bytes.  The records are
 * this machine's contract (bpf/trace.h): a recording is replayed by a
 * ctrwatch of the same version.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "internal.h"

#define MAGIC "CTWTRACE"
#define VERSION 1
#define HEADER 24

int ctw_trace_record_start(struct ctw_outbuf *o, int64_t realtime_off)
{
	uint32_t v = VERSION;

	put_n(o, MAGIC, 8);
	put_n(o, &v, sizeof(v));
	put_n(o, "\0\0\0\0", 4);
	put_n(o, &realtime_off, sizeof(realtime_off));
	return ctw_outbuf_flush(o);
}

void ctw_trace_record(struct ctw_outbuf *o, const void *rec, uint32_t len)
{
	static const char pad[8];

	put_n(o, &len, sizeof(len));
	put_n(o, rec, len);
	put_n(o, pad, (8 - (len + sizeof(len)) % 8) % 8);
}

/* What -e selects, as the kernel side applies it while tracing (see
 * status_wanted and sig_wanted in bpf/trace.bpf.c), applied here to a
 * recording made without it. */
struct wanted {
	bool calls[TRACE_NR_MAX];
	uint64_t signals;
	unsigned status;
	bool quiet_exit;
};

static int wanted_init(struct wanted *w, const struct ctw_trace_select *sel, struct ctw_err *err)
{
	w->signals = sel ? sel->signals : ~0ull;
	w->status = sel && sel->status ? sel->status : CTW_STATUS_ALL;
	w->quiet_exit = sel && (sel->quiet & CTW_QUIET_EXIT);
	if (sel && sel->filter)
		return ctw_trace_parse_filter(sel->filter, w->calls, err);
	for (size_t i = 0; i < TRACE_NR_MAX; i++)
		w->calls[i] = true;
	return 0;
}

static bool is_wanted(const struct wanted *w, const struct ctw_trace_event *ev)
{
	if (ev->nr == TRACE_NR_SIGNAL)
		return ev->args[0] >= 1 && ev->args[0] <= 64 &&
		       (w->signals & (1ull << (ev->args[0] - 1)));
	if (ev->nr == TRACE_NR_EXIT && (ev->ret & 0x7f)) /* killed by a signal */
		return w->signals & (1ull << ((ev->ret & 0x7f) - 1));
	if (ev->nr == TRACE_NR_EXIT)
		return !w->quiet_exit;
	if (ev->nr < 0 || ev->nr >= TRACE_NR_MAX || !w->calls[ev->nr])
		return false;
	if (ev->flags & TRACE_EV_NORETURN)
		return w->status & CTW_STATUS_UNFINISHED;
	return w->status &
	       (ev->ret < 0 && ev->ret >= -4095 ? CTW_STATUS_FAILED : CTW_STATUS_SUCCESSFUL);
}

/* Decode the records in data[0..size). */
static int replay(const char *path, const char *data, size_t size, const struct ctw_trace_fmt *f,
		  const struct wanted *w, int out_fd, const char *container, struct ctw_err *err)
{
	struct ctw_trace_fmt fmt = *f;
	struct ctw_outbuf o;
	size_t off = HEADER;
	uint32_t v;

	if (size < HEADER || memcmp(data, MAGIC, 8))
		return ctw_err_setx(err, EINVAL, "`%s` is not a ctrwatch trace recording", path);
	memcpy(&v, data + 8, sizeof(v));
	if (v != VERSION)
		return ctw_err_setx(err, EINVAL,
				    "`%s`: recording version %u, this ctrwatch reads %u", path, v,
				    VERSION);
	memcpy(&fmt.realtime_off, data + 16, sizeof(fmt.realtime_off));
	ctw_outbuf_init(&o, out_fd, 1 << 20);
	while (off + sizeof(uint32_t) <= size) {
		struct ctw_trace_event ev;
		uint32_t len;

		memcpy(&len, data + off, sizeof(len));
		off += sizeof(len);
		if (len > size - off || len < sizeof(ev)) {
			ctw_outbuf_fini(&o);
			return ctw_err_setx(err, EINVAL, "`%s`: a record is cut short at byte %zu",
					    path, off);
		}
		/* a copy: the file's bytes need not be aligned for the struct */
		memcpy(&ev, data + off, sizeof(ev));
		if (sizeof(ev) + ev.payload_len <= len && is_wanted(w, &ev)) {
			_cleanup_free_ void *rec = xmalloc(len);

			memcpy(rec, data + off, len);
			ctw_trace_format_event(&o, &fmt, rec, (const uint8_t *)rec + sizeof(ev),
					       container);
		}
		off += len;
		off += (8 - (len + sizeof(len)) % 8) % 8;
	}
	ctw_outbuf_fini(&o);
	if (o.error)
		return ctw_err_set(err, -o.error, "write the lines");
	return 0;
}

int ctw_trace_replay(const char *path, const struct ctw_trace_fmt *f,
		     const struct ctw_trace_select *sel, int out_fd, const char *container,
		     struct ctw_err *err)
{
	_cleanup_free_ struct wanted *w = xcalloc(1, sizeof(*w));
	struct stat st;
	void *data;
	int fd, rc;

	rc = wanted_init(w, sel, err);
	if (rc < 0)
		return rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ctw_err_set(err, errno, "open `%s`", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ctw_err_setx(err, EINVAL, "`%s` is not a ctrwatch trace recording", path);
	}
	/* mapped, not read: recordings can be large */
	data = st.st_size ? mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (data == MAP_FAILED)
		return ctw_err_setx(err, EINVAL, "`%s` is not a ctrwatch trace recording", path);
	rc = replay(path, data, st.st_size, f, w, out_fd, container, err);
	munmap(data, st.st_size);
	return rc;
}
