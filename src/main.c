/*
 * main.c - flowtally: parse the configuration, build the pipeline, run until
 * SIGINT/SIGTERM (or the end of --pcap), tear down in reverse, print --stats.
 *
 * Exit status: 0 success, 1 runtime failure (cannot bind, cannot read the
 * capture...), 2 bad command line.
 *
 * Signals: SIGINT and SIGTERM only set a flag. In live mode they stay
 * blocked except inside sigsuspend(), so the main thread sleeps until one
 * arrives without a race between testing the flag and sleeping; the worker
 * threads block every signal (udp.c). SIGPIPE is ignored: a closed --print
 * pipe becomes a counted write error, not a silent death.
 *
 * SIGHUP (live mode) re-reads the configuration: the same command line is
 * parsed again, which re-reads --config, and the pipeline applies what can
 * change while it runs (ft_pipeline_reload). It too only sets a flag; the
 * reload runs on this thread, outside the handler.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/privs.h"
#include "pipeline.h"

_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "the stop flag is set from a signal handler");

static atomic_bool g_stop, g_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        atomic_store(&g_reload, true);
    else
        atomic_store(&g_stop, true);
}

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

/* --user: after ft_pipeline_new (sockets bound, files open), before the
 * first datagram is read (privs.h). */
static int drop(const ft_config *c)
{
    char err[512];
    if (!c->user)
        return 0;
    if (ft_drop_privileges(c->user, err, sizeof err) != 0) {
        ft_log(FT_LOG_ERROR, "main", "%s", err);
        return -1;
    }
    return 0;
}

/* SIGHUP: parse the command line (and so --config) again and hand the
 * result to the pipeline; a configuration that does not parse changes
 * nothing. */
static void reload(ft_pipeline *p, int argc, char **argv)
{
    char err[512];
    ft_log(FT_LOG_INFO, "reload", "SIGHUP: reading the configuration again");
    ft_config *nc = malloc(sizeof *nc);
    if (!nc) {
        ft_pipeline_reload_failed(p, "out of memory");
        return;
    }
    ft_config_init(nc);
    if (ft_config_parse_args(nc, argc, argv, err, sizeof err) != FT_CONFIG_OK) {
        ft_config_free(nc);
        free(nc);
        ft_pipeline_reload_failed(p, err);
        return;
    }
    ft_pipeline_reload(p, nc);
}

/* Sleeps until SIGINT/SIGTERM (old: the mask without them), running a
 * reload for each SIGHUP meanwhile. */
static void wait_for_stop(ft_pipeline *p, const sigset_t *old, int argc, char **argv)
{
    while (!atomic_load(&g_stop)) {
        sigsuspend(old);
        if (atomic_exchange(&g_reload, false) && !atomic_load(&g_stop))
            reload(p, argc, argv);
    }
}

int main(int argc, char **argv)
{
    ft_config c;
    char err[512];
    ft_config_init(&c);
    if (ft_config_parse_args(&c, argc, argv, err, sizeof err) != FT_CONFIG_OK) {
        fprintf(stderr, "flowtally: %s\nTry 'flowtally --help'.\n", err);
        ft_config_free(&c);
        return 2;
    }
    if (c.help || c.version) {
        if (c.help)
            ft_config_usage(stdout);
        else
            puts(FT_VERSION_STRING);
        ft_config_free(&c);
        return 0;
    }
    ft_log_threshold = c.log_level;

    int rc = 1;
    ft_pipeline *p = NULL;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    if (install_signals() != 0) {
        ft_log(FT_LOG_ERROR, "main", "cannot install signal handlers");
        goto out;
    }

    if (c.pcap) {
        /* The replay runs on this thread with signals deliverable: the
         * handler's flag ends it between two packets. */
        if (!(p = ft_pipeline_new(&c)) || drop(&c) != 0)
            goto out;
        rc = ft_pipeline_run_pcap(p, &g_stop) == 0 ? 0 : 1;
        if (c.serve && ft_pipeline_serving(p)) {
            /* --serve: the windows are flushed; answer queries until told
             * to stop. Blocked first, as in live mode, so a signal between
             * the test and the wait is not lost. */
            sigprocmask(SIG_BLOCK, &block, &old);
            if (!atomic_load(&g_stop))
                ft_log(FT_LOG_INFO, "main", "capture replayed: serving HTTP until SIGINT or SIGTERM");
            wait_for_stop(p, &old, argc, argv);
            ft_log(FT_LOG_INFO, "main", "stopping");
        }
    } else {
        /* Block first, so the workers inherit a blocked mask and a signal
         * arriving before sigsuspend waits for it. */
        sigprocmask(SIG_BLOCK, &block, &old);
        if (!(p = ft_pipeline_new(&c)) || drop(&c) != 0 || ft_pipeline_start(p) != 0)
            goto out;
        wait_for_stop(p, &old, argc, argv);
        ft_log(FT_LOG_INFO, "main", "stopping");
        ft_pipeline_stop(p);
        rc = 0;
    }
    if (c.stats)
        ft_pipeline_print_stats(p, stderr);

out:
    ft_pipeline_free(p);
    ft_config_free(&c);
    return rc;
}
