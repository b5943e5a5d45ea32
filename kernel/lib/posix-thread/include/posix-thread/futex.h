/* The futex table, for the thread code's CLONE_CHILD_CLEARTID wake (and anyone else in the
 * kernel who wakes an app's futex word). */
#ifndef POSIX_THREAD_FUTEX_H
#define POSIX_THREAD_FUTEX_H

#include <stdint.h>

/* Wake up to n threads waiting on the word at addr (any bitset); returns how many. */
int posix_futex_wake(const volatile uint32_t *addr, int n);

#endif
