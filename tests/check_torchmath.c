/*
 * check_torchmath.c - tests for torchmath.c: that torchmath_logf,
 * torchmath_sincosf and torchmath_expf are torch's (bit patterns taken from
 * real torch), and that they are sane approximations of log, sin, cos and
 * exp (against libm in double precision).
 *
 * How the expected bit patterns were produced: with torch 1.13.1 (Debian's
 * build, GCC 12.2, CPU capability AVX2) on an AVX2 machine, a throwaway
 * script wrote the CPU generator's mt19937 state through
 * Generator.set_state (left = 624, next = 0, so the next 623 draws are the
 * state words, tempered, with no twist), the words chosen by inverting the
 * tempering so that the draws were exactly the 24-bit integers k of the
 * tables below. normal_() on a float tensor of 608 values then ran
 * normal_fill_16_AVX2 on those uniforms U = k * 2^-24, and each row is one
 * lane of it: u1 = 1 - U(k1), u2 = U(k2), and the two outputs
 *   out[j]     = fma(radius * cos(theta), std = 1, mean = 0)
 *   out[j + 8] = fma(radius * sin(theta), std = 1, mean = 0)
 * with radius = sqrt(-2 log u1) and theta = (float)(2 pi) * u2. The last
 * table is nn.Embedding(10, 16) after torch.manual_seed(0), read from the
 * weight itself. The same script compared this file's functions with torch
 * on all 2^24 possible u1 and all 2^24 possible u2: no bit differed.
 *
 * The exp tables: the same torch (its exp is libsleef.so.3.5.1's
 * Sleef_expf8_u10, the avx2 variant on that machine) gave the expected bits
 * as torch.exp of a contiguous float32 tensor of the inputs (padded to a
 * multiple of 8 lanes); each input also gave the same bits alone, as a
 * 1-element and a 0-d tensor. The inputs where "libm differs" are ones
 * where glibc 2.36's expf gives another float (off by one ulp), so these
 * tests fail with libm's expf. A throwaway script compared torchmath_expf
 * with torch.exp on all 2^32 float bit patterns (NaNs included, bit for
 * bit): no bit differed, built with gcc or clang.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "suites.h"
#include "torchmath.h"

/* (float)(2 pi), the theta scale normal_fill_16_AVX2 uses: 0x40c90fdb. */
#define TWO_PI_BITS 0x40c90fdbu

/* The 24-bit draw whose uniform gives radius exactly 1 (log u1 = -0.5f
 * exactly): with it the cos and sin outputs are the bits of cos and sin. */
#define K1_RADIUS_ONE 6601320u

/* One lane of normal_fill_16_AVX2 with mean 0 and std 1: the 24-bit draws
 * k1 (for u1) and k2 (for u2), and torch's two outputs as bits. */
typedef struct LaneCase {
    uint32_t k1;
    uint32_t k2;
    uint32_t cos_bits; /* out[j] */
    uint32_t sin_bits; /* out[j + 8] */
} LaneCase;

/* ---------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------- */

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The float uniform torch makes from a 24-bit draw k: k * 2^-24. */
static float uniform_of(uint32_t k)
{
    return (float)k * (1.0f / 16777216.0f);
}

/* theta for the 24-bit draw k, as normal_fill_16_AVX2 computes it. */
static float theta_of(uint32_t k)
{
    return float_of(TWO_PI_BITS) * uniform_of(k);
}

/* One lane of normal_fill_16_AVX2 (mean 0, std 1) on our functions, with
 * torch's operations: sqrt(-2 * log(u1)), two products, and the final
 * fused multiply-add (which turns a -0 into +0). */
static void torch_lane(uint32_t k1, uint32_t k2, float *cos_out, float *sin_out)
{
    float u1 = 1.0f - uniform_of(k1);
    float radius = sqrtf(-2.0f * torchmath_logf(u1));
    float s, c;
    torchmath_sincosf(theta_of(k2), &s, &c);
    *cos_out = fmaf(radius * c, 1.0f, 0.0f);
    *sin_out = fmaf(radius * s, 1.0f, 0.0f);
}

/* Fails the test unless the lane of c gives torch's two bit patterns. */
static void check_lane_case(const LaneCase *c, const char *table, int index)
{
    float got_cos, got_sin;
    torch_lane(c->k1, c->k2, &got_cos, &got_sin);
    ck_assert_msg(bits_of(got_cos) == c->cos_bits && bits_of(got_sin) == c->sin_bits,
                  "%s[%d] (k1 %u, k2 %u): got 0x%08x 0x%08x (%.9g %.9g), torch gives 0x%08x 0x%08x "
                  "(%.9g %.9g)",
                  table, index, c->k1, c->k2, bits_of(got_cos), bits_of(got_sin), (double)got_cos, (double)got_sin,
                  c->cos_bits, c->sin_bits, (double)float_of(c->cos_bits), (double)float_of(c->sin_bits));
}

/* The spacing of floats at the magnitude of t (a double): one ulp. */
static double float_ulp_at(double t)
{
    t = fabs(t);
    if (t < (double)FLT_MIN)
        return ldexp(1.0, -149);
    int exponent;
    frexp(t, &exponent);
    return ldexp(1.0, exponent - 24);
}

/* ---------------------------------------------------------------------
 * Bit patterns from real torch.
 * ------------------------------------------------------------------- */

/* Both lanes at once: edge draws (0, 1, 2^24 - 1, the octant boundaries of
 * theta, the two draws with radius exactly 1 and 2), then random pairs. */
