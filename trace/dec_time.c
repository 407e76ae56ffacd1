// SPDX-License-Identifier: Apache-2.0
/* Time: timespecs and timevals ({tv_sec=0, tv_nsec=1000000}), clocks,
 * timer flags, nanosleep's remainder. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include "internal.h"

void put_timespec(struct ctw_outbuf *o, const void *p)
{
	struct timespec ts;

	memcpy(&ts, p, sizeof(ts));
	put_s(o, "{tv_sec=");
	put_i64(o, ts.tv_sec);
	put_s(o, ", tv_nsec=");
	put_u64(o, (uint64_t)ts.tv_nsec);
	put_c(o, '}');
}

void put_timeval(struct ctw_outbuf *o, const void *p)
{
	struct timeval tv;

	memcpy(&tv, p, sizeof(tv));
	put_s(o, "{tv_sec=");
	put_i64(o, tv.tv_sec);
	put_s(o, ", tv_usec=");
	put_i64(o, tv.tv_usec);
	put_c(o, '}');
}

static void timespec_arg(struct dctx *d, int i, bool out)
{
	struct timespec ts;

	if (!item_copy(d, i, TRACE_CAP_MEM, out, &ts, sizeof(ts), sizeof(ts)))
		put_ptr(d->o, d->ev->args[i]);
	else
		put_timespec(d->o, &ts);
}

ARGFN(arg_timespec)
{
	timespec_arg(d, i, false);
}

ARGFN(arg_timespec_out)
{
	if (ev_failed(d))
		put_ptr(d->o, d->ev->args[i]);
	else
		timespec_arg(d, i, true);
}

/* nanosleep's remainder: written only when a signal cut the sleep */
ARGFN(arg_timespec_rem)
{
	int64_t ret = d->ev->ret;

	if (ret == -EINTR || ret == -516 /* ERESTART_RESTARTBLOCK */)
		timespec_arg(d, i, true);
	else
		put_ptr(d->o, d->ev->args[i]);
}

ARGFN(arg_timeval_out)
{
	struct timeval tv;

	if (ev_failed(d) || !item_copy(d, i, TRACE_CAP_MEM, true, &tv, sizeof(tv), sizeof(tv)))
		put_ptr(d->o, d->ev->args[i]);
	else
		put_timeval(d->o, &tv);
}

ARGFN(arg_clockid)
{
	static const struct xlat t[] = {
		XLAT(CLOCK_REALTIME),
		XLAT(CLOCK_MONOTONIC),
		XLAT(CLOCK_PROCESS_CPUTIME_ID),
		XLAT(CLOCK_THREAD_CPUTIME_ID),
		XLAT(CLOCK_MONOTONIC_RAW),
		XLAT(CLOCK_REALTIME_COARSE),
		XLAT(CLOCK_MONOTONIC_COARSE),
		XLAT(CLOCK_BOOTTIME),
		XLAT(CLOCK_REALTIME_ALARM),
		XLAT(CLOCK_BOOTTIME_ALARM),
		XLAT(CLOCK_TAI),
	};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], false, NULL);
}

ARGFN(arg_timer_flags)
{
	static const struct xlat t[] = {XLAT(TIMER_ABSTIME)};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

ARGFN(arg_itimer_which)
{
	static const struct xlat t[] = {XLAT(ITIMER_REAL), XLAT(ITIMER_VIRTUAL), XLAT(ITIMER_PROF)};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "ITIMER_???");
}
