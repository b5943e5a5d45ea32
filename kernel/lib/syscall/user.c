/* Checking app pointers against the page tables (readable at CPL 3): -EFAULT, never a fault. */
#include <syscall/syscall.h>
#include <mmu/mmu.h>

int syscall_user_ok(const void *p, size_t n, int write)
{
	return mmu_range_mapped((uintptr_t)p, n, write);
}

long syscall_user_strlen(const char *p, size_t max)
{
	uintptr_t a = (uintptr_t)p;
	size_t i = 0;
	while (i < max) {
		/* One check per page: the rest of the page is then read directly. */
		size_t in_page = MMU_PAGE_SIZE - ((a + i) & (MMU_PAGE_SIZE - 1));
		if (!mmu_range_mapped(a + i, 1, 0))
			return -SYS_EFAULT;
		for (size_t k = 0; k < in_page && i < max; k++, i++)
			if (p[i] == '\0')
				return (long)i;
	}
	return -SYS_ENAMETOOLONG;
}

int syscall_copy_in(void *dst, const void *user_src, size_t n)
{
	if (!syscall_user_ok(user_src, n, 0))
		return -SYS_EFAULT;
	__builtin_memcpy(dst, user_src, n);
	return 0;
}

int syscall_copy_out(void *user_dst, const void *src, size_t n)
{
	if (!syscall_user_ok(user_dst, n, 1))
		return -SYS_EFAULT;
	__builtin_memcpy(user_dst, src, n);
	return 0;
}