static const LaneCase PAIR_CASES[] = {
    {0u, 0u, 0x00000000u, 0x00000000u},
    {1u, 1u, 0x39b504f3u, 0x2f0e2c19u},
    {2u, 16777215u, 0x3a000000u, 0xaf222169u},
    {16777215u, 2097151u, 0x40828476u, 0x4082846fu},
    {16777214u, 2097152u, 0x407f89e5u, 0x407f89e6u},
    {8388608u, 2097153u, 0x3f552246u, 0x3f552252u},
    {6601320u, 4194304u, 0xb33bbd2eu, 0x3f800000u},
    {14506667u, 6291456u, 0xbfb504f3u, 0x3fb504f3u},
    {0u, 8388608u, 0x00000000u, 0x00000000u},
    {1u, 10485760u, 0xb97ffffdu, 0xb9800001u},
    {2u, 12582912u, 0x2cccde28u, 0xba000000u},
    {16777215u, 14680064u, 0x40828476u, 0xc082846fu},
    {8920712u, 13946362u, 0x3f1a1d5du, 0xbf898f36u},
    {16304736u, 2001536u, 0x3ffa583cu, 0x3fe9073au},
    {2800155u, 5862948u, 0xbeb50463u, 0x3efaf035u},
    {3606974u, 10404023u, 0xbf01bf51u, 0xbef4133cu},
    {8134441u, 12569727u, 0xbbba5a66u, 0xbf936d0du},
    {2551745u, 9437500u, 0xbf07dacfu, 0xbe612abcu},
    {2910435u, 11821130u, 0xbe31e648u, 0xbf17a3bcu},
    {15544642u, 6813152u, 0xbff30b68u, 0x3fa2bd1bu},
    {5108645u, 15222268u, 0x3f363493u, 0xbeeff867u},
    {12813297u, 10236062u, 0xbfa76efcu, 0xbf8ab862u},
    {14954863u, 15249655u, 0x3fe2c32cu, 0xbf9203bfu},
    {11159754u, 11385454u, 0xbf24318au, 0xbfaaa00eu},
    {3805535u, 8440175u, 0xbf37979eu, 0xbc62f1f1u},
    {3608075u, 13401884u, 0x3e5727afu, 0xbf29d6c4u},
    {1314907u, 1183783u, 0x3ebadc5du, 0x3e317743u},
    {4985910u, 1160306u, 0x3f43040fu, 0x3eb50696u},
    {16487607u, 11692873u, 0xbf6ea83bu, 0xc02c516bu},
    {11587430u, 7391962u, 0xbfb69478u, 0x3f0effdeu},
    {9472756u, 3210794u, 0x3eedbd13u, 0x3f99ff6fu},
    {5976863u, 9439329u, 0xbf5de81fu, 0xbeb84060u},
    {786582u, 7582491u, 0xbe977e05u, 0x3dbcb547u},
    {7697238u, 12706423u, 0x3d51df57u, 0xbf8daf99u},
    {16657989u, 8632989u, 0xc048766eu, 0xbe932f9cu},
    {7590461u, 16275443u, 0x3f8a01f1u, 0xbe51f312u},
    {3930422u, 11057028u, 0xbeca54ccu, 0xbf1d5414u},
    {11291193u, 3353174u, 0x3eed2f5au, 0x3fb5f7ffu},
    {4502838u, 9673726u, 0xbf3365a6u, 0xbebb6101u},
    {4588948u, 8355198u, 0xbf4ca3a7u, 0x3c23e0f2u},
    {16326792u, 7646994u, 0xc0258d45u, 0x3f3ccd13u},
    {11788385u, 14079834u, 0x3f53fe1du, 0xbfa8d6aeu},
    {2882506u, 8131975u, 0xbf1c770du, 0x3d7159e2u},
    {8533680u, 1267432u, 0x3f87b93eu, 0x3f0b7b58u},
    {3030453u, 14910046u, 0x3ef75643u, 0xbed00512u},
    {952205u, 12822624u, 0x3cfb115eu, 0xbeae524cu},
    {3119031u, 6804864u, 0xbf082602u, 0x3eb78d5du},
    {939051u, 10550733u, 0xbe6fb4c9u, 0xbe7baa41u},
};

/* sin and cos alone: k1 = K1_RADIUS_ONE makes radius exactly 1, so the
 * outputs are cos(theta) and sin(theta) themselves. Small angles, theta
 * next to each multiple of pi/4, random angles, then angles where a
 * version without torch's fused multiply-adds is off by one ulp, and
 * angles where libm's sinf/cosf differ from torch. */
