// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for layer extraction (image/layer.c): the input is a layer
 * blob (tar, or gzip of a tar) extracted into a fresh directory.  What is
 * checked is the safety contract: whatever the archive holds, nothing lands
 * outside the layer — the sandbox around the layer directory holds only the
 * layer and an untouched canary, and the diff_id is the sha256 of the
 * uncompressed stream whenever extraction succeeds.  Extraction is capped
 * at 64 MiB as an import caps it (struct layer_budget).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../../image/internal.h"

static char sandbox[64];
static char layer[128];
static char canary[128];

static void cleanup(void)
{
	ctw_rm_rf(sandbox);
}

static void setup(void)
{
	snprintf(sandbox, sizeof(sandbox), "/tmp/fuzz-layer.XXXXXX");
	if (!mkdtemp(sandbox))
		abort();
	snprintf(layer, sizeof(layer), "%s/root", sandbox);
	snprintf(canary, sizeof(canary), "%s/canary", sandbox);
	if (ctw_write_file(canary, "canary\n", 7, true) < 0)
		abort();
	ctw_log_set_level(CTW_LOG_ERROR);
	atexit(cleanup);
}

static void check_sandbox(void)
{
	char *c = NULL;
	if (ctw_read_file(canary, &c, NULL) < 0 || strcmp(c, "canary\n"))
		abort(); /* written through */
	free(c);
	char p[256];
	snprintf(p, sizeof(p), "%s/escaped", sandbox);
	struct stat st;
	if (lstat(p, &st) == 0)
		abort(); /* created next to the layer */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sandbox[0])
		setup();
	if (mkdir(layer, 0755) < 0)
		abort();
	int fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct layer_result res;
	struct ctw_err err = {0};
	/* A gzip bomb stops at the cap, as in an import. */
	struct layer_budget budget = {.max = 64 << 20};
	int r = layer_extract(path, layer, &budget, &res, &err);
	if (r == 0) {
		/* the blob digest is the sha256 of exactly the input */
		char want[DIGEST_LEN];
		sha256_buf(data, size, want);
		if (strcmp(want, res.digest) || res.size != size)
			abort();
	} else if (!err.msg[0]) {
		abort(); /* every failure says why */
	}
	close(fd);
	check_sandbox();
	if (ctw_rm_rf(layer) < 0)
		abort();
	return 0;
}
