/*
 * floatfmt.c - the shortest decimal of a float32 that reads back as the
 * same float32 (see floatfmt.h).
 *
 * The digits come from Ryu (Ulf Adams, "Ryu: fast float-to-string
 * conversion", PLDI 2018), its float32 variant, written again here. The
 * idea, in short: a float32 v = m2 * 2^e2 is the only float32 read back
 * from any decimal strictly inside (or, when m2 is even, on the edges of)
 * the interval between the midpoints to its neighbours,
 *
 *     u = (4 m2 - 1 or 2) * 2^(e2-2)  <  v = 4 m2 * 2^(e2-2)  <  w = (4 m2 + 2) * 2^(e2-2)
 *
 * (the lower gap is half as wide where m2 is a power of two). The three
 * are scaled by a power of ten 10^-e10 chosen so that they become integers
 * of at most 9 or 10 digits, vm <= vr <= vp; the scaling is a 32 x 64-bit
 * multiplication by a rounded power of five from the tables below, whose
 * precision (59 and 61 bits) the paper shows is enough for every float32
 * to give the truncated quotients exactly. Then digits are dropped from
 * the right while vm and vp still differ in what remains: the shortest
 * number in the interval. The last dropped digit of vr rounds it (half to
 * even on an exact tie), so among the shortest candidates the one nearest
 * v is chosen: the same digits printf's correctly rounded %.Ng gives
 * whenever that one reads back.
 *
 * The text then takes printf's %g layout with P = max(6, digits)
 * significant digits: scientific ("1.5e-05", "3e+38") when the decimal
 * exponent is below -4 or at least P, fixed ("0.0123", "1234567")
 * otherwise, never a trailing zero after the point. That is exactly what
 * the former "%.6g, %.7g, ... until strtof reads it back" loop printed
 * whenever its first round-tripping form was also a shortest one.
 */
#include "floatfmt.h"

#include <stdint.h>
#include <string.h>

/* Bits of precision of the two tables. */
#define POW5_INV_BITS 59
#define POW5_BITS 61

/* FLOATFMT_POW5_INV[q] = floor(2^(pow5_bits(q) - 1 + 59) / 5^q) + 1: 1/5^q
 * rounded up, for q < 31 (positive binary exponents). */
static const uint64_t POW5_INV[31] = {
    0x0800000000000001u, 0x0666666666666667u, 0x051eb851eb851eb9u, 0x04189374bc6a7efau, 0x068db8bac710cb2au,
    0x053e2d6238da3c22u, 0x0431bde82d7b634eu, 0x06b5fca6af2bd216u, 0x055e63b88c230e78u, 0x044b82fa09b5a52du,
    0x06df37f675ef6eaeu, 0x057f5ff85e592558u, 0x0465e6604b7a8447u, 0x0709709a125da071u, 0x05a126e1a84ae6c1u,
    0x0480ebe7b9d58567u, 0x0734aca5f6226f0bu, 0x05c3bd5191b525a3u, 0x049c97747490eae9u, 0x0760f253edb4ab0eu,
    0x05e72843249088d8u, 0x04b8ed0283a6d3e0u, 0x078e480405d7b966u, 0x060b6cd004ac9452u, 0x04d5f0a66a23a9dbu,
    0x07bcb43d769f762bu, 0x063090312bb2c4efu, 0x04f3a68dbc8f03f3u, 0x07ec3daf94180651u, 0x065697bfa9acd1dau,
    0x051212ffbaf0a7e2u,
};

/* POW5[i] = the top 61 bits of 5^i, for i < 47 (negative binary
 * exponents). */
