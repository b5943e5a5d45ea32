/* Makes the buddy allocator the default over all free RAM, early (class plat, after plat-kvm). */
#include <alloc/plat.h>
#include <alloc/buddy.h>
#include <boot/init.h>

static int alloc_buddy_init(void)
{
	return alloc_init_from_plat(alloc_buddy_create);
}

KILN_INIT(plat, 900, alloc_buddy_init);
