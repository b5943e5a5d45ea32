#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	printf("Hello from musl, pid %d, %d args:", (int)getpid(), argc);
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	FILE *f = fopen("/tmp.txt", "w");
	if (!f) {
		perror("fopen");
		return 1;
	}
	fprintf(f, "line %d\n", 42);
	fclose(f);
	char buf[64] = {0};
	f = fopen("/tmp.txt", "r");
	if (!f || !fgets(buf, sizeof buf, f)) {
		perror("read back");
		return 1;
	}
	fclose(f);
	printf("read back: %s", buf);
	char *big = malloc(1 << 20);
	memset(big, 7, 1 << 20);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("malloc 1 MiB ok, clock %s\n", ts.tv_sec >= 0 ? "ok" : "bad");
	free(big);
	return 3;
}