static const uint64_t POW5[47] = {
    0x1000000000000000u, 0x1400000000000000u, 0x1900000000000000u, 0x1f40000000000000u, 0x1388000000000000u,
    0x186a000000000000u, 0x1e84800000000000u, 0x1312d00000000000u, 0x17d7840000000000u, 0x1dcd650000000000u,
    0x12a05f2000000000u, 0x174876e800000000u, 0x1d1a94a200000000u, 0x12309ce540000000u, 0x16bcc41e90000000u,
    0x1c6bf52634000000u, 0x11c37937e0800000u, 0x16345785d8a00000u, 0x1bc16d674ec80000u, 0x1158e460913d0000u,
    0x15af1d78b58c4000u, 0x1b1ae4d6e2ef5000u, 0x10f0cf064dd59200u, 0x152d02c7e14af680u, 0x1a784379d99db420u,
    0x108b2a2c28029094u, 0x14adf4b7320334b9u, 0x19d971e4fe8401e7u, 0x1027e72f1f128130u, 0x1431e0fae6d7217cu,
    0x193e5939a08ce9dbu, 0x1f8def8808b02452u, 0x13b8b5b5056e16b3u, 0x18a6e32246c99c60u, 0x1ed09bead87c0378u,
    0x13426172c74d822bu, 0x1812f9cf7920e2b6u, 0x1e17b84357691b64u, 0x12ced32a16a1b11eu, 0x178287f49c4a1d66u,
    0x1d6329f1c35ca4bfu, 0x125dfa371a19e6f7u, 0x16f578c4e0a060b5u, 0x1cb2d6f618c878e3u, 0x11efc659cf7d4b8du,
    0x166bb7f0435c9e71u, 0x1c06a5ec5433c60du,
};

/* floor(log2(5^e)) + 1, the bits of 5^e, for 0 <= e <= 3528. */
static int32_t pow5_bits(int32_t e)
{
    return (int32_t)(((uint32_t)e * 1217359u) >> 19) + 1;
}

/* floor(log10(2^e)) for 0 <= e <= 1650. */
static uint32_t log10_pow2(int32_t e)
{
    return ((uint32_t)e * 78913u) >> 18;
}

/* floor(log10(5^e)) for 0 <= e <= 2620. */
static uint32_t log10_pow5(int32_t e)
{
    return ((uint32_t)e * 732923u) >> 20;
}

/* True when 5^p divides value. */
static bool divisible_by_pow5(uint32_t value, uint32_t p)
{
    uint32_t count = 0;
    while (value != 0 && value % 5 == 0 && count < p) {
        value /= 5;
        count++;
    }
    return count >= p;
}

/* True when 2^p divides value (p < 32). */
static bool divisible_by_pow2(uint32_t value, uint32_t p)
{
    return (value & ((1u << p) - 1)) == 0;
}

/* floor(m * factor / 2^shift), shift > 32: the 96-bit product from two
 * 32 x 32 multiplications. */
static uint32_t mul_shift(uint32_t m, uint64_t factor, int32_t shift)
{
    uint64_t low = (uint64_t)m * (uint32_t)factor;
    uint64_t high = (uint64_t)m * (uint32_t)(factor >> 32);
    return (uint32_t)(((low >> 32) + high) >> (shift - 32));
}

/* The interval of a float32 scaled to integers (pass 2 of
 * shortest_digits): vm <= vr <= vp are the lower edge, the value and the
 * upper edge times 10^-e10, truncated. */
typedef struct Scaled {
    uint32_t vr, vp, vm;
    uint32_t removed_digit; /* the last digit of vr the scaling dropped */
    int32_t e10;
    bool vm_zeros, vr_zeros; /* only zeros were truncated from vm, vr */
} Scaled;

/* Pass 2 for e2 >= 0: divide by 5^q 2^(e2 - q) with q = floor(log10 2^e2),
 * multiplying by POW5_INV[q]. */
