/* Internal to the print library: the conversion spec and sink helpers shared by the
 * integer formatter (format.c) and the floating-point one (float.c). */
#ifndef KILN_PRINT_FORMAT_IMPL_H
#define KILN_PRINT_FORMAT_IMPL_H

#include <print/print.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	KF_MINUS = 1,
	KF_PLUS = 2,
	KF_SPACE = 4,
	KF_HASH = 8,
	KF_ZERO = 16,
};

struct kfmt_spec {
	int flags;
	int width; /* >= 0 */
	int prec;  /* -1: not given */
	char conv;
};

static inline void kfmt_put(struct kfmt_sink *s, char c)
{
	s->total++;
	if (s->len >= s->cap) {
		if (s->flush)
			s->flush(s);
		if (s->len >= s->cap)
			return; /* a bounded buffer: count, drop */
	}
	s->buf[s->len++] = c;
}

static inline void kfmt_fill(struct kfmt_sink *s, char c, long n)
{
	while (n-- > 0)
		kfmt_put(s, c);
}

static inline void kfmt_puts(struct kfmt_sink *s, const char *p, size_t n)
{
	while (n--)
		kfmt_put(s, *p++);
}

/* Emits the prefix (sign, 0x) and a body of body_len chars produced by body(), padded to the
 * spec's width per the flags. zero_ok: whether the 0 flag pads with zeros (not for inf/nan). */
void kfmt_padded(struct kfmt_sink *s, const struct kfmt_spec *sp, const char *prefix, size_t body_len,
		 bool zero_ok, void (*body)(struct kfmt_sink *s, const void *arg), const void *arg);

#if CONFIG_PRINT_FLOAT
void kfmt_float(struct kfmt_sink *s, const struct kfmt_spec *sp, double v);
#endif

#endif
