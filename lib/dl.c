// SPDX-License-Identifier: Apache-2.0
/* Libraries loaded on first use: see lib.h for why. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "lib.h"

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

int ctw_dl_open(struct ctw_dl_lib *lib, struct ctw_err *err)
{
	int ret = 0;

	if (__atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&dl_lock);
	if (!lib->handle) {
		/* RTLD_LOCAL: its symbols must not interpose on anything else. */
		void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

		if (h)
			__atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
		else
			ret = ctw_err_setx(err, ENOENT,
					   "%s (Debian package %s; `make deps` installs it)",
					   dlerror(), lib->package);
	}
	pthread_mutex_unlock(&dl_lock);
	return ret;
}

void *ctw_dl_sym(struct ctw_dl_lib *lib, const char *name)
{
	struct ctw_err err = {0};
	void *sym;

	if (ctw_dl_open(lib, &err) < 0) {
		fprintf(stderr, "ctrwatch: %s\n", err.msg);
		exit(CTW_EXIT_NOTFOUND);
	}
	sym = dlsym(lib->handle, name);
	if (!sym) {
		fprintf(stderr, "ctrwatch: %s: no symbol %s (is %s too old?)\n", lib->soname, name,
			lib->package);
		exit(CTW_EXIT_NOTFOUND);
	}
	return sym;
}
