/* Floating-point conversions %f %F %e %E %g %G %a %A.
 * Exact: the double m*2^e is expanded to its complete decimal digit string with a base-1e9
 * big number (m<<e, or m*5^-e with the point -e places left), then rounded half-to-even at the
 * requested digit. This is correct for every double and matches glibc in the default rounding
 * mode. Costs ~1.2 KiB of stack and, for tiny subnormals, ~80 passes over <= 86 limbs. */
#include "format_impl.h"

#define LIMB_BASE 1000000000u
#define MAX_LIMBS 90	/* m*5^1074 < 10^767: 86 limbs */
#define MAX_DIGITS (MAX_LIMBS * 9)

struct dec {
	int n;	  /* digits in d; 0 means the value is zero */
	int dexp; /* d[0] is the digit of 10^dexp */
	char d[MAX_DIGITS];
};

/* Writes v's decimal digits, most significant first, zero-padded to at least min_digits (<= 10);
 * returns how many. */
static int put_dec(char *out, uint32_t v, int min_digits)
{
	char rev[10];
	int t = 0;
	do {
		rev[t++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (t < min_digits)
		rev[t++] = '0';
	for (int i = 0; i < t; i++)
		out[i] = rev[t - 1 - i];
	return t;
}

static void mul_small(uint32_t *l, int *nl, uint32_t mul)
{
	uint64_t carry = 0;
	for (int i = 0; i < *nl; i++) {
		uint64_t x = (uint64_t)l[i] * mul + carry;
		l[i] = (uint32_t)(x % LIMB_BASE);
		carry = x / LIMB_BASE;
	}
	while (carry) {
		l[(*nl)++] = (uint32_t)(carry % LIMB_BASE);
		carry /= LIMB_BASE;
	}
}

/* Exact decimal expansion of m * 2^e2 (m != 0). */
static void expand(uint64_t m, int e2, struct dec *x)
{
	uint32_t l[MAX_LIMBS];
	int nl = 0;
	while (m) {
		l[nl++] = (uint32_t)(m % LIMB_BASE);
		m /= LIMB_BASE;
	}
	int k = 0; /* decimal places after the point */
	while (e2 > 0) {
		int sh = e2 < 29 ? e2 : 29; /* limb * 2^29 + carry fits in 64 bits */
		mul_small(l, &nl, 1u << sh);
		e2 -= sh;
	}
	if (e2 < 0) {
		k = -e2;
		for (int r = k; r > 0; r -= 13) {
			uint32_t mul = 1;
			for (int i = 0; i < (r < 13 ? r : 13); i++)
				mul *= 5;
			mul_small(l, &nl, mul);
		}
	}
	int n = put_dec(x->d, l[nl - 1], 1);
	for (int i = nl - 2; i >= 0; i--)
		n += put_dec(x->d + n, l[i], 9); /* every lower limb is 9 digits */
	x->dexp = n - 1 - k;
	while (n > 1 && x->d[n - 1] == '0') /* trailing zeros carry nothing */
		n--;
	x->n = n;
}

/* Keeps the first `keep` digits, rounding half to even (exact: x holds every digit). */
static void round_dec(struct dec *x, int keep)
{
	if (x->n == 0 || keep >= x->n)
		return;
	if (keep < 0) {
		x->n = 0;
		return;
	}
	char r = x->d[keep];
	bool up;
	if (r != '5') {
		up = r > '5';
	} else {
		up = false;
		for (int i = keep + 1; i < x->n; i++)
			if (x->d[i] != '0') {
				up = true;
				break;
			}
		if (!up) /* an exact tie: to even */
			up = keep > 0 && ((x->d[keep - 1] - '0') & 1);
	}
	x->n = keep;
	if (!up) {
		while (x->n > 0 && x->d[x->n - 1] == '0')
			x->n--;
		return;
	}
	int i = keep - 1;
	while (i >= 0 && x->d[i] == '9')
		i--;
	if (i < 0) { /* 99.9 -> 100: one new leading digit */
		x->d[0] = '1';
		x->n = 1;
		x->dexp++;
	} else {
		x->d[i]++;
		x->n = i + 1;
	}
}

static char digit_at(const struct dec *x, int i)
{
	return (i >= 0 && i < x->n) ? x->d[i] : '0';
}

struct body {
	const struct dec *x;
	int prec;	/* digits after the point */
	bool point;	/* print the point */
	bool upper;
	char style;	/* 'f' or 'e' */
};

static void body_fixed(struct kfmt_sink *s, const struct body *b)
{
	const struct dec *x = b->x;
	int dexp = x->n ? x->dexp : 0;
	if (dexp < 0)
		kfmt_put(s, '0');
	for (int i = 0; i <= dexp; i++)
		kfmt_put(s, digit_at(x, i));
	if (b->point)
		kfmt_put(s, '.');
	for (int j = 1; j <= b->prec; j++)
		kfmt_put(s, digit_at(x, dexp + j));
}

static void body_exp(struct kfmt_sink *s, const struct body *b)
{
	const struct dec *x = b->x;
	kfmt_put(s, digit_at(x, 0));
	if (b->point)
		kfmt_put(s, '.');
	for (int j = 1; j <= b->prec; j++)
		kfmt_put(s, digit_at(x, j));
	kfmt_put(s, b->upper ? 'E' : 'e');
	int e = x->n ? x->dexp : 0;
	kfmt_put(s, e < 0 ? '-' : '+');
	char digits[10];
	int t = put_dec(digits, (uint32_t)(e < 0 ? -e : e), 2);
	for (int i = 0; i < t; i++)
		kfmt_put(s, digits[i]);
}

static void body_emit(struct kfmt_sink *s, const void *arg)
{
	const struct body *b = arg;
	if (b->style == 'f')
		body_fixed(s, b);
	else
		body_exp(s, b);
}

static size_t body_len(const struct body *b)
{
	struct kfmt_sink count = {NULL, 0, 0, 0, NULL, NULL};
	body_emit(&count, b);
	return count.total;
}

struct hexbody {
	unsigned lead;
	uint64_t frac; /* prec hex digits (at most 13 significant, rest zeros) */
	int fdigits;   /* significant hex digits held in frac */
	int prec;
	bool point;
	bool upper;
	int exp;
};

static void body_hex(struct kfmt_sink *s, const void *arg)
{
	const struct hexbody *h = arg;
	const char *hex = h->upper ? "0123456789ABCDEF" : "0123456789abcdef";
	kfmt_put(s, hex[h->lead]);
	if (h->point)
		kfmt_put(s, '.');
	for (int i = 0; i < h->prec; i++)
		kfmt_put(s, i < h->fdigits ? hex[(h->frac >> (4 * (h->fdigits - 1 - i))) & 15] : '0');
	kfmt_put(s, h->upper ? 'P' : 'p');
	kfmt_put(s, h->exp < 0 ? '-' : '+');
	char digits[10];
	int t = put_dec(digits, (uint32_t)(h->exp < 0 ? -h->exp : h->exp), 1);
	for (int i = 0; i < t; i++)
		kfmt_put(s, digits[i]);
}

static void fmt_hex(struct kfmt_sink *s, const struct kfmt_spec *sp, const char *sign, unsigned bexp,
		    uint64_t mant)
{
	bool upper = sp->conv == 'A';
	struct hexbody h = {0, mant, 13, 0, false, upper, 0};
	if (bexp == 0 && mant == 0) {
		h.fdigits = 0;
	} else if (bexp == 0) {
		h.exp = -1022; /* subnormal: 0x0.<frac>p-1022, as glibc */
	} else {
		h.lead = 1;
		h.exp = (int)bexp - 1023;
	}
	if (sp->prec < 0) {
		while (h.fdigits > 0 && (h.frac & 15) == 0) {
			h.frac >>= 4;
			h.fdigits--;
		}
		h.prec = h.fdigits;
	} else {
		h.prec = sp->prec;
		if (h.prec < h.fdigits) {
			int shift = 4 * (h.fdigits - h.prec);
			uint64_t rem = h.frac & ((1ull << shift) - 1);
			uint64_t half = 1ull << (shift - 1);
			uint64_t q = h.frac >> shift;
			/* To nearest, ties to even (the last kept digit, or the leading one). */
			bool odd = h.prec > 0 ? (q & 1) : (h.lead & 1);
			if (rem > half || (rem == half && odd))
				q++;
			if (h.prec < 16 && q >> (4 * h.prec)) { /* carry into the leading digit */
				h.lead++;
				q &= (1ull << (4 * h.prec)) - 1;
			}
			h.frac = q;
			h.fdigits = h.prec;
		}
	}
	h.point = h.prec > 0 || (sp->flags & KF_HASH);
	char prefix[4] = {0};
	int pl = 0;
	if (*sign)
		prefix[pl++] = *sign;
	prefix[pl++] = '0';
	prefix[pl++] = upper ? 'X' : 'x';
	struct kfmt_sink count = {NULL, 0, 0, 0, NULL, NULL};
	body_hex(&count, &h);
	kfmt_padded(s, sp, prefix, count.total, true, body_hex, &h);
}

static void body_str(struct kfmt_sink *s, const void *arg)
{
	const char *p = arg;
	while (*p)
		kfmt_put(s, *p++);
}

void kfmt_float(struct kfmt_sink *s, const struct kfmt_spec *sp, double v)
{
	union {
		double d;
		uint64_t u;
	} bits = {v};
	bool neg = bits.u >> 63;
	unsigned bexp = (unsigned)(bits.u >> 52) & 0x7ff;
	uint64_t mant = bits.u & ((1ull << 52) - 1);
	char conv = sp->conv;
	bool upper = conv == 'F' || conv == 'E' || conv == 'G' || conv == 'A';
	const char *sign = neg ? "-" : (sp->flags & KF_PLUS) ? "+" : (sp->flags & KF_SPACE) ? " " : "";

	if (bexp == 0x7ff) {
		const char *word = mant ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
		kfmt_padded(s, sp, sign, 3, false, body_str, word);
		return;
	}
	if (conv == 'a' || conv == 'A') {
		fmt_hex(s, sp, sign, bexp, mant);
		return;
	}

	struct dec x;
	x.n = 0;
	x.dexp = 0;
	if (bexp || mant)
		expand(bexp ? mant | (1ull << 52) : mant, (bexp ? (int)bexp : 1) - 1075, &x);
	int prec = sp->prec < 0 ? 6 : sp->prec;
	struct body b = {&x, prec, prec > 0 || (sp->flags & KF_HASH), upper, 'f'};

	switch (conv) {
	case 'f':
	case 'F':
		round_dec(&x, x.dexp + 1 + prec);
		break;
	case 'e':
	case 'E':
		round_dec(&x, prec + 1);
		b.style = 'e';
		break;
	default: { /* g, G */
		int p = prec ? prec : 1;
		round_dec(&x, p);
		int X = x.n ? x.dexp : 0;
		if (p > X && X >= -4) {
			b.prec = p - 1 - X;
		} else {
			b.style = 'e';
			b.prec = p - 1;
		}
		if (!(sp->flags & KF_HASH)) {
			/* Drop trailing zeros: keep only the fraction digits that are held. */
			int held = b.style == 'f' ? x.n - 1 - X : x.n - 1;
			if (held < 0)
				held = 0;
			if (b.prec > held)
				b.prec = held;
		}
		b.point = b.prec > 0 || (sp->flags & KF_HASH);
		break;
	}
	}
	kfmt_padded(s, sp, sign, body_len(&b), true, body_emit, &b);
}
