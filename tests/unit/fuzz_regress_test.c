/*
 * fuzz_regress_test.c - replays, through the same harness the fuzz targets
 * run (fuzz/harness.c: the decoders or pkt_header, with the harness's
 * contract checks), every input a fuzz target found
 * (tests/data/fuzz-regress/<target>/) and every committed hand seed
 * (fuzz/seeds/<target>/: the caps, withdrawals, expiry, header chains the
 * targets start from). Built in every configuration, so the inputs run in
 * the plain build and under ASan + UBSan (build-asan) without clang or
 * libFuzzer; a regression aborts this test (harness contract) or is reported
 * by the sanitizers. Logging is on (FT_FUZZ_LOG=1), so every fault's log
 * line is formatted too, which the fuzz runs skip for speed.
 *
 * The findings are listed in tests/data/fuzz-regress/README.md. A folder
 * that names no target fails the test, so an input cannot be silently
 * skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "harness.h"
#include "test.h"

static const char *data_dir(void)
{
    const char *d = getenv("FT_TEST_DATA");
    return d ? d : "tests/data";
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *b = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(fp);
                return NULL;
            }
            b = nb;
        }
        size_t got = fread(b + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    fclose(fp);
    *n = len;
    return b;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t g_inputs;

/* Replays every regular file of dir through target t, in name order. */
static void replay_dir(ft_fuzz_target t, const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return; /* no finding for this target yet */
    char *names[1024];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        ASSERT_TRUE(n < sizeof names / sizeof names[0]);
        names[n] = strdup(e->d_name);
        ASSERT_TRUE(names[n] != NULL);
        n++;
    }
    closedir(dp);
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        int pn = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (pn < 0 || (size_t)pn >= sizeof path)
            FT_FAIL("path too long: %s/%s", dir, names[i]);
        size_t len = 0;
        uint8_t *b = slurp(path, &len);
        if (!b)
            FT_FAIL("cannot read %s: %s", path, strerror(errno));
        fprintf(stderr, "  %s/%s (%zu bytes)\n", ft_fuzz_name(t), names[i], len);
        ASSERT_EQ(ft_fuzz_run(t, b, len), 0);
        free(b);
        free(names[i]);
        g_inputs++;
    }
}

/* Every folder under fuzz-regress/ is a target's name. */
static void t_folders_name_targets(void)
{
    char root[4096];
    snprintf(root, sizeof root, "%s/fuzz-regress", data_dir());
    DIR *dp = opendir(root);
    if (!dp)
        FT_FAIL("cannot open %s: %s", root, strerror(errno));
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        char path[8192];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (ft_fuzz_by_name(e->d_name) == FT_FUZZ_COUNT) {
            closedir(dp);
            FT_FAIL("%s names no fuzz target", path);
        }
    }
    closedir(dp);
}

static void replay_root(const char *root)
{
    for (int t = 0; t < FT_FUZZ_COUNT; t++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", root, ft_fuzz_name((ft_fuzz_target)t));
        replay_dir((ft_fuzz_target)t, dir);
    }
}

static void t_replay_findings(void)
{
    char root[4096];
    snprintf(root, sizeof root, "%s/fuzz-regress", data_dir());
    g_inputs = 0;
    replay_root(root);
    fprintf(stderr, "  %zu findings replayed\n", g_inputs);
}

static void t_replay_hand_seeds(void)
{
    char root[4096];
    snprintf(root, sizeof root, "%s/../../fuzz/seeds", data_dir());
    g_inputs = 0;
    replay_root(root);
    fprintf(stderr, "  %zu hand seeds replayed\n", g_inputs);
    ASSERT_TRUE(g_inputs > 0);
}

int main(void)
{
    setenv("FT_FUZZ_LOG", "1", 1);
    FT_RUN(t_folders_name_targets);
    FT_RUN(t_replay_findings);
    FT_RUN(t_replay_hand_seeds);
    return FT_DONE();
}
