/* Starts a musl-linked app as Linux starts a process: argv, envp and the auxiliary vector in
 * one array (what _start finds on the stack), handed to musl's __libc_start_main, which sets up
 * TLS from AT_PHDR's PT_TLS, runs the constructors, calls the app's main and exit()s through
 * the exit_group syscall. The app unit renames both (src/build/musl.ts). */
#include <stdint.h>
#include <stddef.h>
#include <random/random.h>
#include <alloc/alloc.h>
#include <mmu/mmu.h>
#include <boot/boot.h>
#include <console/console.h>

int kiln_musl_main(int argc, char **argv, char **envp);
_Noreturn int kiln_musl_libc_start_main(int (*main)(int, char **, char **), int argc, char **argv, void (*init)(void),
					void (*fini)(void), void (*ldso)(void));

/* The image's TLS template (plat-kvm's linker script). */
extern char _kiln_tls_start[], _kiln_tdata_end[], _kiln_tls_end[];
extern char _kiln_tls_align[];

struct phdr64 {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_TLS 7

enum { AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_UID = 11, AT_EUID = 12,
       AT_GID = 13, AT_EGID = 14, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_EXECFN = 31 };

/* Switches to the app's stack and calls musl's start (never returns). */
_Noreturn void kiln_musl_start_on(char *stack_top, int argc, char **block);
__asm__(".pushsection .text.kiln_musl_start_on, \"ax\", @progbits\n"
	".globl kiln_musl_start_on\n"
	".type kiln_musl_start_on, @function\n"
	"kiln_musl_start_on:\n"
	"\tmovq %rdi, %rsp\n"
	"\txorl %ebp, %ebp\n" /* the end of the frame chain for backtraces */
	"\tleaq kiln_musl_main(%rip), %rdi\n"
	"\txorl %ecx, %ecx\n"
	"\txorl %r8d, %r8d\n"
	"\txorl %r9d, %r9d\n"
	"\tcall kiln_musl_libc_start_main\n"
	"\tud2\n"
	".size kiln_musl_start_on, . - kiln_musl_start_on\n"
	".popsection\n");

#define MAX_ARGS 256
static char *env[] = {"HOME=/", "PATH=/bin", "TERM=dumb", "PWD=/", NULL};
static uintptr_t block[MAX_ARGS + 2 + sizeof env / sizeof *env + 2 * 16];
static struct phdr64 tls_phdr;
static uint8_t at_random[16];

int main(int argc, char **argv)
{
	size_t n = 0;
	if (argc > MAX_ARGS)
		argc = MAX_ARGS;
	for (int i = 0; i < argc; i++)
		block[n++] = (uintptr_t)argv[i];
	block[n++] = 0;
	for (size_t i = 0; env[i]; i++)
		block[n++] = (uintptr_t)env[i];
	block[n++] = 0;

	tls_phdr.type = PT_TLS;
	tls_phdr.flags = 4;
	tls_phdr.vaddr = tls_phdr.paddr = (uintptr_t)_kiln_tls_start;
	tls_phdr.filesz = (uint64_t)(_kiln_tdata_end - _kiln_tls_start);
	tls_phdr.memsz = (uint64_t)(_kiln_tls_end - _kiln_tls_start);
	tls_phdr.align = (uintptr_t)_kiln_tls_align ? (uintptr_t)_kiln_tls_align : 1;
	/* The stack protector's canary and musl's other AT_RANDOM uses. */
	if (random_bytes(at_random, sizeof at_random) < 0)
		for (size_t i = 0; i < sizeof at_random; i++)
			at_random[i] = (uint8_t)(0x9e + 31 * i);

	const uintptr_t aux[][2] = {
		{AT_PHDR, (uintptr_t)&tls_phdr}, {AT_PHENT, sizeof tls_phdr}, {AT_PHNUM, 1}, {AT_PAGESZ, 4096},
		{AT_UID, 0}, {AT_EUID, 0}, {AT_GID, 0}, {AT_EGID, 0}, {AT_SECURE, 0}, {AT_CLKTCK, 100},
		{AT_HWCAP, 0}, {AT_RANDOM, (uintptr_t)at_random}, {AT_EXECFN, argc ? (uintptr_t)argv[0] : 0}, {AT_NULL, 0},
	};
	for (size_t i = 0; i < sizeof aux / sizeof *aux; i++) {
		block[n++] = aux[i][0];
		block[n++] = aux[i][1];
	}
	/* The process's own stack, as Linux gives one (the boot stack stays small: it lives in the
	 * image's .bss below 2 MiB), with a guard page below it so an overflow faults by name. */
	size_t pages = ((size_t)CONFIG_MUSL_STACK_KIB * 1024 + 4095) / 4096 + 1;
	struct alloc *a = alloc_default();
	char *stack = a ? alloc_palloc(a, pages) : NULL;
	if (!stack) {
		console_puts("kiln: musl: cannot allocate the app's stack (musl.stack_kib); give the image more memory\n");
		kiln_exit(255);
	}
	mmu_guard_page((uintptr_t)stack);
	kiln_musl_start_on(stack + pages * 4096, argc, (char **)block);
}