static const LaneCase TRIG_CASES[] = {
    {6601320u, 0u, 0x3f800000u, 0x00000000u},        {6601320u, 1u, 0x3f800000u, 0x34c90fdbu},
    {6601320u, 2u, 0x3f800000u, 0x35490fdbu},        {6601320u, 3u, 0x3f800000u, 0x3596cbe4u},
    {6601320u, 100u, 0x3f800000u, 0x381d1463u},      {6601320u, 16777215u, 0x3f800000u, 0xb4a22169u},
    {6601320u, 16777214u, 0x3f800000u, 0xb55110b4u}, {6601320u, 2097151u, 0x3f3504f8u, 0x3f3504efu},
    {6601320u, 2097152u, 0x3f3504f3u, 0x3f3504f4u},  {6601320u, 2097153u, 0x3f3504eeu, 0x3f3504f8u},
    {6601320u, 4194303u, 0x34a8885au, 0x3f800000u},  {6601320u, 4194304u, 0xb33bbd2eu, 0x3f800000u},
    {6601320u, 4194305u, 0xb4d777a6u, 0x3f800000u},  {6601320u, 6291455u, 0xbf3504f0u, 0x3f3504f6u},
    {6601320u, 6291456u, 0xbf3504f3u, 0x3f3504f3u},  {6601320u, 6291457u, 0xbf3504f8u, 0x3f3504eeu},
    {6601320u, 8388607u, 0xbf800000u, 0x34d110b4u},  {6601320u, 8388608u, 0xbf800000u, 0xb3bbbd2eu},
    {6601320u, 8388609u, 0xbf800000u, 0xb51777a6u},  {6601320u, 10485759u, 0xbf3504f8u, 0xbf3504efu},
    {6601320u, 10485760u, 0xbf3504f1u, 0xbf3504f5u}, {6601320u, 10485761u, 0xbf3504eeu, 0xbf3504f8u},
    {6601320u, 12582911u, 0xb4f9990fu, 0xbf800000u}, {6601320u, 12582912u, 0x324cde28u, 0xbf800000u},
    {6601320u, 12582913u, 0x35033379u, 0xbf800000u}, {6601320u, 14680063u, 0x3f3504f1u, 0xbf3504f5u},
    {6601320u, 14680064u, 0x3f3504f8u, 0xbf3504efu}, {6601320u, 14680065u, 0x3f3504f8u, 0xbf3504efu},
    {6601320u, 13988087u, 0x3f00963eu, 0xbf5d5cd5u}, {6601320u, 7142934u, 0xbf64a4f2u, 0x3ee648edu},
    {6601320u, 4901222u, 0xbe85f8cfu, 0x3f7714aau},  {6601320u, 2976907u, 0x3ee16df1u, 0x3f65d9ceu},
    {6601320u, 15989691u, 0x3f74f240u, 0xbe94d387u}, {6601320u, 5390640u, 0xbeddcbefu, 0x3f66bb90u},
    {6601320u, 13368175u, 0x3e946945u, 0xbf75025eu}, {6601320u, 4483046u, 0xbddd07f9u, 0x3f7e8134u},
    {6601320u, 9145663u, 0xbf75c78bu, 0xbe8f39fau},  {6601320u, 9044327u, 0xbf7851d3u, 0xbe78f202u},
    {6601320u, 8004488u, 0xbf7d5b0eu, 0x3e12ccebu},  {6601320u, 1330637u, 0x3f60dd8du, 0x3ef4b76bu},
    {6601320u, 146696u, 0x3f7f9d1fu, 0x3d60ea69u},   {6601320u, 167871u, 0x3f7f7e87u, 0x3d80abafu},
    {6601320u, 174130u, 0x3f7f74b2u, 0x3d85761fu},   {6601320u, 202917u, 0x3f7f42dbu, 0x3d9b7c53u},
    {6601320u, 221551u, 0x3f7f1e8au, 0x3da9bb8bu},   {6601320u, 224642u, 0x3f7f1836u, 0x3dac1857u},
    {6601320u, 107614u, 0x3f7fcac8u, 0x3d25087cu},   {6601320u, 126633u, 0x3f7fb650u, 0x3d422e06u},
    {6601320u, 132197u, 0x3f7fafb3u, 0x3d4ab46fu},   {6601320u, 134784u, 0x3f7fac86u, 0x3d4eab15u},
};

/* log through the radius: k2 = 0 makes theta 0 (cos 1, sin +0), so the
 * cos output is sqrt(-2 log u1). u1 = 1 (k1 0, radius -0 turned +0 by the
 * fma), the smallest u1 (k1 2^24 - 1), u1 near 1/2, the radius-1 and
 * radius-2 draws, random draws, then draws where a version without the
 * fused multiply-adds is off, and draws where libm's logf differs. */
static const LaneCase LOG_CASES[] = {
    {0u, 0u, 0x00000000u, 0x00000000u},        {1u, 0u, 0x39b504f3u, 0x00000000u},
    {2u, 0u, 0x3a000000u, 0x00000000u},        {3u, 0u, 0x3a1cc471u, 0x00000000u},
    {16777215u, 0u, 0x40b89456u, 0x00000000u}, {16777214u, 0u, 0x40b4b170u, 0x00000000u},
    {16777213u, 0u, 0x40b2616au, 0x00000000u}, {8388608u, 0u, 0x3f96b55fu, 0x00000000u},
    {8388607u, 0u, 0x3f96b55eu, 0x00000000u},  {8388609u, 0u, 0x3f96b560u, 0x00000000u},
    {4913933u, 0u, 0x3f55224du, 0x00000000u},  {4913934u, 0u, 0x3f55224fu, 0x00000000u},
    {6601320u, 0u, 0x3f800000u, 0x00000000u},  {14506667u, 0u, 0x40000000u, 0x00000000u},
    {11522077u, 0u, 0x3fc30845u, 0x00000000u}, {12225558u, 0u, 0x3fcec0ccu, 0x00000000u},
    {5953790u, 0u, 0x3f6faff6u, 0x00000000u},  {15435312u, 0u, 0x400fd942u, 0x00000000u},
    {7994600u, 0u, 0x3f91a214u, 0x00000000u},  {4498108u, 0u, 0x3f4a4374u, 0x00000000u},
    {5620781u, 0u, 0x3f6740d6u, 0x00000000u},  {7239019u, 0u, 0x3f880825u, 0x00000000u},
    {10287425u, 0u, 0x3fb06a9du, 0x00000000u}, {2036744u, 0u, 0x3f023eefu, 0x00000000u},
    {3653249u, 0u, 0x3f3369a0u, 0x00000000u},  {2461089u, 0u, 0x3f10324cu, 0x00000000u},
    {8652981u, 0u, 0x3f9a2687u, 0x00000000u},  {6641453u, 0u, 0x3f80813cu, 0x00000000u},
    {192576u, 0u, 0x3e1b997cu, 0x00000000u},   {9888140u, 0u, 0x3faac80cu, 0x00000000u},
    {1278277u, 0u, 0x3ecbd687u, 0x00000000u},  {1457169u, 0u, 0x3eda420eu, 0x00000000u},
    {1546769u, 0u, 0x3ee1316au, 0x00000000u},  {1600165u, 0u, 0x3ee53eb0u, 0x00000000u},
    {10410u, 0u, 0x3d105053u, 0x00000000u},    {26325u, 0u, 0x3d658bc5u, 0x00000000u},
    {43435u, 0u, 0x3d9376cfu, 0x00000000u},    {49110u, 0u, 0x3d9cd0b1u, 0x00000000u},
};

