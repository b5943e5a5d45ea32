/* exit/abort/assert: handed to the boot library, which prints the exit protocol line
 * (`kiln: exit <status>`) or the panic report. boot is in every image (it is the entry), but
 * nolibc cannot `require` it: boot requires libc, and the resolver refuses cycles. */
#include <stdlib.h>

#include <print/print.h>

_Noreturn void kiln_exit(int status);
_Noreturn void kiln_panic(const char *msg);

_Noreturn void exit(int status)
{
	kiln_exit(status);
}

_Noreturn void _Exit(int status)
{
	kiln_exit(status);
}

_Noreturn void abort(void)
{
	kiln_panic("abort() called");
}

_Noreturn void __assert_fail(const char *expr, const char *file, unsigned line, const char *func)
{
	char msg[256];
	ksnprintf(msg, sizeof msg, "assertion \"%s\" failed in %s at %s:%u", expr, func, file, line);
	kiln_panic(msg);
}
