/* The same loops natively on the host: getppid() through Linux's syscall instruction. */
#include <stdio.h>
#include <stdlib.h>
#include "paths.h"

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	unsigned long linux_syscall = bench_loop(via_syscall_insn, iters);
	unsigned long call = bench_loop(via_call, iters);
	printf("BENCH host syscall=%lu call=%lu iters=%lu\n", linux_syscall, call, iters);
	return 0;
}