/* nn.Embedding(10, 16) after torch.manual_seed(0): the 25 lane pairs
 * holding the 30 weights that libm's logf, sinf and cosf got wrong. */
static const LaneCase EMBEDDING_CASES[] = {
    {2215104u, 6739698u, 0xbede255du, 0x3e9dc3bbu},   /* weight[0][3], [0][11] */
    {10638075u, 2832983u, 0x3f312783u, 0x3f9e6b93u},  /* weight[0][5], [0][13] */
    {15039847u, 8699352u, 0xc0075fc1u, 0xbe7d367cu},  /* weight[0][7], [0][15] */
    {11704920u, 7036504u, 0xbfad23c2u, 0x3f400c6bu},  /* weight[1][0], [1][8] */
    {15354407u, 6264904u, 0xbfc70d5bu, 0x3fcb0d00u},  /* weight[1][5], [1][13] */
    {6662231u, 5118729u, 0xbeaec6cau, 0x3f72409cu},   /* weight[1][6], [1][14] */
    {14665902u, 15636372u, 0x3fed2f4eu, 0xbf57fb33u}, /* weight[1][7], [1][15] */
    {2527987u, 9807832u, 0xbefc4028u, 0xbe944f53u},   /* weight[2][2], [2][10] */
    {4668302u, 9951775u, 0xbf2c4f9fu, 0xbee47694u},   /* weight[3][0], [3][8] */
    {16728001u, 4055191u, 0x3e361caau, 0x405a45adu},  /* weight[3][3], [3][11] */
    {14013055u, 3419595u, 0x3f0b155du, 0x3fe8ecc2u},  /* weight[3][6], [3][14] */
    {3449376u, 10922866u, 0xbeca5217u, 0xbf0d30fcu},  /* weight[3][7], [3][15] */
    {12993719u, 11685414u, 0xbf11ba3eu, 0xbfd08dc1u}, /* weight[4][0], [4][8] */
    {7329820u, 15338984u, 0x3f6b833fu, 0xbf0cbc00u},  /* weight[4][1], [4][9] */
    {5314437u, 3140650u, 0x3eabcd4fu, 0x3f4e45deu},   /* weight[4][7], [4][15] */
    {570810u, 11614499u, 0xbdbf2d5cu, 0xbe7be7acu},   /* weight[5][0], [5][8] */
    {6975463u, 11525202u, 0xbeccd147u, 0xbf74dd3du},  /* weight[5][5], [5][13] */
    {1314638u, 12358005u, 0xbd0b3555u, 0xbece1a73u},  /* weight[7][3], [7][11] */
    {10378170u, 4302405u, 0xbd662c81u, 0x3fb192e4u},  /* weight[7][7], [7][15] */
    {1513123u, 7664932u, 0xbed67bd4u, 0x3dee626au},   /* weight[8][1], [8][9] */
    {10181727u, 13722416u, 0x3f10cbcbu, 0xbf9f390au}, /* weight[8][3], [8][11] */
    {14393600u, 16352866u, 0x3ff9af22u, 0xbea01232u}, /* weight[8][6], [8][14] */
    {7526257u, 7781930u, 0xbf88139du, 0x3e7baf30u},   /* weight[8][7], [8][15] */
    {4219081u, 13621271u, 0x3e93c041u, 0xbf344c9cu},  /* weight[9][4], [9][12] */
    {1960319u, 1824443u, 0x3ec5f024u, 0x3ea1231bu},   /* weight[9][5], [9][13] */
};

/* One input of exp and torch's output, as bits. */
typedef struct ExpCase {
    uint32_t x_bits;
    uint32_t want_bits;
} ExpCase;

/* exp over the softmax range, x - max in [-30, 0]: inputs where libm's
 * expf is off, inputs where a version without the fused polynomial steps
 * is off, the only inputs in the range where a version without the fused
 * reduction steps is off, and random ones. */
