/* Memory: brk, anonymous and private file-backed mmap, munmap, mremap, mprotect, madvise.
 * Guest RAM is identity-mapped and shared by the kernel and the app, so a mapping is pages
 * from the default allocator (zeroed), tracked in a table so munmap/mremap know their size. */
#include <syscall/syscall.h>
#include <alloc/alloc.h>
#include <vfs/vfs.h>

#define PAGE ALLOC_PAGE_SIZE
#define PAGES(n) (((size_t)(n) + PAGE - 1) / PAGE)

#define PROT_EXEC_K 0x4
#define MAP_SHARED_K 0x01
#define MAP_PRIVATE_K 0x02
#define MAP_FIXED_K 0x10
#define MAP_ANONYMOUS_K 0x20
#define MAP_FIXED_NOREPLACE_K 0x100000
#define MREMAP_MAYMOVE_K 1
#define MREMAP_FIXED_K 2
#define SYS_ENODEV 19
#define SYS_EACCES 13

struct mapping {
	uintptr_t addr;
	size_t pages; /* what the allocator gave (freed as one) */
	size_t live;  /* pages the app still sees (munmap/mremap of a tail shrinks it) */
};

/* Allocated at the first mmap: an image that never maps pays nothing (the image's .bss must
 * stay small: it sits below 2 MiB with the code). */
static struct mapping *maps;
static size_t nmaps;
#define TABLE_PAGES PAGES(CONFIG_POSIX_MM_MAX_MAPPINGS * sizeof(struct mapping))

static struct mapping *find(uintptr_t addr)
{
	for (size_t i = 0; i < nmaps; i++)
		if (addr >= maps[i].addr && addr < maps[i].addr + maps[i].live * PAGE)
			return &maps[i];
	return NULL;
}

static void *map_pages(size_t pages)
{
	struct alloc *a = alloc_default();
	if (!maps && a)
		maps = alloc_palloc(a, TABLE_PAGES);
	if (!maps || nmaps == CONFIG_POSIX_MM_MAX_MAPPINGS)
		return NULL;
	void *p = a ? alloc_palloc(a, pages) : NULL;
	if (!p)
		return NULL;
	__builtin_memset(p, 0, pages * PAGE);
	maps[nmaps++] = (struct mapping){(uintptr_t)p, pages, pages};
	return p;
}

static void unmap(struct mapping *m)
{
	alloc_pfree(alloc_default(), (void *)m->addr, m->pages);
	*m = maps[--nmaps];
}

static long sys_mmap(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	size_t len = (size_t)a2;
	int prot = (int)a3, flags = (int)a4, fd = (int)a5;
	if (len == 0 || len > ((size_t)1 << 40) || (a6 & (PAGE - 1)))
		return -SYS_EINVAL;
	if (prot & PROT_EXEC_K)
		return -SYS_EACCES; /* W^X: the app gets no new executable memory */
	if (flags & (MAP_FIXED_K | MAP_FIXED_NOREPLACE_K))
		return -SYS_ENOMEM; /* the address space is the identity map: no placing */
	int type = flags & 3;
	if (type != MAP_PRIVATE_K && type != MAP_SHARED_K)
		return -SYS_EINVAL;
	struct vfs_stat st;
	if (!(flags & MAP_ANONYMOUS_K)) {
		int r = vfs_fstat(fd, &st);
		if (r < 0)
			return r;
		if (type == MAP_SHARED_K)
			return -SYS_ENODEV; /* would need write-back to the file */
		if (!VFS_S_ISREG(st.st_mode))
			return -SYS_ENODEV;
	}
	void *p = map_pages(PAGES(len));
	if (!p)
		return -SYS_ENOMEM;
	if (!(flags & MAP_ANONYMOUS_K)) {
		/* A private copy of the file's bytes from the offset; past its end reads as zeros. */
		size_t done = 0;
		while (done < len) {
			long r = vfs_pread(fd, (char *)p + done, len - done, a6 + (int64_t)done);
			if (r < 0) {
				unmap(find((uintptr_t)p));
				return r;
			}
			if (r == 0)
				break;
			done += (size_t)r;
		}
	}
	return (long)p;
}
SYSCALL_REGISTER(9, sys_mmap);

