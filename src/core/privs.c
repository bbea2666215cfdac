/*
 * privs.c - --user: setgroups, setgid, setuid, verify (privs.h).
 */
#include "core/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/log.h"

int ft_drop_privileges(const char *name, char *err, size_t err_len)
{
    char *buf = NULL;
    int rc = -1;
    long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t bufsz = sz > 0 ? (size_t)sz : 16384;
    buf = malloc(bufsz);
    if (!buf) {
        snprintf(err, err_len, "--user %s: out of memory", name);
        goto fail;
    }
    struct passwd pw, *res = NULL;
    int e = getpwnam_r(name, &pw, buf, bufsz, &res);
    if (!res) {
        snprintf(err, err_len, "--user %s: no such user%s%s", name, e ? ": " : "", e ? strerror(e) : "");
        goto fail;
    }
    uid_t uid = pw.pw_uid;
    gid_t gid = pw.pw_gid;
    if (setgroups(1, &gid) != 0) {
        snprintf(err, err_len, "--user %s: setgroups: %s (run as root to switch users)", name, strerror(errno));
        goto fail;
    }
    if (setgid(gid) != 0) {
        snprintf(err, err_len, "--user %s: setgid(%u): %s", name, (unsigned)gid, strerror(errno));
        goto fail;
    }
    if (setuid(uid) != 0) {
        snprintf(err, err_len, "--user %s: setuid(%u): %s", name, (unsigned)uid, strerror(errno));
        goto fail;
    }
    /* Verify rather than trust: every ID changed, and the way back is shut. */
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != uid || eu != uid || su != uid ||
        rg != gid || eg != gid || sg != gid) {
        snprintf(err, err_len, "--user %s: the IDs did not all change", name);
        goto fail;
    }
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, err_len, "--user %s: root could be regained after the switch", name);
        goto fail;
    }
    gid_t groups[2];
    int ng = getgroups(2, groups);
    if (ng < 0 || ng > 1 || (ng == 1 && groups[0] != gid)) {
        snprintf(err, err_len, "--user %s: supplementary groups remain", name);
        goto fail;
    }
    ft_log(FT_LOG_INFO, "main", "running as user %s (uid %u, gid %u)", name, (unsigned)uid, (unsigned)gid);
    rc = 0;
fail:
    free(buf);
    return rc;
}