static const ExpCase SOFTMAX_CASES[] = {
    /* libm's expf differs from torch: 6 in [-1, 0), 6 in [-5, -1), 6 in [-15, -5), 6 in [-30, -15) */
    {0xbe698d45u, 0x3f4bcabcu}, /* -0.228077963, libm differs */
    {0xbe761aeeu, 0x3f494f12u}, /* -0.240337104, libm differs */
    {0xbe786f72u, 0x3f48d9eeu}, /* -0.24261263, libm differs */
    {0xbe8d6a8du, 0x3f423772u}, /* -0.276203543, libm differs */
    {0xbe97450bu, 0x3f3e83bcu}, /* -0.295448631, libm differs */
    {0xbeeeb730u, 0x3f209a64u}, /* -0.46624136, libm differs */
    {0xbfaba0d3u, 0x3e85f3a2u}, /* -1.34084547, libm differs */
    {0xbfc84ba5u, 0x3e5625aau}, /* -1.56480849, libm differs */
    {0xbfdcfc13u, 0x3e362faau}, /* -1.72644269, libm differs */
    {0xc00a39c1u, 0x3dec3d2eu}, /* -2.15977502, libm differs */
    {0xc0727232u, 0x3cb96ed6u}, /* -3.78821993, libm differs */
    {0xc097e6c9u, 0x3c0e2fb4u}, /* -4.74692202, libm differs */
    {0xc0a4ef22u, 0x3bbd3d78u}, /* -5.15419102, libm differs */
    {0xc0baac29u, 0x3b3fdfc2u}, /* -5.83351564, libm differs */
    {0xc0fe2ce5u, 0x39ba32f4u}, /* -7.94298029, libm differs */
    {0xc108d2ccu, 0x394aa65cu}, /* -8.55146408, libm differs */
    {0xc1498c66u, 0x366305ccu}, /* -12.596777, libm differs */
    {0xc16c5636u, 0x34ce7bc8u}, /* -14.7710476, libm differs */
    {0xc171db13u, 0x34923eb8u}, /* -15.1159849, libm differs */
    {0xc1913f71u, 0x325fdc82u}, /* -18.1559772, libm differs */
    {0xc192bcf0u, 0x3239d08au}, /* -18.3422546, libm differs */
    {0xc1a2017fu, 0x30dc75b2u}, /* -20.2507305, libm differs */
    {0xc1afa0c3u, 0x2fa0a704u}, /* -21.9534969, libm differs */
    {0xc1ef4523u, 0x29e6d86au}, /* -29.9087582, libm differs */
    /* a version with the polynomial steps unfused differs from torch */
    {0xbe9a54e8u, 0x3f3d60eeu}, /* -0.301429033, libm differs */
    {0xc0118ffcu, 0x3dd2a6d3u}, /* -2.27441311 */
    {0xc04348b4u, 0x3d41ba4du}, /* -3.05131245 */
    {0xc07a9668u, 0x3ca34861u}, /* -3.91543007 */
    {0xc0e86635u, 0x3a37dc14u}, /* -7.26247644, libm differs */
    {0xc12b5c91u, 0x37bb3864u}, /* -10.7100992, libm differs */
    {0xc17770f2u, 0x344e4d4du}, /* -15.4650745 */
    {0xc1ae3845u, 0x2fbf927au}, /* -21.7774754, libm differs */
    /* the only 8 in [-30, 0] where a version with the two reduction steps unfused differs */
    {0xc147a5d9u, 0x367fa82eu}, /* -12.4779902, libm differs */
    {0xc147a81du, 0x367f83fdu}, /* -12.4785433 */
    {0xc1c79c1bu, 0x2d804411u}, /* -24.9512234 */
    {0xc1c7a515u, 0x2d7f68ebu}, /* -24.9556065 */
    {0xc1c7a557u, 0x2d7f60b0u}, /* -24.9557323, libm differs */
    {0xc1c7a5aeu, 0x2d7f55d7u}, /* -24.9558983 */
    {0xc1c7a658u, 0x2d7f40a6u}, /* -24.9562225, libm differs */
    {0xc1c7a78fu, 0x2d7f19e6u}, /* -24.9568157, libm differs */
    /* random */
    {0xc0c2d038u, 0x3b14c67eu}, /* -6.08791733 */
    {0xc17f6427u, 0x33fb0a2eu}, /* -15.9619513 */
    {0xc1852e83u, 0x337ce6b6u}, /* -16.6477108 */
    {0xc1a745b0u, 0x30644743u}, /* -20.9090271 */
    {0xc1ad2d88u, 0x2fda388fu}, /* -21.6472321 */
    {0xc1b2d4d0u, 0x2f5749a1u}, /* -22.3539124 */
};

/* exp outside the softmax range: where libm's expf is off, and subnormal
 * results. */
static const ExpCase WIDE_CASES[] = {
    /* libm's expf differs from torch, x > 0 */
    {0x3eb293e3u, 0x3fb56b86u}, /* 0.348784536, libm differs */
    {0x3e0b451eu, 0x3f92a5ecu}, /* 0.136005849, libm differs */
    {0x418d3fc8u, 0x4c3197cau}, /* 17.6561432, libm differs */
    {0x415cc278u, 0x496fc70cu}, /* 13.7974777, libm differs */
    {0x3fe1cb05u, 0x40babeb8u}, /* 1.76400816, libm differs */
    {0x4287cef9u, 0x7079e254u}, /* 67.9042435, libm differs */
    {0x42620f38u, 0x68394c8au}, /* 56.5148621, libm differs */
    {0x424ed969u, 0x64c2b2e2u}, /* 51.7123146, libm differs */
    /* libm's expf differs from torch, x < -30 (the last two with subnormal results) */
    {0xc2012bcau, 0x282a3c62u}, /* -32.2927628, libm differs */
    {0xc21eaa77u, 0x22dac964u}, /* -39.6664696, libm differs */
    {0xc2496d18u, 0x1b233e1cu}, /* -50.3565369, libm differs */
    {0xc256c685u, 0x18b99bf8u}, /* -53.6938667, libm differs */
    {0xc2b1696au, 0x00208c0eu}, /* -88.7058868, libm differs */
    {0xc2b35712u, 0x000c6900u}, /* -89.6700592, libm differs */
    /* random, subnormal results */
    {0xc2b4688fu, 0x0007463eu}, /* -90.204216 */
    {0xc2c39af5u, 0x000000efu}, /* -97.8026505 */
    {0xc2cab3eau, 0x00000007u}, /* -101.351395 */
    {0xc2cfad41u, 0x00000001u}, /* -103.838387 */
};
START_TEST(test_torch_pairs)
{
    check_lane_case(&PAIR_CASES[_i], "PAIR_CASES", _i);
}
END_TEST

