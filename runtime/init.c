// SPDX-License-Identifier: Apache-2.0
/*
 * What the container's PID 1 inherits (tini's configure_signals): every
 * signal but the synchronous ones blocked, SIGTTIN/SIGTTOU ignored.  The
 * loop itself (sigtimedwait, forward to the command, reap with
 * wait4(-1, WNOHANG), exit with the command's status or 128+N) is
 * ctrwatch-init's, in runtime/stub/ctrwatch-stub.c; wait_status_to_exit()
 * is the same mapping for the runtime's own waits.
 */
#include <signal.h>
#include <sys/wait.h>

#include "internal.h"

int wait_status_to_exit(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 255;
}

/* What the init leaves alone, as tini: the synchronous signals, which the
 * kernel raises in the faulting process itself (blocked, they would kill it
 * outright), and the terminal's stop signals for background reads and
 * writes, ignored. */
static const int unblocked[] = {SIGSEGV, SIGBUS, SIGFPE,  SIGILL, SIGABRT,
				SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};

static void waited_set(sigset_t *set)
{
	sigfillset(set);
	for (size_t i = 0; i < ARRAY_SIZE(unblocked); i++)
		sigdelset(set, unblocked[i]);
}

void init_block_signals(void)
{
	sigset_t set;
	waited_set(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
}
