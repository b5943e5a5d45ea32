/* What boot needs from the platform. */
#ifndef PLAT_PLAT_H
#define PLAT_PLAT_H

#include <stdint.h>

struct hvm_start_info;

/* First call of kiln_boot_main: registers the serial console, reads the start info (command
 * line, memory map). Never fails: a bad start info is reported and treated as empty. */
void plat_early_init(const struct hvm_start_info *si);

/* The command line from the start info ("" if none). Stays valid (copied into the image). */
const char *plat_cmdline(void);

/* The start info as given (NULL if the magic was wrong). */
const struct hvm_start_info *plat_start_info(void);

/* Writes status to the exit port (isa-debug-exit, 0x501); halts if that returns. */
_Noreturn void plat_exit(int status);

#endif
