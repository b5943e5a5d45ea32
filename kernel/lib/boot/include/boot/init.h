/* Init functions, run by kiln_boot_main before main in class order
 *   early, plat, lib, rootfs, sys, late
 * and, within a class, lower priority (0-999) first; equal priorities run in link order.
 *
 *   static int net_init(void) { ... return 0 or -errno; }
 *   KILN_INIT(lib, 200, net_init);
 *
 * A nonzero return stops the boot with
 *   kiln: fatal: init net_init (lib, 200) failed: <err>
 * Each entry lives in section .kiln_init.<class digit>.<priority as written>, which the
 * linker script sorts by name; boot still orders them numerically at run time, so "5" and
 * "100" need no zero padding. */
#ifndef BOOT_INIT_H
#define BOOT_INIT_H

#include <stdint.h>

typedef int (*kiln_init_fn)(void);

struct kiln_init_entry {
	kiln_init_fn fn;
	const char *name;
	uint16_t cls;
	uint16_t prio;
};

#define KILN_INIT_CLASS_early 1
#define KILN_INIT_CLASS_plat 2
#define KILN_INIT_CLASS_lib 3
#define KILN_INIT_CLASS_rootfs 4
#define KILN_INIT_CLASS_sys 5
#define KILN_INIT_CLASS_late 6

#define KILN__STR2(x) #x
#define KILN__STR(x) KILN__STR2(x)

#define KILN_INIT(cls, prio, fn)                                                               \
	_Static_assert((prio) >= 0 && (prio) <= 999, "KILN_INIT: priority must be 0-999");     \
	static const struct kiln_init_entry kiln__init_entry_##fn                               \
		__attribute__((used, aligned(8),                                                \
			       section(".kiln_init." KILN__STR(KILN_INIT_CLASS_##cls) "." #prio))) = \
			{fn, #fn, KILN_INIT_CLASS_##cls, (prio)}

#endif
