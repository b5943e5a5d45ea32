/* Guest tests of the socket calls' internals, through the syscall table over the loopback
 * stack (the selftest image has no NIC): a full descriptor table keeps an accepted connection
 * queued, bad pointers change nothing, and poll's idle step drives the stack. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <syscall/syscall.h>
#include <test/test.h>
#include <vfs/vfs.h>

#define SYS(nr, a, b, c, d, e, f) kiln_syscall_dispatch((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
#define NR_SOCKET 41
#define NR_CONNECT 42
#define NR_ACCEPT 43
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_BIND 49
#define NR_LISTEN 50
#define NR_GETSOCKNAME 51
#define NR_GETSOCKOPT 55

struct sin {
	uint16_t family, port;
	uint32_t addr;
	uint8_t zero[8];
};

/* Unmapped on every Kiln image (the top of the lower half). */
#define WILD ((void *)0x00007ffffffff000ul)

static struct sin loopback(uint16_t port_be)
{
	struct sin a = {2, port_be, __builtin_bswap32(0x7f000001u), {0}};
	return a;
}

/* A listener on 127.0.0.1 and a client connected to it (the connection waits in the backlog). */
static int pair(int *l, int *c)
{
	*l = (int)SYS(NR_SOCKET, 2, 1, 0, 0, 0, 0);
	*c = (int)SYS(NR_SOCKET, 2, 1, 0, 0, 0, 0);
	struct sin a = loopback(0);
	uint32_t len = sizeof a;
	if (*l < 0 || *c < 0 || SYS(NR_BIND, *l, &a, sizeof a, 0, 0, 0) || SYS(NR_LISTEN, *l, 4, 0, 0, 0, 0) ||
	    SYS(NR_GETSOCKNAME, *l, &a, &len, 0, 0, 0))
		return -1;
	a.addr = __builtin_bswap32(0x7f000001u);
	return (int)SYS(NR_CONNECT, *c, &a, sizeof a, 0, 0, 0); /* blocking: the handshake runs */
}

KTEST(posix_socket, accept_with_no_free_descriptor_keeps_the_connection)
{
	int l, c;
	KT_ASSERT_EQ(pair(&l, &c), 0);
	int dups[80], n = 0;
	while (n < 80 && (dups[n] = vfs_dup(0)) >= 0)
		n++;
	KT_ASSERT(n < 80); /* the table filled */
	KT_ASSERT_EQ(SYS(NR_ACCEPT, l, 0, 0, 0, 0, 0), -EMFILE);
	vfs_close(dups[--n]);
	long a = SYS(NR_ACCEPT, l, 0, 0, 0, 0, 0);
	KT_ASSERT(a >= 0); /* the same connection, still queued */
	KT_ASSERT_EQ(SYS(NR_SENDTO, c, "hi", 2, 0, 0, 0), 2);
	char b[4];
	KT_ASSERT_EQ(SYS(NR_RECVFROM, a, b, sizeof b, 0, 0, 0), 2);
	while (n)
		vfs_close(dups[--n]);
	vfs_close((int)a);
	vfs_close(c);
	vfs_close(l);
}

KTEST(posix_socket, bad_pointers_are_efault_and_lose_nothing)
{
	int l, c;
	KT_ASSERT_EQ(pair(&l, &c), 0);
	struct sin peer;
	uint32_t len = sizeof peer;
	KT_ASSERT_EQ(SYS(NR_ACCEPT, l, WILD, &len, 0, 0, 0), -EFAULT);
	KT_ASSERT_EQ(SYS(NR_ACCEPT, l, &peer, WILD, 0, 0, 0), -EFAULT);
	long a = SYS(NR_ACCEPT, l, &peer, &len, 0, 0, 0); /* the connection was not lost */
	KT_ASSERT(a >= 0);
	KT_ASSERT_EQ(len, 16u);
	KT_ASSERT_EQ(peer.addr, __builtin_bswap32(0x7f000001u));
	KT_ASSERT_EQ(SYS(NR_SENDTO, c, WILD, 10, 0, 0, 0), -EFAULT);
	KT_ASSERT_EQ(SYS(NR_SENDTO, c, "abc", 3, 0, 0, 0), 3);
	KT_ASSERT_EQ(SYS(NR_RECVFROM, a, WILD, 3, 0, 0, 0), -EFAULT);
	char b[4];
	KT_ASSERT_EQ(SYS(NR_RECVFROM, a, b, sizeof b, 0, WILD, &len), -EFAULT);
	KT_ASSERT_EQ(SYS(NR_RECVFROM, a, b, sizeof b, 0, 0, 0), 3); /* the bytes are all there */
	KT_ASSERT_EQ(memcmp(b, "abc", 3), 0);
	int v;
	KT_ASSERT_EQ(SYS(NR_GETSOCKOPT, a, 1, 3, &v, WILD, 0), -EFAULT);
	int32_t neg = -1;
	KT_ASSERT_EQ(SYS(NR_GETSOCKOPT, a, 1, 3, &v, &neg, 0), -EINVAL);
	KT_ASSERT_EQ(SYS(NR_GETSOCKOPT, 0, 1, 3, &v, &len, 0), -ENOTSOCK); /* the console */
	vfs_close((int)a);
	vfs_close(c);
	vfs_close(l);
}

KTEST(posix_socket, poll_kick_and_idle_drive_the_stack)
{
	/* A datagram sent to ourselves waits in the stack's local queue until something drives
	 * the stack: vfs_poll_kick and vfs_poll_idle (what poll/select/epoll_wait call) must. */
	long u = SYS(NR_SOCKET, 2, 2, 0, 0, 0, 0), v = SYS(NR_SOCKET, 2, 2 | VFS_O_NONBLOCK, 0, 0, 0, 0);
	struct sin a = loopback(__builtin_bswap16(7777));
	KT_ASSERT_EQ(SYS(NR_BIND, v, &a, sizeof a, 0, 0, 0), 0);
	KT_ASSERT_EQ(SYS(NR_SENDTO, u, "x", 1, 0, &a, sizeof a), 1);
	KT_ASSERT_EQ(vfs_poll((int)v, VFS_POLLIN), 0); /* queued, not delivered yet */
	vfs_poll_kick();
	KT_ASSERT_EQ(vfs_poll((int)v, VFS_POLLIN), VFS_POLLIN);
	char b[2];
	KT_ASSERT_EQ(SYS(NR_RECVFROM, v, b, sizeof b, 0, 0, 0), 1);
	KT_ASSERT_EQ(SYS(NR_SENDTO, u, "y", 1, 0, &a, sizeof a), 1);
	vfs_poll_idle(UINT64_MAX);
	KT_ASSERT_EQ(vfs_poll((int)v, VFS_POLLIN), VFS_POLLIN);
	/* A non-blocking recv drives the stack once before it says EAGAIN. */
	KT_ASSERT_EQ(SYS(NR_RECVFROM, v, b, sizeof b, 0, 0, 0), 1);
	KT_ASSERT_EQ(SYS(NR_SENDTO, u, "z", 1, 0, &a, sizeof a), 1);
	KT_ASSERT_EQ(SYS(NR_RECVFROM, v, b, sizeof b, 0, 0, 0), 1);
	KT_ASSERT_EQ(SYS(NR_RECVFROM, v, b, sizeof b, 0, 0, 0), -EAGAIN);
	vfs_close((int)u);
	vfs_close((int)v);
}
