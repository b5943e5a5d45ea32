/* Without --test this app only explains itself; with --test, boot runs ktest_run_all()
 * instead of main and the guest tests of every selected library run. */
#include <stdio.h>

int main(void)
{
	puts("selftest: build me with --test to run the guest tests:");
	puts("  node bin/kiln.js run apps/selftest --test");
	return 0;
}
