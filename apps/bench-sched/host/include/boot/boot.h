#ifndef HOST_BOOT_BOOT_H
#define HOST_BOOT_BOOT_H
_Noreturn void kiln_panic(const char *msg);
#endif
