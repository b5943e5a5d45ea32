/* The printf formatter core: parsing, integers, chars, strings, pointers; floats go to
 * float.c. Freestanding and allocation-free; every write goes through a kfmt_sink. */
#include "format_impl.h"

/* INT_MAX from the compiler: gcc's <limits.h> needs a libc one under -nostdinc. */
#define INT_MAX __INT_MAX__
#define INT_MIN (-__INT_MAX__ - 1)

void kfmt_padded(struct kfmt_sink *s, const struct kfmt_spec *sp, const char *prefix, size_t body_len,
		 bool zero_ok, void (*body)(struct kfmt_sink *s, const void *arg), const void *arg)
{
	size_t plen = 0;
	while (prefix[plen])
		plen++;
	long pad = (long)sp->width - (long)(plen + body_len);
	bool left = sp->flags & KF_MINUS;
	bool zeros = !left && zero_ok && (sp->flags & KF_ZERO);
	if (!left && !zeros)
		kfmt_fill(s, ' ', pad);
	kfmt_puts(s, prefix, plen);
	if (zeros)
		kfmt_fill(s, '0', pad);
	body(s, arg);
	if (left)
		kfmt_fill(s, ' ', pad);
}

static void pad_before(struct kfmt_sink *s, const struct kfmt_spec *sp, size_t len)
{
	if (!(sp->flags & KF_MINUS))
		kfmt_fill(s, ' ', (long)sp->width - (long)len);
}

static void pad_after(struct kfmt_sink *s, const struct kfmt_spec *sp, size_t len)
{
	if (sp->flags & KF_MINUS)
		kfmt_fill(s, ' ', (long)sp->width - (long)len);
}

static void fmt_int(struct kfmt_sink *s, const struct kfmt_spec *sp, uint64_t v, bool neg, bool is_signed)
{
	char dig[24];
	int nd = 0;
	unsigned base = 10;
	const char *hex = "0123456789abcdef";
	switch (sp->conv) {
	case 'o':
		base = 8;
		break;
	case 'x':
	case 'p':
		base = 16;
		break;
	case 'X':
		base = 16;
		hex = "0123456789ABCDEF";
		break;
	}
	if (!(sp->prec == 0 && v == 0)) {
		do {
			dig[nd++] = hex[v % base];
			v /= base;
		} while (v);
	}
	/* dig[] holds the digits least significant first. */
	char prefix[3] = {0};
	int pl = 0;
	if (is_signed) {
		if (neg)
			prefix[pl++] = '-';
		else if (sp->flags & KF_PLUS)
			prefix[pl++] = '+';
		else if (sp->flags & KF_SPACE)
			prefix[pl++] = ' ';
	}
	if (base == 16 && (sp->flags & KF_HASH) && nd > 0 && !(nd == 1 && dig[0] == '0')) {
		prefix[pl++] = '0';
		prefix[pl++] = sp->conv == 'X' ? 'X' : 'x';
	}
	int digits = sp->prec > nd ? sp->prec : nd;
	/* %#o: the first digit must be 0; add one unless precision already gave it. */
	if (base == 8 && (sp->flags & KF_HASH) && digits == nd && (nd == 0 || dig[nd - 1] != '0'))
		digits++;
	long len = pl + digits;
	long zpad = 0;
	if ((sp->flags & KF_ZERO) && !(sp->flags & KF_MINUS) && sp->prec < 0 && sp->width > len)
		zpad = sp->width - len;
	pad_before(s, sp, (size_t)(len + zpad));
	kfmt_puts(s, prefix, (size_t)pl);
	kfmt_fill(s, '0', zpad + digits - nd);
	while (nd > 0)
		kfmt_put(s, dig[--nd]);
	pad_after(s, sp, (size_t)(len + zpad));
}

static void fmt_str(struct kfmt_sink *s, const struct kfmt_spec *sp, const char *str)
{
	if (!str)
		/* glibc prints "(null)", or nothing when the precision cannot hold it. */
		str = (sp->prec >= 0 && sp->prec < 6) ? "" : "(null)";
	size_t n = 0;
	while ((sp->prec < 0 || n < (size_t)sp->prec) && str[n])
		n++;
	pad_before(s, sp, n);
	kfmt_puts(s, str, n);
	pad_after(s, sp, n);
}

/* %ls: wide characters, ASCII only (others print as '?': there is no locale). */
static void fmt_wstr(struct kfmt_sink *s, const struct kfmt_spec *sp, const __WCHAR_TYPE__ *ws)
{
	if (!ws) {
		fmt_str(s, sp, NULL);
		return;
	}
	size_t n = 0;
	while ((sp->prec < 0 || n < (size_t)sp->prec) && ws[n])
		n++;
	pad_before(s, sp, n);
	for (size_t i = 0; i < n; i++)
		kfmt_put(s, ws[i] > 0 && ws[i] < 128 ? (char)ws[i] : '?');
	pad_after(s, sp, n);
}

enum len_mod { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_J, L_T, L_BIG_L };

