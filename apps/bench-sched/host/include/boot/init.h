#ifndef HOST_BOOT_INIT_H
#define HOST_BOOT_INIT_H
/* The host harness calls the scheduler's init itself. */
#define KILN_INIT(cls, prio, fn) int (*const host_init_##cls)(void) = fn
#endif
