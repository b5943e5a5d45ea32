/* A UDP key-value store: GET/SET/DEL in one datagram each (protocol: README.md). Open
 * addressing with linear probing and backward-shift deletion; entries are malloc'ed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/socket.h>

#define MAX_KEYS 65536
#define SLOTS (2 * MAX_KEYS) /* a power of 2, at most half full */
#define KEY_MAX 250
#define VALUE_MAX 1400

struct entry {
	uint32_t hash;
	uint16_t klen, vlen;
	char data[]; /* key, then value */
};

static struct entry **slots; /* SLOTS of them, from calloc (too big for the image's .bss) */
static unsigned nkeys;

static uint32_t fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

/* The slot holding the key, or the empty slot where it would go. */
static uint32_t find(const char *key, size_t klen, uint32_t h)
{
	uint32_t i = h & (SLOTS - 1);
	while (slots[i] && !(slots[i]->hash == h && slots[i]->klen == klen && memcmp(slots[i]->data, key, klen) == 0))
		i = (i + 1) & (SLOTS - 1);
	return i;
}

/* Backward-shift deletion: later entries of the probe run move up into the hole. */
static void remove_at(uint32_t i)
{
	free(slots[i]);
	slots[i] = NULL;
	nkeys--;
	for (uint32_t j = (i + 1) & (SLOTS - 1); slots[j]; j = (j + 1) & (SLOTS - 1)) {
		uint32_t home = slots[j]->hash & (SLOTS - 1);
		/* Entry j may fill hole i unless its home lies cyclically in (i, j]. */
		int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			slots[i] = slots[j];
			slots[j] = NULL;
			i = j;
		}
	}
}

#define REPLY(s) (memcpy(out, s, sizeof(s) - 1), (long)(sizeof(s) - 1))

/* Handles one request; returns the reply's length in out (room for "VALUE " + VALUE_MAX). */
static long handle(char *req, size_t n, char *out)
{
	while (n && (req[n - 1] == '\n' || req[n - 1] == '\r'))
		n--;
	if (n < 4 || req[3] != ' ')
		return REPLY("ERROR unknown command");
	char *key = req + 4, *end = req + n;
	char *sp = memchr(key, ' ', (size_t)(end - key));
	size_t klen = (size_t)((sp ? sp : end) - key);
	if (klen == 0 || klen > KEY_MAX)
		return REPLY("ERROR bad key");
	uint32_t h = fnv1a(key, klen), i = find(key, klen, h);
	if (memcmp(req, "GET", 3) == 0 || memcmp(req, "DEL", 3) == 0) {
		if (sp)
			return REPLY("ERROR bad key");
		if (!slots[i])
			return REPLY("NOT_FOUND");
		if (req[0] == 'D') {
			remove_at(i);
			return REPLY("OK");
		}
		memcpy(out, "VALUE ", 6);
		memcpy(out + 6, slots[i]->data + klen, slots[i]->vlen);
		return 6 + (long)slots[i]->vlen;
	}
	if (memcmp(req, "SET", 3) != 0 || !sp)
		return REPLY("ERROR unknown command");
	size_t vlen = (size_t)(end - sp - 1);
	if (vlen > VALUE_MAX)
		return REPLY("ERROR value too long");
	if (!slots[i] && nkeys == MAX_KEYS)
		return REPLY("ERROR full");
	struct entry *e = malloc(sizeof(*e) + klen + vlen);
	if (!e)
		return REPLY("ERROR out of memory");
	e->hash = h;
	e->klen = (uint16_t)klen;
	e->vlen = (uint16_t)vlen;
	memcpy(e->data, key, klen);
	memcpy(e->data + klen, sp + 1, vlen);
	if (slots[i])
		free(slots[i]);
	else
		nkeys++;
	slots[i] = e;
	return REPLY("OK");
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 5000;
	if (port < 1 || port > 65535) {
		printf("udp-kv: %s is not a port (1-65535); usage: udp-kv [PORT]\n", argv[1]);
		return 2;
	}
	slots = calloc(SLOTS, sizeof(*slots));
	if (!slots) {
		puts("udp-kv: out of memory for the table");
		return 1;
	}
	const char *why = NULL;
	struct net_stack *st = net_default(&why);
	if (!st) {
		printf("udp-kv: no network: %s\n", why);
		return 1;
	}
	int err = 0;
	struct net_sock *s = net_socket(st, NET_SOCK_DGRAM, &err);
	if (!s || (err = net_bind(s, &(struct net_sockaddr){0, (uint16_t)port}))) {
		printf("udp-kv: cannot bind udp port %d: error %d\n", port, err);
		return 1;
	}
	printf("udp-kv: listening on udp port %d\n", port);
	static char req[2048], out[8 + VALUE_MAX];
	for (;;) {
		struct net_pollitem it = {s, NET_POLLIN, 0};
		net_sock_poll(st, &it, 1, -1);
		struct net_sockaddr from;
		long n;
		while ((n = net_recvfrom(s, req, sizeof(req), &from)) >= 0) {
			long r = handle(req, (size_t)n, out);
			net_sendto(s, out, (size_t)r, &from); /* a reply that cannot go now is lost, like the request could be */
		}
	}
}
