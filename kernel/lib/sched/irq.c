/* The table of CPL-3 interrupt handlers the scheduler runs for pending vectors. */
#include <sched/irq.h>
#include <sched/sched.h>

#define NVEC (SCHED_IRQ_VECTOR_LAST - SCHED_IRQ_VECTOR_FIRST + 1)

static struct {
	sched_irq_fn fn;
	void *arg;
} handlers[NVEC];
static int attached;

int sched_irq_attach(unsigned vector, sched_irq_fn fn, void *arg)
{
	if (vector < SCHED_IRQ_VECTOR_FIRST || vector > SCHED_IRQ_VECTOR_LAST || !fn)
		return -SCHED_EINVAL;
	unsigned i = vector - SCHED_IRQ_VECTOR_FIRST;
	if (handlers[i].fn)
		return -SCHED_EBUSY;
	handlers[i].fn = fn;
	handlers[i].arg = arg;
	attached++;
	return 0;
}

void sched_irq_detach(unsigned vector)
{
	if (vector < SCHED_IRQ_VECTOR_FIRST || vector > SCHED_IRQ_VECTOR_LAST)
		return;
	unsigned i = vector - SCHED_IRQ_VECTOR_FIRST;
	if (handlers[i].fn)
		attached--;
	handlers[i].fn = 0;
	handlers[i].arg = 0;
}

int sched_irq_attached_count(void)
{
	return attached;
}

void sched_irq_dispatch(uint64_t pending)
{
	while (pending) {
		unsigned i = (unsigned)__builtin_ctzll(pending);
		pending &= pending - 1;
		if (handlers[i].fn)
			handlers[i].fn(handlers[i].arg, SCHED_IRQ_VECTOR_FIRST + i);
	}
}