/* Both through the lane and directly: radius is exactly 1 here, and no
 * expected value is -0, so the outputs are the bits of cos and sin. */
START_TEST(test_torch_sincos)
{
    const LaneCase *c = &TRIG_CASES[_i];
    check_lane_case(c, "TRIG_CASES", _i);
    float s, co;
    torchmath_sincosf(theta_of(c->k2), &s, &co);
    ck_assert_msg(bits_of(co) == c->cos_bits && bits_of(s) == c->sin_bits,
                  "TRIG_CASES[%d] (theta %.9g): sincos gives cos 0x%08x sin 0x%08x, torch 0x%08x 0x%08x", _i,
                  (double)theta_of(c->k2), bits_of(co), bits_of(s), c->cos_bits, c->sin_bits);
}
END_TEST

START_TEST(test_torch_log)
{
    check_lane_case(&LOG_CASES[_i], "LOG_CASES", _i);
}
END_TEST

START_TEST(test_torch_embedding)
{
    check_lane_case(&EMBEDDING_CASES[_i], "EMBEDDING_CASES", _i);
}
END_TEST

/* Fails the test unless exp of the case's input gives torch's bits. */
static void check_exp_case(const ExpCase *c, const char *table, int index)
{
    float x = float_of(c->x_bits);
    float got = torchmath_expf(x);
    ck_assert_msg(bits_of(got) == c->want_bits,
                  "%s[%d]: exp(%.9g) (0x%08x) gives 0x%08x (%.9g), torch gives 0x%08x (%.9g)", table, index, (double)x,
                  c->x_bits, bits_of(got), (double)got, c->want_bits, (double)float_of(c->want_bits));
}

START_TEST(test_torch_exp_softmax)
{
    check_exp_case(&SOFTMAX_CASES[_i], "SOFTMAX_CASES", _i);
}
END_TEST

START_TEST(test_torch_exp_wide)
{
    check_exp_case(&WIDE_CASES[_i], "WIDE_CASES", _i);
}
END_TEST

/* What the tables above rely on: radius exactly 1 for K1_RADIUS_ONE, and
 * theta 0 giving sin +0 and cos 1 exactly. */
START_TEST(test_table_assumptions)
{
    float log_u1 = torchmath_logf(1.0f - uniform_of(K1_RADIUS_ONE));
    ck_assert_msg(log_u1 == -0.5f, "log gives %.9g, expected -0.5 exactly", (double)log_u1);
    ck_assert_msg(sqrtf(-2.0f * log_u1) == 1.0f, "radius is not exactly 1");
    float s, c;
    torchmath_sincosf(0.0f, &s, &c);
    ck_assert_msg(bits_of(s) == 0x00000000u && bits_of(c) == 0x3f800000u,
                  "sincos(0) gives 0x%08x 0x%08x, expected +0 and 1", bits_of(s), bits_of(c));
    ck_assert_uint_eq(bits_of(theta_of(1u << 23)), 0x40490fdbu); /* (float)pi */
}
END_TEST

/* ---------------------------------------------------------------------
 * Special inputs, as the vector code handles them.
 * ------------------------------------------------------------------- */

typedef struct LogSpecialCase {
    uint32_t x_bits;
    uint32_t want_bits;
    const char *what;
} LogSpecialCase;

static const LogSpecialCase LOG_SPECIAL_CASES[] = {
    {0x3f800000u, 0x00000000u, "log(1) is +0"},
    {0x3f000000u, 0xbf317218u, "log(0.5)"},
    {0x00000000u, 0xffffffffu, "+0 gives an all-ones NaN"},
    {0x80000000u, 0xffffffffu, "-0 gives an all-ones NaN"},
    {0xbf800000u, 0xffffffffu, "-1 gives an all-ones NaN"},
    {0xff800000u, 0xffffffffu, "-inf gives an all-ones NaN"},
    {0x00800000u, 0xc2aeac50u, "FLT_MIN"},
    {0x00000001u, 0xc2aeac50u, "a subnormal is clamped to FLT_MIN"},
    {0x7fc00000u, 0xc2aeac50u, "NaN is clamped to FLT_MIN (maxps keeps its second operand)"},
    {0x7f800000u, 0x42b17218u, "+inf gives 128 ln 2"},
};

START_TEST(test_logf_special)
{
    const LogSpecialCase *c = &LOG_SPECIAL_CASES[_i];
    float got = torchmath_logf(float_of(c->x_bits));
    ck_assert_msg(bits_of(got) == c->want_bits, "%s: log(0x%08x) gives 0x%08x, expected 0x%08x", c->what, c->x_bits,
                  bits_of(got), c->want_bits);
}
END_TEST

/* NaN and infinities give NaN; sin is odd and cos even, to the bit. */
START_TEST(test_sincosf_special)
{
    const float nans[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        float s, c;
        torchmath_sincosf(nans[i], &s, &c);
        ck_assert_msg(isnan(s) && isnan(c), "sincos(%g) gives %g %g, expected NaN", (double)nans[i], (double)s,
                      (double)c);
    }
    for (uint32_t k = 0; k < (1u << 24); k += 4099u) {
        float theta = theta_of(k), s, c, neg_s, neg_c;
        torchmath_sincosf(theta, &s, &c);
        torchmath_sincosf(-theta, &neg_s, &neg_c);
        if (bits_of(neg_s) != (bits_of(s) ^ 0x80000000u) || bits_of(neg_c) != bits_of(c))
            ck_abort_msg("theta %.9g: sincos(-theta) is not (-sin, cos)", (double)theta);
    }
}
END_TEST

