/* SPDX-License-Identifier: Apache-2.0 */
/* The root keyring as a running process sees it. `coffer keys rotate` may add a key from another
 * process: the file is re-read when an unknown key id shows up and, at most once a second, when
 * its modification time changed. Superseded keyrings stay allocated until close, so a borrowed
 * key stays valid for the life of the process. Thread-safe. */
#ifndef SRV_ROOTKEYS_H
#define SRV_ROOTKEYS_H

#include <stdbool.h>

#include "common/err.h"
#include "crypto/key.h"
#include "crypto/keyring.h"

struct srv_rootkeys;

/* Loads the keyring at path (created when missing and create is set). */
COF_MUST_CHECK cof_err srv_rootkeys_open(const char *path, bool create, struct srv_rootkeys **out);
/* Frees every keyring loaded. Accepts NULL. No call may be in flight. */
void srv_rootkeys_close(struct srv_rootkeys *rk);
/* The active key and its id (borrowed, valid until close). */
const struct cry_key *srv_rootkeys_active(struct srv_rootkeys *rk, const char **out_id);
/* The newest keyring loaded (borrowed, valid until close). */
const struct cry_keyring *srv_rootkeys_current(struct srv_rootkeys *rk);
/* The key with this id, or NULL (after one reload attempt). */
const struct cry_key *srv_rootkeys_find(struct srv_rootkeys *rk, const char *id);

#endif
