#ifndef HOST_ARCH_TRAP_H
#define HOST_ARCH_TRAP_H
#include <stdint.h>
void arch_boot_stack_bounds(uintptr_t *lo, uintptr_t *hi);
#endif
