/* SPDX-License-Identifier: Apache-2.0 */
/* sd_notify's wire protocol: a datagram holding "VAR=value" lines sent to $NOTIFY_SOCKET, a
 * filesystem path or, with a leading '@', an abstract socket name. */
#include "server/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

void srv_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un sa;
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path)) {
        cof_log_debug(NULL, "NOTIFY_SOCKET too long; not notifying");
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        cof_log_debug(NULL, "notify: socket: %s", strerror(errno));
        return;
    }
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa, len) < 0)
        cof_log_debug(NULL, "notify %s: %s", path, strerror(errno));
    close(fd);
}
