// SPDX-License-Identifier: Apache-2.0
/*
 * The container's PID 1 (tini's loop): every signal but the synchronous
 * ones is blocked and taken with sigtimedwait, so there are no async
 * handlers; what arrives is
 * forwarded to the command, zombies are reaped with waitpid(-1, WNOHANG),
 * and we exit with the command's status (128+N when a signal killed it).
 */
#include <errno.h>
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

int init_loop(pid_t child)
{
	sigset_t set;
	waited_set(&set);
	int code = -1;
	for (;;) {
		siginfo_t si;
		struct timespec ts = {1, 0};
		int sig = sigtimedwait(&set, &si, &ts);
		if (sig > 0 && sig != SIGCHLD) {
			/* SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
			 * SIGWINCH and the rest: the command decides. */
			if (kill(child, sig) < 0 && errno == ESRCH)
				code = code < 0 ? 128 + sig : code;
		}
		for (;;) {
			int ws;
			pid_t p = waitpid(-1, &ws, WNOHANG);
			if (p <= 0)
				break;
			if (p == child)
				code = wait_status_to_exit(ws);
		}
		if (code >= 0)
			return code;
	}
}
