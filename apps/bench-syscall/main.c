#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "paths.h"

static long via_musl(void)
{
	return getppid();
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	if (via_syscall_insn() != 0 || via_rewritten() != 0 || via_musl() != 0) {
		printf("getppid did not return 0\n");
		return 1;
	}
	unsigned long lstar = bench_loop(via_syscall_insn, iters);
	unsigned long fast = bench_loop(via_rewritten, iters);
	unsigned long musl = bench_loop(via_musl, iters);
	unsigned long call = bench_loop(via_call, iters);
	printf("BENCH syscall lstar=%lu fast=%lu musl=%lu call=%lu iters=%lu\n", lstar, fast, musl, call, iters);
	return 0;
}
