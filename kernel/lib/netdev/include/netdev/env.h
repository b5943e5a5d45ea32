/* The environment every network library gets injected: a millisecond clock, an allocator and a
 * random source. The same stack code then builds for the guest (TSC clock, alloc_default) and
 * for the host (clock_gettime, malloc) where it is tested against Linux and fuzzed. */
#ifndef KILN_NETDEV_ENV_H
#define KILN_NETDEV_ENV_H

#include <stddef.h>
#include <stdint.h>

struct net_env_ops {
	uint64_t (*now_ms)(void *ctx);             /* monotonic milliseconds */
	void *(*alloc)(void *ctx, size_t size);    /* NULL when out of memory */
	void (*free)(void *ctx, void *p);
	uint32_t (*random)(void *ctx);             /* ISNs, ports, IP ids: unpredictable on a guest */
};

struct net_env {
	const struct net_env_ops *ops;
	void *ctx;
};

static inline uint64_t net_now(const struct net_env *e) { return e->ops->now_ms(e->ctx); }
static inline void *net_alloc(const struct net_env *e, size_t n) { return e->ops->alloc(e->ctx, n); }
static inline void net_free(const struct net_env *e, void *p) { if (p) e->ops->free(e->ctx, p); }
static inline uint32_t net_random(const struct net_env *e) { return e->ops->random(e->ctx); }

/* Byte order helpers (the wire is big-endian). Unaligned-safe: headers sit at any offset. */
static inline uint16_t net_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t net_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void net_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void net_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
