/* The workloads of workload.h. Sizes and op counts keep a run of the region allocator (which
 * never reuses memory) within WL_REGION_BYTES_MAX, so all three allocators run the same code. */
#include "workload.h"

const struct wl_desc wl_all[] = {
	{"small", "200k calls, 16-256 B objects, 1024 live slots"},
	{"mixed", "40k calls, 16 B-8 KiB log-distributed, 256 live slots"},
	{"pages", "4k calls, 1-8 page allocations, 128 live slots"},
};
const int wl_count = sizeof(wl_all) / sizeof(wl_all[0]);

#define MAX_SLOTS 1024

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static inline uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct slot {
	unsigned char *p;
	size_t n;
};

long wl_run(const char *name, const struct wl_api *api, uint64_t *sum)
{
	static struct slot slots[MAX_SLOTS];
	int kind, nslots;
	long calls;
	if (streq(name, "small"))
		kind = 0, nslots = 1024, calls = 200000;
	else if (streq(name, "mixed"))
		kind = 1, nslots = 256, calls = 40000;
	else if (streq(name, "pages"))
		kind = 2, nslots = 128, calls = 4000;
	else
		return -1;
	uint64_t s = 0x9e3779b97f4a7c15ull, acc = 0;
	long done = 0;
	for (int i = 0; i < nslots; i++)
		slots[i].p = 0;
	while (done < calls) {
		uint64_t r = next(&s);
		struct slot *sl = &slots[r % (uint64_t)nslots];
		if (sl->p) {
			acc += sl->p[0] + sl->p[sl->n - 1];
			if (kind == 2)
				api->pfree(api->ctx, sl->p, sl->n >> 12);
			else
				api->free(api->ctx, sl->p);
			sl->p = 0;
		} else {
			size_t n;
			r >>= 16;
			if (kind == 0)
				n = 16 + (r % 241);
			else if (kind == 1)
				n = (size_t)16 << (r % 10), n += (r >> 8) % n; /* 16 B .. 16 KiB, log-uniform */
			else
				n = (1 + (r % 8)) << 12;
			if (kind == 1 && n > 8192)
				n = 8192;
			sl->p = kind == 2 ? api->palloc(api->ctx, n >> 12) : api->malloc(api->ctx, n);
			if (!sl->p)
				return -2;
			sl->n = n;
			sl->p[0] = (unsigned char)r;
			sl->p[n - 1] = (unsigned char)(r >> 8);
		}
		done++;
	}
	for (int i = 0; i < nslots; i++) {
		if (!slots[i].p)
			continue;
		acc += slots[i].p[0];
		if (kind == 2)
			api->pfree(api->ctx, slots[i].p, slots[i].n >> 12);
		else
			api->free(api->ctx, slots[i].p);
		slots[i].p = 0;
		done++;
	}
	*sum = acc;
	return done;
}
