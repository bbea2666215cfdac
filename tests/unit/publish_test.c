/*
 * publish_test.c - the snapshot hand-over of core/publish.h, driven step by
 * step on one thread (the interleavings are chosen here, not left to a
 * scheduler): a reader sees each publication once, a snapshot counts as
 * released only when every reader has acknowledged a later generation, and
 * a reader that races two publications acknowledges late, never early.
 */
#include "core/publish.h"

#include "test.h"

static void t_poll_and_ack(void)
{
    int s0 = 0, s1 = 1, s2 = 2;
    ft_publish *p = ft_publish_new(2, &s0);
    ASSERT_TRUE(p != NULL);
    ASSERT_TRUE(ft_publish_current(p) == &s0);
    ASSERT_TRUE(ft_publish_all_acked(p, 0));
    uint64_t seen0 = 0, seen1 = 0;
    /* Nothing published: nothing to switch to. */
    ASSERT_TRUE(ft_publish_poll(p, 0, &seen0) == NULL);

    uint64_t g = ft_publish_set(p, &s1);
    ASSERT_EQ(g, 1);
    ASSERT_TRUE(!ft_publish_all_acked(p, 1));
    ASSERT_TRUE(ft_publish_poll(p, 0, &seen0) == &s1);
    ASSERT_EQ(seen0, 1);
    ASSERT_TRUE(ft_publish_poll(p, 0, &seen0) == NULL); /* once only */
    ft_publish_ack(p, 0, seen0);
    ASSERT_TRUE(!ft_publish_all_acked(p, 1)); /* reader 1 may still hold s0 */
    ASSERT_TRUE(ft_publish_poll(p, 1, &seen1) == &s1);
    ft_publish_ack(p, 1, seen1);
    ASSERT_TRUE(ft_publish_all_acked(p, 1)); /* s0 may go now */
    ASSERT_TRUE(!ft_publish_all_acked(p, 2));

    /* Two publications before reader 1 polls: it jumps to the newest and
     * acknowledges it; reader 0 still holds s1, so generation 2 (s1's
     * replacement) is not acknowledged by all. */
    ASSERT_EQ(ft_publish_set(p, &s2), 2);
    ASSERT_EQ(ft_publish_set(p, &s0), 3);
    ASSERT_TRUE(ft_publish_poll(p, 1, &seen1) == &s0);
    ASSERT_EQ(seen1, 3);
    ft_publish_ack(p, 1, seen1);
    ASSERT_TRUE(!ft_publish_all_acked(p, 2));
    ASSERT_TRUE(ft_publish_poll(p, 0, &seen0) == &s0);
    ft_publish_ack(p, 0, seen0);
    ASSERT_TRUE(ft_publish_all_acked(p, 3));
    ft_publish_free(p);
}

int main(void)
{
    FT_RUN(t_poll_and_ack);
    return FT_DONE();
}
