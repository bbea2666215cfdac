/*
 * test.h - a tiny test runner: typed asserts that print both sides.
 *
 * A test file defines `static void t_name(void)` functions and a main() that
 * calls FT_RUN(t_name) for each, then returns FT_DONE(). A failed assert
 * reports file:line and both values and ends the current test; the run goes
 * on. FT_DONE prints "N passed, N failed" and exits non-zero on any failure.
 */
#ifndef FT_TEST_H
#define FT_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ft_t_passed, ft_t_failed, ft_t_skipped;
static jmp_buf ft_t_jmp;

#define FT_FAIL(...)                                                                                 \
    do {                                                                                             \
        fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__);                                       \
        fprintf(stderr, __VA_ARGS__);                                                                \
        fprintf(stderr, "\n");                                                                       \
        longjmp(ft_t_jmp, 1);                                                                        \
    } while (0)

#define ASSERT_TRUE(c)                                                                               \
    do {                                                                                             \
        if (!(c))                                                                                    \
            FT_FAIL("expected true: %s", #c);                                                        \
    } while (0)

#define ASSERT_EQ(a, b)                                                                              \
    do {                                                                                             \
        unsigned long long ft_a_ = (unsigned long long)(a), ft_b_ = (unsigned long long)(b);         \
        if (ft_a_ != ft_b_)                                                                          \
            FT_FAIL("%s == %s: %llu != %llu (0x%llx != 0x%llx)", #a, #b, ft_a_, ft_b_, ft_a_, ft_b_); \
    } while (0)

#define ASSERT_STR(a, b)                                                                             \
    do {                                                                                             \
        const char *ft_a_ = (a), *ft_b_ = (b);                                                       \
        if (strcmp(ft_a_, ft_b_) != 0)                                                               \
            FT_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, ft_a_, ft_b_);                             \
    } while (0)

/* Ends the current test as skipped, with a reason. */
#define FT_SKIP(why)                                                                                 \
    do {                                                                                             \
        fprintf(stderr, "  SKIP: %s\n", why);                                                        \
        longjmp(ft_t_jmp, 2);                                                                        \
    } while (0)

#define FT_RUN(fn)                                                                                   \
    do {                                                                                             \
        fprintf(stderr, "- %s\n", #fn);                                                              \
        int ft_r_ = setjmp(ft_t_jmp);                                                                \
        if (ft_r_ == 0) {                                                                            \
            fn();                                                                                    \
            ft_t_passed++;                                                                           \
        } else if (ft_r_ == 1) {                                                                     \
            ft_t_failed++;                                                                           \
        } else {                                                                                     \
            ft_t_skipped++;                                                                          \
        }                                                                                            \
    } while (0)

#define FT_DONE()                                                                                    \
    (printf("%d passed, %d failed, %d skipped\n", ft_t_passed, ft_t_failed, ft_t_skipped),          \
     ft_t_failed ? 1 : 0)

#endif
