/*
 * privs.h - --user NAME: give up root once the privileged work is done.
 *
 * flowtally needs root (or CAP_NET_BIND_SERVICE) only to bind ports below
 * 1024 and to open files only root may open. main.c calls
 * ft_drop_privileges after the pipeline is built (UDP sockets bound, the
 * HTTP socket listening, the SQLite database, GeoIP files, capture and
 * token file open) and before any datagram is read, so a bug reachable
 * from a packet runs as an unprivileged user.
 *
 * Order (each step checked): setgroups() to the user's primary group only
 * (supplementary groups such as root's would otherwise stay), setgid(),
 * then setuid() last (after it, the group could no longer be changed).
 * Then verified: real, effective and saved IDs are the user's, and
 * setuid(0) fails. glibc applies setuid/setgid/setgroups to every thread of
 * the process (NPTL's setxid broadcast), so threads started earlier (HTTP,
 * librdkafka) are dropped too.
 *
 * Files opened later must be reachable by the user: SQLite creates its
 * -wal/-shm/-journal files next to the --db file, and the HTTP queries open
 * the database again read-only, so the --db directory must be writable by
 * the user (packaging/flowtally.service: StateDirectory).
 */
#ifndef FT_PRIVS_H
#define FT_PRIVS_H

#include <stddef.h>

/* Switches the whole process to user `name` (a name or a decimal uid from
 * the passwd database) and its primary group. Returns 0, or -1 with a
 * message in err: unknown user, not permitted (not root), or the check
 * after the switch failed - the caller must then exit, not run on. */
int ft_drop_privileges(const char *name, char *err, size_t err_len);

#endif
