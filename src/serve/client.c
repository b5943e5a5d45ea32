/* The fast `kiln run`: a small client of the resident helper (`kiln serve`, src/serve/server.ts),
 * so that a run costs a connect and a warm VM instead of a Node start. bin/kiln runs it as
 * `kiln-client <checkout> run ...`. It sends the arguments, working directory, terminal flags,
 * the environment that changes a run and the newest source date; it relays the guest's stdout,
 * stderr and exit status. Whatever the helper cannot serve (no helper yet, stale sources, another
 * environment, a request the plain CLI must run) runs the plain way: exec node bin/kiln.js. With
 * no helper it starts one, detached, for the next run. Protocol: frames of a type byte, a 32-bit
 * little-endian length and the payload (src/serve/protocol.ts). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "kiln-serve 1"
/* Until the helper accepts the request: a helper that never answers must not hang us. */
#define ACCEPT_TIMEOUT_MS 5000

extern char **environ;

static const char *root;
static int run_argc;
static char **run_argv;
static volatile sig_atomic_t got_signal;
static int sock = -1;

static void plain(void) {
	char **argv = calloc((size_t)run_argc + 3, sizeof *argv);
	static char script[4096];
	if (!argv) _exit(70);
	snprintf(script, sizeof script, "%s/bin/kiln.js", root);
	argv[0] = "node";
	argv[1] = script;
	for (int i = 0; i < run_argc; i++) argv[i + 2] = run_argv[i];
	if (sock >= 0) close(sock);
	execvp("node", argv);
	fprintf(stderr, "kiln: cannot run node: %s. Install Node.js (>= 20) and put it on PATH.\n", strerror(errno));
	_exit(127);
}

