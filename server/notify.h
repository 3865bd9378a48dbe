/* SPDX-License-Identifier: Apache-2.0 */
/* systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the unix
 * socket named by $NOTIFY_SOCKET. Does nothing when the variable is unset. */
#ifndef SRV_NOTIFY_H
#define SRV_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1") to the service manager. Best effort: a failure is
 * logged at debug level and otherwise ignored. */
void srv_notify(const char *state);

#endif
