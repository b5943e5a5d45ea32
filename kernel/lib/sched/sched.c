/* The default-scheduler hook and the sched_* calls, which forward to it. */
#include <sched/sched.h>
#include <boot/boot.h>
#include <time/time.h>

static struct sched *default_sched;

void sched_set_default(struct sched *s)
{
	default_sched = s;
}

struct sched *sched_default(void)
{
	return default_sched;
}

/* Every call needs a scheduler; calling before the init ran is a configuration bug. */
static struct sched *the(void)
{
	struct sched *s = default_sched;
	if (__builtin_expect(s == 0, 0))
		kiln_panic("sched: no scheduler initialized (select a provider of API sched, e.g. sched-coop)");
	return s;
}

int sched_thread_create(struct sched_thread **out, const struct sched_attr *attr, sched_entry_fn fn,
			void *arg)
{
	struct sched *s = the();
	return s->ops->create(s, out, attr, fn, arg);
}

int sched_thread_join(struct sched_thread *t, void **retval)
{
	struct sched *s = the();
	return s->ops->join(s, t, retval);
}

void sched_thread_exit(void *retval)
{
	struct sched *s = the();
	s->ops->exit(s, retval);
	__builtin_unreachable();
}

struct sched_thread *sched_current(void)
{
	struct sched *s = the();
	return s->ops->current(s);
}

const char *sched_thread_name(const struct sched_thread *t)
{
	struct sched *s = the();
	return s->ops->name(s, t);
}

void sched_yield(void)
{
	struct sched *s = the();
	s->ops->yield(s);
}

int sched_block(uint64_t deadline_ns)
{
	struct sched *s = the();
	return s->ops->block(s, deadline_ns);
}

void sched_wake(struct sched_thread *t)
{
	struct sched *s = the();
	s->ops->wake(s, t);
}

void sched_sleep_until(uint64_t deadline_ns)
{
	struct sched *s = the();
	/* Nobody should wake a sleeper, but if someone does, keep sleeping. */
	while (time_now_ns() < deadline_ns)
		s->ops->block(s, deadline_ns);
}

void sched_sleep_ns(uint64_t ns)
{
	uint64_t now = time_now_ns();
	sched_sleep_until(ns > UINT64_MAX - now ? UINT64_MAX - 1 : now + ns);
}

void sched_set_fsbase(uint64_t base)
{
	struct sched *s = the();
	s->ops->set_fsbase(s, base);
}