static long sys_munmap(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	uintptr_t addr = (uintptr_t)a1;
	size_t len = (size_t)a2;
	if ((addr & (PAGE - 1)) || len == 0)
		return -SYS_EINVAL;
	size_t pages = PAGES(len);
	/* Linux unmaps whatever of the range is mapped; here: whole mappings inside the range
	 * are freed, a mapping's tail is hidden (its pages return when its head goes too). */
	for (;;) {
		struct mapping *hit = NULL;
		for (size_t i = 0; i < nmaps && !hit; i++) {
			struct mapping *m = &maps[i];
			uintptr_t mend = m->addr + m->live * PAGE;
			if (m->addr < addr + pages * PAGE && addr < mend)
				hit = m;
		}
		if (!hit)
			return 0;
		if (addr <= hit->addr) {
			uintptr_t end = addr + pages * PAGE;
			if (end >= hit->addr + hit->live * PAGE) {
				unmap(hit);
				continue;
			}
			/* The head of a mapping: kept (the allocator frees whole blocks only). */
			return 0;
		}
		hit->live = (addr - hit->addr) / PAGE;
		if (hit->live == 0)
			unmap(hit);
	}
}
SYSCALL_REGISTER(11, sys_munmap);

static long sys_mprotect(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	/* Pages stay read-write and never executable (W^X); asking for exec is refused. */
	if ((a1 & (PAGE - 1)))
		return -SYS_EINVAL;
	if (a3 & PROT_EXEC_K)
		return -SYS_EACCES;
	return 0;
}
SYSCALL_REGISTER(10, sys_mprotect);

static long sys_madvise(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1 & (PAGE - 1))
		return -SYS_EINVAL;
	return 0; /* advice only: MADV_DONTNEED/FREE keep the pages (and their contents) */
}
SYSCALL_REGISTER(28, sys_madvise);

static long sys_mremap(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	uintptr_t old = (uintptr_t)a1;
	size_t old_len = (size_t)a2, new_len = (size_t)a3;
	int flags = (int)a4;
	if ((old & (PAGE - 1)) || new_len == 0 || (flags & ~(MREMAP_MAYMOVE_K | MREMAP_FIXED_K)))
		return -SYS_EINVAL;
	if (flags & MREMAP_FIXED_K)
		return -SYS_EINVAL;
	struct mapping *m = find(old);
	if (!m || m->addr != old)
		return -SYS_EFAULT;
	size_t want = PAGES(new_len);
	if (want <= m->pages) {
		m->live = want; /* shrinking, or growing back within what was allocated */
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE_K))
		return -SYS_ENOMEM;
	void *p = map_pages(want);
	if (!p)
		return -SYS_ENOMEM;
	size_t keep = PAGES(old_len) < m->live ? PAGES(old_len) : m->live;
	__builtin_memcpy(p, (void *)old, keep * PAGE);
	unmap(m);
	return (long)p;
}
SYSCALL_REGISTER(25, sys_mremap);

/* brk: one region of CONFIG_POSIX_MM_BRK_KIB reserved at the first call. */
static uintptr_t brk_base, brk_cur, brk_end;

static long sys_brk(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (!brk_base) {
		size_t pages = PAGES((size_t)CONFIG_POSIX_MM_BRK_KIB * 1024);
		struct alloc *a = alloc_default();
		void *p = a ? alloc_palloc(a, pages) : NULL;
		if (!p)
			return 0;
		brk_base = brk_cur = (uintptr_t)p;
		brk_end = brk_base + pages * PAGE;
	}
	uintptr_t want = (uintptr_t)a1;
	if (want >= brk_base && want <= brk_end) {
		if (want > brk_cur)
			__builtin_memset((void *)brk_cur, 0, want - brk_cur);
		brk_cur = want;
	}
	return (long)brk_cur; /* Linux: the current break, unchanged on failure */
}
SYSCALL_REGISTER(12, sys_brk);

size_t posix_mm_mapping_count(void)
{
	return nmaps;
}
