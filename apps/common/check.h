/* The "ok <name>" / "FAIL <name>: why (errno N)" lines of the test apps (posix-test,
 * socket-test), which their tests compare with the same source built natively. The app defines
 * `static int failures;`. A header of its own, included by path, so each app still builds
 * natively from its one main.c. */
#ifndef KILN_APPS_CHECK_H
#define KILN_APPS_CHECK_H

#include <errno.h>
#include <stdio.h>

#define CHECK(name, cond, ...)                                                                    \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok %s\n", name);                                                   \
		} else {                                                                           \
			failures++;                                                                \
			printf("FAIL %s: ", name);                                                 \
			printf(__VA_ARGS__);                                                       \
			printf(" (errno %d)\n", errno);                                            \
		}                                                                                  \
	} while (0)

#endif
