/* The measured paths; paths.c is also compiled natively on the host (kiln bench syscall). */
long via_syscall_insn(void); /* stays `syscall`: the number comes from memory */
long via_rewritten(void);    /* `movl $110, %eax; syscall`: rewritten at link time in the image */
long via_call(void);         /* a plain function call that does nothing */
unsigned long bench_loop(long (*fn)(void), unsigned long iters);