/* exp at the edges, bits from torch: zeros, tiny inputs, the overflow and
 * underflow limits of the arithmetic and of SLEEF's two masks (x > 100
 * gives +inf, x < -104 gives +0), infinities, and NaNs, which pass through
 * the arithmetic (quieted, sign and payload kept). */
typedef struct ExpSpecialCase {
    uint32_t x_bits;
    uint32_t want_bits;
    const char *what;
} ExpSpecialCase;

static const ExpSpecialCase EXP_SPECIAL_CASES[] = {
    {0x00000000u, 0x3f800000u, "+0 gives 1"},
    {0x80000000u, 0x3f800000u, "-0 gives 1"},
    {0x00000001u, 0x3f800000u, "the smallest subnormal gives 1"},
    {0x80000001u, 0x3f800000u, "minus the smallest subnormal gives 1"},
    {0x33000000u, 0x3f800000u, "2^-25 rounds to 1"},
    {0xb3000000u, 0x3f800000u, "-2^-25 rounds to 1"},
    {0xb3800000u, 0x3f7fffffu, "-2^-24 gives the float below 1"},
    {0x3f800000u, 0x402df854u, "1 gives (float)e"},
    {0xbf800000u, 0x3ebc5ab2u, "-1 gives (float)(1/e)"},
    {0x3f317218u, 0x40000000u, "(float)ln 2 gives 2"},
    {0xbf317218u, 0x3f000000u, "-(float)ln 2 gives 0.5"},
    {0x41200000u, 0x46ac14eeu, "10"},
    {0xc1f00000u, 0x29d2b706u, "-30"},
    {0x42b17217u, 0x7f7fff84u, "88.72283, the largest input with a finite result (q = 128)"},
    {0x42b17218u, 0x7f800000u, "88.72284 overflows to +inf"},
    {0x42b20000u, 0x7f800000u, "89 overflows to +inf"},
    {0x42c80000u, 0x7f800000u, "100 still overflows in the arithmetic"},
    {0x42c80001u, 0x7f800000u, "just above 100: the +inf mask"},
    {0x7f7fffffu, 0x7f800000u, "FLT_MAX gives +inf"},
    {0x7f800000u, 0x7f800000u, "+inf gives +inf"},
    {0xc2aeac4fu, 0x00800026u, "-87.33654, the smallest input with a normal result"},
    {0xc2aeac50u, 0x007fffe6u, "-87.33655 gives a subnormal"},
    {0xc2cff1b4u, 0x00000001u, "-103.97208, the smallest input with a nonzero result"},
    {0xc2cff1b5u, 0x00000000u, "just below it: +0 from the arithmetic"},
    {0xc2d00000u, 0x00000000u, "-104 itself: +0 from the arithmetic"},
    {0xc2d00001u, 0x00000000u, "just below -104: the +0 mask"},
    {0xff7fffffu, 0x00000000u, "-FLT_MAX gives +0"},
    {0xff800000u, 0x00000000u, "-inf gives +0"},
    {0x7fc00000u, 0x7fc00000u, "NaN stays the same NaN"},
    {0xffc00000u, 0xffc00000u, "a negative NaN keeps its sign"},
    {0x7fc12345u, 0x7fc12345u, "a NaN keeps its payload"},
    {0x7f800001u, 0x7fc00001u, "a signalling NaN comes out quieted"},
};

START_TEST(test_expf_special)
{
    const ExpSpecialCase *c = &EXP_SPECIAL_CASES[_i];
    float got = torchmath_expf(float_of(c->x_bits));
    ck_assert_msg(bits_of(got) == c->want_bits, "%s: exp(0x%08x) gives 0x%08x, expected 0x%08x", c->what, c->x_bits,
                  bits_of(got), c->want_bits);
}
END_TEST

/* ---------------------------------------------------------------------
 * Sanity: close to libm in double precision.
 * ------------------------------------------------------------------- */

/* Fails the test unless got is within 2 ulp of want, or (near a zero of
 * sin or cos) within abs_tolerance. It calls Check only on a failure: the
 * sweeps below make millions of comparisons, and every passing ck_assert
 * costs a message to the parent process. */
static void assert_close_ulp(float got, double want, double abs_tolerance, const char *what, float x)
{
    double err = fabs((double)got - want);
    if (err <= 2.0 * float_ulp_at(want) || err <= abs_tolerance)
        return;
    ck_abort_msg("%s(%.9g) = %.9g, libm gives %.17g: off by %.3g ulp", what, (double)x, (double)got, want,
                 err / float_ulp_at(want));
}

/* log within 2 ulp: every 7th u1 that normal_ can make, then floats spread
 * over all the positive normal ones. */
START_TEST(test_logf_close_to_log)
{
    for (uint32_t k = 1; k < (1u << 24); k += 7u) {
        float u1 = 1.0f - uniform_of(k);
        assert_close_ulp(torchmath_logf(u1), log((double)u1), 0.0, "log", u1);
    }
    for (uint32_t b = 0x00800000u; b < 0x7f800000u; b += 997u) {
        float x = float_of(b);
        assert_close_ulp(torchmath_logf(x), log((double)x), 0.0, "log", x);
    }
}
END_TEST

