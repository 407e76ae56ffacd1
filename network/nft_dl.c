// SPDX-License-Identifier: Apache-2.0
/* libnftables, loaded on first use (see lib.h): only bridge networking and
 * published ports write nftables rules. */
#include <nftables/libnftables.h>

#include "internal.h"

static struct ctw_dl_lib libnftables = {.soname = "libnftables.so.1", .package = "libnftables1"};
#define L libnftables

CTW_DL_FN(L, struct nft_ctx *, nft_ctx_new, (uint32_t flags), (flags))
CTW_DL_VOID(L, nft_ctx_free, (struct nft_ctx * ctx), (ctx))
CTW_DL_FN(L, int, nft_ctx_buffer_output, (struct nft_ctx * ctx), (ctx))
CTW_DL_FN(L, int, nft_ctx_buffer_error, (struct nft_ctx * ctx), (ctx))
CTW_DL_FN(L, const char *, nft_ctx_get_error_buffer, (struct nft_ctx * ctx), (ctx))
CTW_DL_FN(L, int, nft_run_cmd_from_buffer, (struct nft_ctx * nft, const char *buf), (nft, buf))