static void scale_down(uint32_t mv, uint32_t mp, uint32_t mm, int32_t e2, bool accept_edges, Scaled *sc)
{
    const uint32_t q = log10_pow2(e2);
    sc->e10 = (int32_t)q;
    const int32_t k = POW5_INV_BITS + pow5_bits((int32_t)q) - 1;
    const int32_t i = -e2 + (int32_t)q + k;
    sc->vr = mul_shift(mv, POW5_INV[q], i);
    sc->vp = mul_shift(mp, POW5_INV[q], i);
    sc->vm = mul_shift(mm, POW5_INV[q], i);
    if (q != 0 && (sc->vp - 1) / 10 <= sc->vm / 10) {
        /* pass 3 will drop no digit: find the one that scaling by 10^-q
         * rather than 10^-(q-1) already dropped, for the rounding */
        const int32_t l = POW5_INV_BITS + pow5_bits((int32_t)q - 1) - 1;
        sc->removed_digit = mul_shift(mv, POW5_INV[q - 1], -e2 + (int32_t)q - 1 + l) % 10;
    }
    if (q <= 9) {
        /* only for small q can the scaled values be whole */
        if (mv % 5 == 0)
            sc->vr_zeros = divisible_by_pow5(mv, q);
        else if (accept_edges)
            sc->vm_zeros = divisible_by_pow5(mm, q);
        else
            sc->vp -= divisible_by_pow5(mp, q);
    }
}

/* Pass 2 for e2 < 0: multiply by 5^i 2^-j with q = floor(log10 5^-e2),
 * i = -e2 - q, using POW5[i]. */
static void scale_up(uint32_t mv, uint32_t mp, uint32_t mm, uint32_t mm_shift, int32_t e2, bool accept_edges,
                     Scaled *sc)
{
    const uint32_t q = log10_pow5(-e2);
    sc->e10 = (int32_t)q + e2;
    const int32_t i = -e2 - (int32_t)q;
    const int32_t k = pow5_bits(i) - POW5_BITS;
    int32_t j = (int32_t)q - k;
    sc->vr = mul_shift(mv, POW5[i], j);
    sc->vp = mul_shift(mp, POW5[i], j);
    sc->vm = mul_shift(mm, POW5[i], j);
    if (q != 0 && (sc->vp - 1) / 10 <= sc->vm / 10) {
        j = (int32_t)q - 1 - (pow5_bits(i + 1) - POW5_BITS);
        sc->removed_digit = mul_shift(mv, POW5[i + 1], j) % 10;
    }
    if (q <= 1) {
        /* the products are exact: nothing was truncated */
        sc->vr_zeros = true;
        if (accept_edges)
            sc->vm_zeros = mm_shift == 1;
        else
            sc->vp--;
    } else if (q < 31) {
        sc->vr_zeros = divisible_by_pow2(mv, q - 1);
    }
}

/* Pass 3: drops digits while vm and vp still differ in what remains, then
 * rounds vr by the last digit dropped (half to even on an exact tie).
 * Returns the digits; *removed counts the digits dropped. */
static uint32_t trim(Scaled *sc, bool accept_edges, int32_t *removed)
{
    *removed = 0;
    if (!sc->vm_zeros && !sc->vr_zeros) {
        /* the common case: no exact tie is possible */
        while (sc->vp / 10 > sc->vm / 10) {
            sc->removed_digit = sc->vr % 10;
            sc->vr /= 10;
            sc->vp /= 10;
            sc->vm /= 10;
            (*removed)++;
        }
        return sc->vr + (sc->vr == sc->vm || sc->removed_digit >= 5);
    }
    /* the rare case: track whether the dropped digits are all zeros */
    while (sc->vp / 10 > sc->vm / 10) {
        sc->vm_zeros &= sc->vm % 10 == 0;
        sc->vr_zeros &= sc->removed_digit == 0;
        sc->removed_digit = sc->vr % 10;
        sc->vr /= 10;
        sc->vp /= 10;
        sc->vm /= 10;
        (*removed)++;
    }
    if (sc->vm_zeros) {
        while (sc->vm % 10 == 0) {
            sc->vr_zeros &= sc->removed_digit == 0;
            sc->removed_digit = sc->vr % 10;
            sc->vr /= 10;
            sc->vp /= 10;
            sc->vm /= 10;
            (*removed)++;
        }
    }
    if (sc->vr_zeros && sc->removed_digit == 5 && sc->vr % 2 == 0)
        sc->removed_digit = 4; /* an exact tie: keep the even digit */
    return sc->vr + ((sc->vr == sc->vm && (!accept_edges || !sc->vm_zeros)) || sc->removed_digit >= 5);
}