/* sin and cos within 2 ulp over [0, 2 pi), every 7th theta normal_ can
 * make, then floats spread over the range. Where the value is near 0
 * (theta near a multiple of pi/2) the relative error grows: the Cephes
 * three-part pi/4 leaves an absolute error of about 1e-15 per octant, so
 * there an absolute 1e-14 is allowed. */
START_TEST(test_sincosf_close_to_sincos)
{
    const double near_zero = 1e-14;
    for (uint32_t k = 0; k < (1u << 24); k += 7u) {
        float theta = theta_of(k), s, c;
        torchmath_sincosf(theta, &s, &c);
        assert_close_ulp(s, sin((double)theta), near_zero, "sin", theta);
        assert_close_ulp(c, cos((double)theta), near_zero, "cos", theta);
    }
    for (uint32_t b = 0; b < TWO_PI_BITS; b += 1009u) {
        float theta = float_of(b), s, c;
        torchmath_sincosf(theta, &s, &c);
        assert_close_ulp(s, sin((double)theta), near_zero, "sin", theta);
        assert_close_ulp(c, cos((double)theta), near_zero, "cos", theta);
    }
}
END_TEST

/* The float after x (x finite, not -0): the next one up. */
static float next_float_up(float x)
{
    uint32_t b = bits_of(x);
    return float_of(x > 0.0f ? b + 1u : (x < 0.0f ? b - 1u : 1u));
}

/* Checks exp at x: within 2 ulp of exp in double (torch's is within 1),
 * and no larger than exp of the next float up (it is monotonic). */
static void check_exp_at(float x)
{
    float got = torchmath_expf(x);
    assert_close_ulp(got, exp((double)x), 0.0, "exp", x);
    float next = torchmath_expf(next_float_up(x));
    if (!(got <= next))
        ck_abort_msg("exp(%.9g) = %.9g but exp of the next float is %.9g", (double)x, (double)got, (double)next);
}

/* exp within 2 ulp and monotonic: floats spread over the softmax range
 * [-30, 0], then over every input with a finite result, from -104 (where
 * the results are subnormal or 0) to 88.72283. */
START_TEST(test_expf_close_to_exp)
{
    const uint32_t minus_30 = 0xc1f00000u, minus_104 = 0xc2d00000u;
    const uint32_t largest_finite = 0x42b17217u;
    for (uint32_t b = 0x80000000u; b <= minus_30; b += 1021u)
        check_exp_at(float_of(b));
    for (uint32_t b = 0x80000000u; b <= minus_104; b += 4001u)
        check_exp_at(float_of(b));
    for (uint32_t b = 0x00000000u; b < largest_finite; b += 4001u)
        check_exp_at(float_of(b));
    check_exp_at(float_of(largest_finite - 1u));
}
END_TEST

/* ---------------------------------------------------------------------
 * The CPU feature cache, asked from many threads at once.
 * ------------------------------------------------------------------- */

#define FEATURE_THREADS 8

/* A thread's answer: torchmath_have_avx2, asked as soon as the thread runs. */
static void *ask_have_avx2(void *result)
{
    *(bool *)result = torchmath_have_avx2();
    return NULL;
}

/* Threads that ask at the same time all get the answer the CPU gives:
 * __builtin_cpu_supports asked here directly, the independent reference. */
START_TEST(test_have_avx2_from_threads)
{
    pthread_t threads[FEATURE_THREADS];
    bool answers[FEATURE_THREADS];
    for (int i = 0; i < FEATURE_THREADS; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, ask_have_avx2, &answers[i]), 0);
    for (int i = 0; i < FEATURE_THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    bool expected = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    bool expected = false;
#endif
    for (int i = 0; i < FEATURE_THREADS; i++)
        ck_assert_msg(answers[i] == expected, "thread %d: %d, the CPU says %d", i, answers[i], expected);
    ck_assert(torchmath_have_avx2() == expected);
}
END_TEST

/* ---------------------------------------------------------------------
 * The suite.
 * ------------------------------------------------------------------- */

#define COUNT_OF(array) ((int)(sizeof(array) / sizeof((array)[0])))

Suite *torchmath_suite(void)
{
    Suite *suite = suite_create("torchmath");

    TCase *torch = tcase_create("torch");
    tcase_add_test(torch, test_table_assumptions);
    tcase_add_loop_test(torch, test_torch_pairs, 0, COUNT_OF(PAIR_CASES));
    tcase_add_loop_test(torch, test_torch_sincos, 0, COUNT_OF(TRIG_CASES));
    tcase_add_loop_test(torch, test_torch_log, 0, COUNT_OF(LOG_CASES));
    tcase_add_loop_test(torch, test_torch_embedding, 0, COUNT_OF(EMBEDDING_CASES));
    tcase_add_loop_test(torch, test_torch_exp_softmax, 0, COUNT_OF(SOFTMAX_CASES));
    tcase_add_loop_test(torch, test_torch_exp_wide, 0, COUNT_OF(WIDE_CASES));
    suite_add_tcase(suite, torch);

    TCase *special = tcase_create("special");
    tcase_add_loop_test(special, test_logf_special, 0, COUNT_OF(LOG_SPECIAL_CASES));
    tcase_add_test(special, test_sincosf_special);
    tcase_add_loop_test(special, test_expf_special, 0, COUNT_OF(EXP_SPECIAL_CASES));
    suite_add_tcase(suite, special);

    TCase *sanity = tcase_create("sanity");
    tcase_add_test(sanity, test_logf_close_to_log);
    tcase_add_test(sanity, test_sincosf_close_to_sincos);
    tcase_add_test(sanity, test_expf_close_to_exp);
    tcase_add_test(sanity, test_have_avx2_from_threads);
    suite_add_tcase(suite, sanity);

    return suite;
}
