/* Makes the region allocator the default over all free RAM, early (class plat, after plat-kvm). */
#include <alloc/plat.h>
#include <alloc/region.h>
#include <boot/init.h>

static int alloc_region_init(void)
{
	return alloc_init_from_plat(alloc_region_create);
}

KILN_INIT(plat, 900, alloc_region_init);