/* A detached `node bin/kiln.js serve` (its own session, stdio on /dev/null), for the next run. */
static void start_helper(void) {
	if (getenv("KILN_NO_HELPER_START")) return;
	pid_t pid = fork();
	if (pid < 0) return;
	if (pid == 0) {
		if (setsid() < 0 || fork() != 0) _exit(0);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		static char script[4096];
		snprintf(script, sizeof script, "%s/bin/kiln.js", root);
		char *argv[] = {"node", script, "serve", NULL};
		execvp("node", argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

/* FNV-1a, 64 bits: the checkout's key in the socket's name (src/serve/socket-path.ts). */
static uint64_t fnv1a(const char *s) {
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int64_t mtime_us(const struct stat *st) {
	return (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
}

static int ends_with(const char *s, const char *tail) {
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The newest .ts source under dir (tests excluded), as bin/kiln.js judges its bundle. */
static int64_t newest_source(const char *dir, int depth) {
	int64_t newest = 0;
	DIR *d = opendir(dir);
	if (!d || depth > 16) {
		if (d) closedir(d);
		return 0;
	}
	struct dirent *e;
	char p[4096];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.') continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (e->d_type == DT_DIR) {
			int64_t n = newest_source(p, depth + 1);
			if (n > newest) newest = n;
		} else if (ends_with(e->d_name, ".ts") && !ends_with(e->d_name, ".test.ts") && stat(p, &st) == 0 && mtime_us(&st) > newest) {
			newest = mtime_us(&st);
		}
	}
	closedir(d);
	return newest;
}

static int64_t file_mtime(const char *p) {
	struct stat st;
	return stat(p, &st) == 0 ? mtime_us(&st) : 0;
}

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *data, size_t n) {
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p) _exit(70);
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void field(struct buf *b, const char *s) { put(b, s, strlen(s) + 1); }

/* The variables that change what a run does; the helper serves only a client whose match its own. */
static int relevant(const char *kv) {
	return strncmp(kv, "KILN_", 5) == 0 || strncmp(kv, "NO_COLOR=", 9) == 0 || strncmp(kv, "FORCE_COLOR=", 12) == 0 ||
	       strncmp(kv, "TERM=", 5) == 0 || strncmp(kv, "PATH=", 5) == 0;
}

static int write_all(int fd, const char *p, size_t n) {
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void on_signal(int sig) {
	got_signal = sig;
	/* The helper sees the end of our stream and stops the guest (status 137, as kill does to the plain CLI). */
	if (sock >= 0) shutdown(sock, SHUT_WR);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "kiln-client: usage: kiln-client <checkout> run ... (bin/kiln runs it)\n");
		return 2;
	}
	/* Canonical, as Node names the checkout (the socket's name hashes it). */
	root = realpath(argv[1], NULL);
	if (!root) root = argv[1];
	run_argc = argc - 2;
	run_argv = argv + 2;
	const char *off = getenv("KILN_NO_SERVE");
	if (off && strcmp(off, "1") == 0) plain();

	char dir[3072], path[4096];
	const char *d = getenv("KILN_SERVE_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	if (d && *d) snprintf(dir, sizeof dir, "%s", d);
	else if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/kiln", xdg);
	else snprintf(dir, sizeof dir, "/tmp/kiln-%u", (unsigned)getuid());
	/* Only a directory that is ours and closed to others: anyone else could plant a socket there. */
	struct stat st;
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT) start_helper(); /* it makes the directory */
		plain();
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) plain();
	int n = snprintf(path, sizeof path, "%s/%016llx.sock", dir, (unsigned long long)fnv1a(root));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (n < 0 || (size_t)n >= sizeof sa.sun_path) plain();
	memcpy(sa.sun_path, path, (size_t)n + 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) plain();
	if (connect(sock, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(sock);
		sock = -1;
		start_helper();
		plain();
	}

	char p[4096], num[32];
	snprintf(p, sizeof p, "%s/src", root);
	int64_t newest = newest_source(p, 0), t;
	snprintf(p, sizeof p, "%s/package-lock.json", root);
	if ((t = file_mtime(p)) > newest) newest = t;
	snprintf(p, sizeof p, "%s/bin/kiln.js", root);
	if ((t = file_mtime(p)) > newest) newest = t;

	struct buf req = {0};
	field(&req, VERSION);
	snprintf(num, sizeof num, "%lld", (long long)newest);
	field(&req, num);
	char *cwd = getcwd(NULL, 0);
	if (!cwd) plain();
	field(&req, cwd);
	char tty[4] = {isatty(0) ? '1' : '0', isatty(1) ? '1' : '0', isatty(2) ? '1' : '0', 0};
	field(&req, tty);
	int nenv = 0;
	for (char **e = environ; *e; e++) nenv += relevant(*e);
	snprintf(num, sizeof num, "%d", nenv);
	field(&req, num);
	for (char **e = environ; *e; e++)
		if (relevant(*e)) field(&req, *e);
	for (int i = 0; i < run_argc; i++) field(&req, run_argv[i]);
	if (req.n > 1u << 20) plain();
	unsigned char head[5] = {'R', (unsigned char)req.n, (unsigned char)(req.n >> 8), (unsigned char)(req.n >> 16), (unsigned char)(req.n >> 24)};
	signal(SIGPIPE, SIG_IGN);
	if (write_all(sock, (char *)head, 5) || write_all(sock, req.p, req.n)) plain();

	struct sigaction sa_sig = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa_sig, NULL);
	sigaction(SIGINT, &sa_sig, NULL);
	sigaction(SIGHUP, &sa_sig, NULL);

	int accepted = 0, relayed = 0;
	/* A terminal's input goes to the guest (as the plain CLI connects it), once the run is served. */
	int input = isatty(0);
	struct buf in = {0};
	char chunk[65536];
	for (;;) {
		struct pollfd pfd[2] = {{.fd = sock, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
		int r = poll(pfd, accepted && input ? 2 : 1, accepted ? -1 : ACCEPT_TIMEOUT_MS);
		if (r < 0 && errno == EINTR) continue;
		if (r > 0 && accepted && input && pfd[1].revents) {
			char line[4096 + 5];
			ssize_t k = read(0, line + 5, sizeof line - 5);
			if (k > 0) {
				line[0] = 'I';
				line[1] = (char)k;
				line[2] = (char)(k >> 8);
				line[3] = line[4] = 0;
				write_all(sock, line, (size_t)k + 5);
			} else if (!(k < 0 && errno == EINTR)) {
				input = 0; /* end of input: the guest reads no more, the run goes on */
			}
			if (!(pfd[0].revents)) continue;
		}
		if (r == 0) {
			fprintf(stderr, "kiln: the helper (kiln serve) did not answer; running the plain way.\n");
			plain();
		}
		ssize_t got = read(sock, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR) continue;
		if (got <= 0) {
			if (!relayed) plain(); /* nothing shown yet: the plain run repeats nothing */
			fprintf(stderr, "kiln: the helper (kiln serve) went away during the run; run again, or set KILN_NO_SERVE=1.\n");
			return 1;
		}
		put(&in, chunk, (size_t)got);
		size_t at = 0;
		while (in.n - at >= 5) {
			unsigned char *h = (unsigned char *)in.p + at;
			size_t len = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
			if (len > 1u << 24) {
				fprintf(stderr, "kiln: a malformed answer from the helper (kiln serve); set KILN_NO_SERVE=1 to run without it.\n");
				return 1;
			}
			if (in.n - at - 5 < len) break;
			const char *body = in.p + at + 5;
			switch (h[0]) {
			case 'A':
				accepted = 1;
				break;
			case 'O':
			case 'E':
				relayed = 1;
				if (write_all(h[0] == 'O' ? 1 : 2, body, len) && h[0] == 'O' && errno == EPIPE) {
					/* Our reader left (a pipe into head): stop the guest as the plain CLI's EPIPE would. */
					shutdown(sock, SHUT_WR);
				}
				break;
			case 'X': {
				char s[16] = {0};
				memcpy(s, body, len < 15 ? len : 15);
				int status = atoi(s);
				if (got_signal == SIGINT || got_signal == SIGHUP) {
					signal(got_signal, SIG_DFL);
					raise(got_signal);
				}
				return status;
			}
			case 'S':
				/* The helper runs older code than the checkout's: it exits; a new one starts. */
				close(sock);
				sock = -1;
				start_helper();
				plain();
				break;
			case 'P':
				if (relayed) {
					fprintf(stderr, "kiln: the helper (kiln serve) gave up after output; run again with KILN_NO_SERVE=1.\n");
					return 1;
				}
				plain();
				break;
			default:
				fprintf(stderr, "kiln: a malformed answer from the helper (kiln serve); set KILN_NO_SERVE=1 to run without it.\n");
				return 1;
			}
			at += 5 + len;
		}
		memmove(in.p, in.p + at, in.n - at);
		in.n -= at;
	}
}
