// SPDX-License-Identifier: Apache-2.0
/* Signal names as users write them (kill -s, --stop-signal, an image's
 * StopSignal, runc's kill), for every command and the runtime alike. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "lib.h"

int ctw_parse_signal(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	uint64_t n;
	if (ctw_parse_u64(s, 1, 64, &n) == 0)
		return (int)n;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int sig = 1; sig < 32; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && !strcasecmp(abbrev, s))
			return sig;
	}
	if (!strncasecmp(s, "RTMIN+", 6) && ctw_parse_u64(s + 6, 0, 30, &n) == 0 &&
	    SIGRTMIN + (int)n <= SIGRTMAX)
		return SIGRTMIN + (int)n;
	return -EINVAL;
}
