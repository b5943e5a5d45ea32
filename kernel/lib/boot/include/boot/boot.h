#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#include <stdint.h>

struct hvm_start_info;
struct arch_trap_frame;

/* TSC at the first instruction of the PVH entry (stamped at CPL 0 by arch-x86_64). */
extern uint64_t kiln_boot_entry_tsc;
/* TSC right before main (or the test runner). */
extern uint64_t kiln_boot_main_tsc;

/* Runs the exit hooks (newest first; skipped if one of them exits or faults), prints
 * "kiln: exit <status>" and writes status to the exit port. */
_Noreturn void kiln_exit(int status);

/* Registers fn to run at kiln_exit, including after a fatal exception (so keep it simple).
 * At most 8: 0, -EINVAL (null) or -ENOMEM (full). */
int kiln_atexit(void (*fn)(void));

/* Prints "kiln: fatal: panic: <msg>", a frame-pointer backtrace, exits 255. msg is printed
 * as is (no format directives). */
_Noreturn void kiln_panic(const char *msg);

/* A fault catcher: the trap report calls it first, on the trap stack at CPL 3. One that does
 * not return (it arch_longjmps back into the code that armed it, after arch_trap_rearm) turns
 * the fault into an event that code can check: for tests of what the CPU must refuse. One
 * catcher at a time; NULL disarms. It is disarmed before it is called. */
typedef void (*kiln_trap_catcher)(const struct arch_trap_frame *f);
void kiln_trap_catch(kiln_trap_catcher fn);

/* Entered from arch-x86_64 at CPL 3 on the boot stack. */
_Noreturn void kiln_boot_main(struct hvm_start_info *si);

/* Prints "kiln: bt #i 0x..." lines: #0 = pc, exact (only if pc is nonzero), then #1..#31 the
 * return addresses of the frame-pointer chain from fp (symbolize them at address - 1),
 * bounded to the stack holding sp: stops at a null, misaligned, out-of-stack or
 * non-increasing frame pointer. */
void kiln_backtrace(uint64_t pc, uint64_t fp, uint64_t sp);

#endif
