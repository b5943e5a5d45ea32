/* nolibc <sys/types.h>: the POSIX integer types apps expect. */
#ifndef KILN_NOLIBC_SYS_TYPES_H
#define KILN_NOLIBC_SYS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;
typedef long off_t;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned int mode_t;
typedef long time_t;

#endif
