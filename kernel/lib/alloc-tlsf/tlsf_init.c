/* Makes the tlsf allocator the default over all free RAM, early (class plat, after plat-kvm). */
#include <alloc/plat.h>
#include <alloc/tlsf.h>
#include <boot/init.h>

static int alloc_tlsf_init(void)
{
	return alloc_init_from_plat(alloc_tlsf_create);
}

KILN_INIT(plat, 900, alloc_tlsf_init);
