/*
 * check_rng.c - the random numbers against real PyTorch.
 *
 * Every expected value below was printed by Debian's python3-torch 1.13.1
 * as the exact float32 bit pattern, e.g.
 *   torch.manual_seed(0); torch.rand(8).numpy().view(np.uint32)
 * so a match is bit for bit, not within a tolerance.
 */
#include <stdint.h>
#include <string.h>

#include "rng.h"
#include "suites.h"

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void assert_bits(const char *what, const float *got, const uint32_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(float_bits(got[i]) == want[i], "%s[%zu]: got 0x%08x (%.9g), torch has 0x%08x", what, i,
                      float_bits(got[i]), (double)got[i], want[i]);
}

/* The reference mt19937 (seed 5489) starts 3499211612, 581869302, ... and
 * its 10000th output is 4123659995 (C++11 [rand.predef]). */
START_TEST(test_mt19937_reference_sequence)
{
    Rng rng;
    rng_seed(&rng, 5489);
    ck_assert_uint_eq(rng_next_u32(&rng), 3499211612u);
    ck_assert_uint_eq(rng_next_u32(&rng), 581869302u);
    for (int i = 2; i < 9999; i++)
        rng_next_u32(&rng);
    ck_assert_uint_eq(rng_next_u32(&rng), 4123659995u);
}
END_TEST

START_TEST(test_rand_matches_torch)
{
    static const struct {
        uint64_t seed;
        size_t skip, n;
        uint32_t bits[8];
    } cases[] = {
        {0, 0, 8, {0x3efe1558, 0x3f44aa2f, 0x3db533a8, 0x3e073300, 0x3e9d6686, 0x3f2252fb, 0x3efaed86, 0x3f657d67}},
        {123456789, 0, 4, {0x3ecf7d70, 0x3f1b2e9c, 0x3f3d2d32, 0x3ebc2fb2}},
        /* values 620..627 of torch.rand(700): the state is regenerated at 624 */
        {0, 620, 8, {0x3e898f56, 0x3f791683, 0x3f1e4b8c, 0x3c473900, 0x3eb71e74, 0x3e233e04, 0x3f703971, 0x3ed5b900}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Rng rng;
        rng_seed(&rng, cases[c].seed);
        float skipped[1024], got[8];
        rng_fill_uniform(&rng, skipped, cases[c].skip);
        rng_fill_uniform(&rng, got, cases[c].n);
        assert_bits("rand", got, cases[c].bits, cases[c].n);
    }
}
END_TEST

/* Fewer than 16 values: PyTorch's double-precision scalar path. */
START_TEST(test_normal_scalar_path_matches_torch)
{
    static const uint32_t seed3_n8[] = {0x3f4da380, 0x3e330786, 0x3db63a26, 0xbf1d1ca0,
                                        0x3d3d29cf, 0xbfaf231e, 0x3eaccc28, 0x3f816c3f};
    static const uint32_t seed11_n15[] = {0x3f3cd549, 0x3ff91435, 0xbf331529, 0xbfa6b1ae, 0xbf036527,
                                          0xbe8a0b93, 0x3e7c17d5, 0x3ef7c50e, 0x3ee69d29, 0xbf74f309,
                                          0x3fc026ed, 0xbea08cba, 0xbe6fe83f, 0xbf8920a9, 0x3e28c0ec};
    Rng rng;
    float got[16];
    rng_seed(&rng, 3);
    rng_fill_normal(&rng, got, 8, 0.0, 1.0);
    assert_bits("normal(8), seed 3", got, seed3_n8, 8);
    rng_seed(&rng, 11);
    rng_fill_normal(&rng, got, 15, 0.0, 1.0);
    assert_bits("normal(15), seed 11", got, seed11_n15, 15);
    /* An odd count leaves the pair's second value in the generator: two
     * draws of 3 give the same six values as one draw of 6. */
    rng_seed(&rng, 11);
    rng_fill_normal(&rng, got, 3, 0.0, 1.0);
    rng_fill_normal(&rng, got + 3, 3, 0.0, 1.0);
    assert_bits("normal(3) twice, seed 11", got, seed11_n15, 6);
}
END_TEST

/* 16 or more values, not a multiple of 16: the tail is redrawn. */
START_TEST(test_normal_block_path_with_tail_matches_torch)
{
    static const uint32_t seed5_n18[] = {0x3febd177, 0x3f04d5ca, 0xbeac4317, 0xbf770e2f, 0xbe04c64b, 0xbf1a0d50,
                                         0x3e147a81, 0xbe196c4b, 0x4027553b, 0xbede3842, 0xbd6ef55c, 0xc001f3a2,
                                         0x3fbdd0ba, 0x3efcf28f, 0x3e7f3335, 0x3fdf9eba, 0x3f3ea9b4, 0x3d01aaa9};
    static const uint32_t seed0_n32_first4[] = {0xbf901b85, 0xbf93808a, 0xbe804bd6, 0xbede255d};
    Rng rng;
    float got[32];
    rng_seed(&rng, 5);
    rng_fill_normal(&rng, got, 18, 0.0, 1.0);
    assert_bits("normal(18), seed 5", got, seed5_n18, 18);
    rng_seed(&rng, 0);
    rng_fill_normal(&rng, got, 32, 0.0, 1.0);
    assert_bits("normal(32), seed 0", got, seed0_n32_first4, 4);
}
END_TEST

/* torch.manual_seed keeps the low 32 bits: 2^32 + 5 draws what 5 draws. */
START_TEST(test_seed_keeps_low_32_bits)
{
    Rng a, b;
    rng_seed(&a, (UINT64_C(1) << 32) + 5);
    rng_seed(&b, 5);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(rng_next_u32(&a), rng_next_u32(&b));
}
END_TEST

/* Re-seeding forgets a cached normal value, as torch.manual_seed does. */
START_TEST(test_seed_clears_cached_normal)
{
    Rng rng;
    float first[1], again[1];
    rng_seed(&rng, 11);
    rng_fill_normal(&rng, first, 1, 0.0, 1.0);
    rng_seed(&rng, 11);
    rng_fill_normal(&rng, again, 1, 0.0, 1.0);
    ck_assert_uint_eq(float_bits(first[0]), float_bits(again[0]));
    ck_assert_uint_eq(float_bits(first[0]), 0x3f3cd549u);
}
END_TEST

Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("torch");
    tcase_add_test(tc, test_mt19937_reference_sequence);
    tcase_add_test(tc, test_rand_matches_torch);
    tcase_add_test(tc, test_normal_scalar_path_matches_torch);
    tcase_add_test(tc, test_normal_block_path_with_tail_matches_torch);
    tcase_add_test(tc, test_seed_keeps_low_32_bits);
    tcase_add_test(tc, test_seed_clears_cached_normal);
    suite_add_tcase(s, tc);
    return s;
}
