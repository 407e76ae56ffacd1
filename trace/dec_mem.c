// SPDX-License-Identifier: Apache-2.0
/* Memory: mmap's protections and flags, madvise's advice, mremap, msync and
 * mlock2 flags. */
#include <sys/mman.h>

#include "internal.h"

static const struct xlat prot_flags[] = {
	XLAT(PROT_READ),   XLAT(PROT_WRITE),	 XLAT(PROT_EXEC),
	{0x8, "PROT_SEM"}, XLAT(PROT_GROWSDOWN), XLAT(PROT_GROWSUP),
};

void ctw_trace_format_mmap_prot(struct ctw_outbuf *o, uint64_t prot)
{
	put_flags(o, prot_flags, ARRAY_SIZE(prot_flags), prot, "PROT_NONE");
}

ARGFN(arg_prot)
{
	ctw_trace_format_mmap_prot(d->o, d->ev->args[i]);
}

/* in strace's order */
static const struct xlat map_flags[] = {
	XLAT(MAP_FIXED),       XLAT(MAP_ANONYMOUS),
	XLAT(MAP_32BIT),       XLAT(MAP_NORESERVE),
	XLAT(MAP_POPULATE),    XLAT(MAP_NONBLOCK),
	XLAT(MAP_GROWSDOWN),   XLAT(MAP_DENYWRITE),
	XLAT(MAP_EXECUTABLE),  XLAT(MAP_LOCKED),
	XLAT(MAP_STACK),       XLAT(MAP_HUGETLB),
	{0x80000, "MAP_SYNC"}, {0x100000, "MAP_FIXED_NOREPLACE"},
};

#define MAP_HUGE_SHIFT_ 26
#define MAP_HUGE_MASK_ 0x3full

void ctw_trace_format_mmap_flags(struct ctw_outbuf *o, uint64_t flags)
{
	static const char *const type[] = {"0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"};
	/* the huge page size, log2, as strace writes it: 21<<MAP_HUGE_SHIFT */
	uint64_t huge = (flags >> MAP_HUGE_SHIFT_) & MAP_HUGE_MASK_;

	put_s(o, type[flags & 3]);
	flags &= ~3ull & ~(MAP_HUGE_MASK_ << MAP_HUGE_SHIFT_);
	if (flags) {
		put_c(o, '|');
		put_flags(o, map_flags, ARRAY_SIZE(map_flags), flags, NULL);
	}
	if (huge) {
		put_c(o, '|');
		put_u64(o, huge);
		put_s(o, "<<MAP_HUGE_SHIFT");
	}
}

ARGFN(arg_mflags)
{
	ctw_trace_format_mmap_flags(d->o, (uint32_t)d->ev->args[i]);
}

ARGFN(arg_madvise)
{
	static const struct xlat t[] = {
		XLAT(MADV_NORMAL),
		XLAT(MADV_RANDOM),
		XLAT(MADV_SEQUENTIAL),
		XLAT(MADV_WILLNEED),
		XLAT(MADV_DONTNEED),
		XLAT(MADV_FREE),
		XLAT(MADV_REMOVE),
		XLAT(MADV_DONTFORK),
		XLAT(MADV_DOFORK),
		XLAT(MADV_MERGEABLE),
		XLAT(MADV_UNMERGEABLE),
		XLAT(MADV_HUGEPAGE),
		XLAT(MADV_NOHUGEPAGE),
		XLAT(MADV_DONTDUMP),
		XLAT(MADV_DODUMP),
		XLAT(MADV_WIPEONFORK),
		XLAT(MADV_KEEPONFORK),
		XLAT(MADV_COLD),
		XLAT(MADV_PAGEOUT),
		XLAT(MADV_HWPOISON),
		{22, "MADV_POPULATE_READ"},
		{23, "MADV_POPULATE_WRITE"},
		{24, "MADV_DONTNEED_LOCKED"},
		{25, "MADV_COLLAPSE"},
		{102, "MADV_GUARD_INSTALL"},
		{103, "MADV_GUARD_REMOVE"},
	};

	put_enum_ex(d->o, t, ARRAY_SIZE(t), (int32_t)d->ev->args[i], true, "MADV_???");
}

ARGFN(arg_mremap_flags)
{
	static const struct xlat t[] = {
		{1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

ARGFN(arg_msync_flags)
{
	static const struct xlat t[] = {XLAT(MS_ASYNC), XLAT(MS_INVALIDATE), XLAT(MS_SYNC)};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}

ARGFN(arg_mlock_flags)
{
	static const struct xlat t[] = {{1, "MLOCK_ONFAULT"}};

	put_flags(d->o, t, ARRAY_SIZE(t), (uint32_t)d->ev->args[i], "0");
}