int kfmt(struct kfmt_sink *s, const char *fmt, va_list ap_in)
{
	va_list ap;
	va_copy(ap, ap_in);
	size_t start = s->total;
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			kfmt_put(s, *p);
			continue;
		}
		const char *conv_start = p;
		struct kfmt_spec sp = {0, 0, -1, 0};
		for (;;) {
			char c = *++p;
			if (c == '-')
				sp.flags |= KF_MINUS;
			else if (c == '+')
				sp.flags |= KF_PLUS;
			else if (c == ' ')
				sp.flags |= KF_SPACE;
			else if (c == '#')
				sp.flags |= KF_HASH;
			else if (c == '0')
				sp.flags |= KF_ZERO;
			else
				break;
		}
		if (*p == '*') {
			int w = va_arg(ap, int);
			if (w < 0) {
				sp.flags |= KF_MINUS;
				w = w == INT_MIN ? INT_MAX : -w;
			}
			sp.width = w;
			p++;
		} else {
			while (*p >= '0' && *p <= '9') {
				if (sp.width < INT_MAX / 10 - 10)
					sp.width = sp.width * 10 + (*p - '0');
				p++;
			}
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				int pr = va_arg(ap, int);
				sp.prec = pr < 0 ? -1 : pr;
				p++;
			} else {
				sp.prec = 0;
				while (*p >= '0' && *p <= '9') {
					if (sp.prec < INT_MAX / 10 - 10)
						sp.prec = sp.prec * 10 + (*p - '0');
					p++;
				}
			}
		}
		enum len_mod lm = L_NONE;
		switch (*p) {
		case 'h':
			lm = L_H;
			if (p[1] == 'h') {
				lm = L_HH;
				p++;
			}
			p++;
			break;
		case 'l':
			lm = L_L;
			if (p[1] == 'l') {
				lm = L_LL;
				p++;
			}
			p++;
			break;
		case 'z':
			lm = L_Z;
			p++;
			break;
		case 'j':
			lm = L_J;
			p++;
			break;
		case 't':
			lm = L_T;
			p++;
			break;
		case 'L':
			lm = L_BIG_L;
			p++;
			break;
		}
		if (sp.flags & KF_MINUS)
			sp.flags &= ~KF_ZERO;
		if (sp.flags & KF_PLUS)
			sp.flags &= ~KF_SPACE;
		sp.conv = *p;
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v;
			switch (lm) {
			case L_HH: v = (signed char)va_arg(ap, int); break;
			case L_H: v = (short)va_arg(ap, int); break;
			case L_L: v = va_arg(ap, long); break;
			case L_LL: case L_BIG_L: v = va_arg(ap, long long); break;
			case L_Z: v = va_arg(ap, long); break; /* the signed type of size_t's width */
			case L_J: v = va_arg(ap, intmax_t); break;
			case L_T: v = va_arg(ap, ptrdiff_t); break;
			default: v = va_arg(ap, int); break;
			}
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			fmt_int(s, &sp, mag, v < 0, true);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uint64_t v;
			switch (lm) {
			case L_HH: v = (unsigned char)va_arg(ap, unsigned); break;
			case L_H: v = (unsigned short)va_arg(ap, unsigned); break;
			case L_L: v = va_arg(ap, unsigned long); break;
			case L_LL: case L_BIG_L: v = va_arg(ap, unsigned long long); break;
			case L_Z: v = va_arg(ap, size_t); break;
			case L_J: v = va_arg(ap, uintmax_t); break;
			case L_T: v = (uint64_t)va_arg(ap, ptrdiff_t); break;
			default: v = va_arg(ap, unsigned); break;
			}
			fmt_int(s, &sp, v, false, false);
			break;
		}
		case 'p': {
			void *ptr = va_arg(ap, void *);
			if (!ptr) {
				struct kfmt_spec ns = sp;
				ns.prec = -1;
				fmt_str(s, &ns, "(nil)");
			} else {
				/* As glibc: %#lx, the + and space flags apply. */
				sp.flags |= KF_HASH;
				fmt_int(s, &sp, (uint64_t)(uintptr_t)ptr, false, true);
			}
			break;
		}
		case 'c': {
			int wc = va_arg(ap, int); /* %lc: a wint_t, ASCII only */
			char ch = lm == L_L && (wc < 0 || wc > 127) ? '?' : (char)wc;
			pad_before(s, &sp, 1);
			kfmt_put(s, ch);
			pad_after(s, &sp, 1);
			break;
		}
		case 's':
			if (lm == L_L)
				fmt_wstr(s, &sp, va_arg(ap, const __WCHAR_TYPE__ *));
			else
				fmt_str(s, &sp, va_arg(ap, const char *));
			break;
		case 'f':
		case 'F':
		case 'e':
		case 'E':
		case 'g':
		case 'G':
		case 'a':
		case 'A': {
			/* L: long double is printed at double precision (documented). */
			double v = lm == L_BIG_L ? (double)va_arg(ap, long double) : va_arg(ap, double);
#if CONFIG_PRINT_FLOAT
			kfmt_float(s, &sp, v);
#else
			(void)v;
			fmt_str(s, &sp, "<float>");
#endif
			break;
		}
		case '%':
			kfmt_put(s, '%');
			break;
		default:
			/* Unknown conversion (or the string ended): print it verbatim. */
			if (!*p)
				p--;
			for (const char *q = conv_start; q <= p; q++)
				kfmt_put(s, *q);
			break;
		}
	}
	va_end(ap);
	size_t n = s->total - start;
	return n > INT_MAX ? INT_MAX : (int)n;
}

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct kfmt_sink s = {buf, n ? n - 1 : 0, 0, 0, NULL, NULL};
	int r = kfmt(&s, fmt, ap);
	if (n)
		buf[s.len] = '\0';
	return r;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