/* The shortest digits of the finite, non-zero float32 with biased exponent
 * ieee_exp and mantissa field ieee_man: *digits * 10^(*exp10) reads back
 * as it. */
static void shortest_digits(uint32_t ieee_exp, uint32_t ieee_man, uint32_t *digits, int32_t *exp10)
{
    /* pass 1: v = m2 * 2^e2, two more bits for the midpoints */
    int32_t e2 = (ieee_exp == 0 ? 1 : (int32_t)ieee_exp) - 127 - 23 - 2;
    uint32_t m2 = ieee_exp == 0 ? ieee_man : (1u << 23) | ieee_man;
    const bool accept_edges = (m2 & 1) == 0; /* a tie reads back as the even mantissa */
    const uint32_t mv = 4 * m2, mp = 4 * m2 + 2;
    const uint32_t mm_shift = ieee_man != 0 || ieee_exp <= 1; /* 0: the lower gap is half as wide */
    const uint32_t mm = 4 * m2 - 1 - mm_shift;

    /* pass 2: the interval scaled by 10^-e10 to integers */
    Scaled sc = {0, 0, 0, 0, 0, false, false};
    if (e2 >= 0)
        scale_down(mv, mp, mm, e2, accept_edges, &sc);
    else
        scale_up(mv, mp, mm, mm_shift, e2, accept_edges, &sc);

    /* pass 3: the shortest number in it */
    int32_t removed;
    *digits = trim(&sc, accept_edges, &removed);
    *exp10 = sc.e10 + removed;
}

/* The number of decimal digits of v (1 for 0). */
static int decimal_length(uint32_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Writes the n digits of v into dst[0..n). */
static void put_digits(char *dst, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        dst[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

int floatfmt_shortest(float value, char *buf)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    const bool negative = (bits >> 31) != 0;
    const uint32_t ieee_exp = (bits >> 23) & 0xffu, ieee_man = bits & 0x7fffffu;
    char *p = buf;
    if (ieee_exp == 0xffu) {
        const char *text = ieee_man != 0 ? "nan" : negative ? "-inf" : "inf";
        size_t len = strlen(text);
        memcpy(buf, text, len + 1);
        return (int)len;
    }
    if (negative)
        *p++ = '-';
    if (ieee_exp == 0 && ieee_man == 0) {
        *p++ = '0';
        *p = '\0';
        return (int)(p - buf);
    }
    uint32_t digits;
    int32_t exp10;
    shortest_digits(ieee_exp, ieee_man, &digits, &exp10);
    const int n = decimal_length(digits);
    const int x = (int)exp10 + n - 1;    /* the exponent of the first digit */
    const int precision = n > 6 ? n : 6; /* %g's P */
    if (x < -4 || x >= precision) {
        /* d.ddde+XX */
        char text[9];
        put_digits(text, digits, n);
        *p++ = text[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, text + 1, (size_t)n - 1);
            p += n - 1;
        }
        *p++ = 'e';
        *p++ = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax >= 10) {
            *p++ = (char)('0' + ax / 10);
            *p++ = (char)('0' + ax % 10);
        } else {
            *p++ = '0';
            *p++ = (char)('0' + ax);
        }
    } else if (x >= n - 1) {
        /* a whole number: the digits, then x - n + 1 zeros */
        put_digits(p, digits, n);
        p += n;
        for (int i = 0; i < x - n + 1; i++)
            *p++ = '0';
    } else if (x >= 0) {
        /* ddd.ddd */
        char text[9];
        put_digits(text, digits, n);
        memcpy(p, text, (size_t)x + 1);
        p += x + 1;
        *p++ = '.';
        memcpy(p, text + x + 1, (size_t)(n - x - 1));
        p += n - x - 1;
    } else {
        /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -x - 1; i++)
            *p++ = '0';
        put_digits(p, digits, n);
        p += n;
    }
    *p = '\0';
    return (int)(p - buf);
}
