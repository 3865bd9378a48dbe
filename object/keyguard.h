/* SPDX-License-Identifier: Apache-2.0 */
/* The data dir knows its root keys. The metadata records the id and key check value of every root
 * key the data dir depends on; at start-up the keyring must hold each of them, with the same key.
 * A new root key is made only for a fresh data dir (nothing stored, nothing recorded), so a
 * missing or mistyped key path never forks the keyring. A rotation records its key before
 * anything can be wrapped under it; retiring a key forgets it. Refusals are logged once, naming
 * the key ids and the key file, and return COF_ERR_KEY_ABSENT. */
#ifndef OBJ_KEYGUARD_H
#define OBJ_KEYGUARD_H

#include <stdbool.h>

#include "common/err.h"
#include "crypto/keyring.h"
#include "object/rootkeys.h"
#include "storage/meta.h"

enum obj_keyguard_mode {
    /* Serving, and admin commands that change things: refuse a keyring that lacks a recorded
     * key (or holds a different key under its id), or a missing key file for a data dir that
     * is not fresh; create the key file for a fresh one; record the keyring's keys not yet
     * recorded (the first start after an upgrade records the whole keyring). */
    OBJ_KEYGUARD_SERVE,
    /* fsck and `keys list`: load the keyring as it is, report what is missing, change nothing. */
    OBJ_KEYGUARD_INSPECT,
};

/* Opens the root keyring at path for the data dir data_dir (for messages) whose metadata is
 * meta, as mode says. strict_mode (the aws profile) also refuses a key file that group or others
 * can access; otherwise that is a warning. *out is the caller's (srv_rootkeys_close).
 * COF_ERR_KEY_ABSENT: refused (logged). Other codes: I/O, database, memory. */
COF_MUST_CHECK cof_err obj_keyguard_open(const char *path, const char *data_dir,
                                         struct sto_meta *meta, enum obj_keyguard_mode mode,
                                         bool strict_mode, struct srv_rootkeys **out);

/* The recorded state of root key id against the keyring rk holds now. */
enum obj_keyguard_state {
    OBJ_KEY_OK,         /* recorded, in the keyring, same key */
    OBJ_KEY_UNRECORDED, /* in the keyring, not recorded (recorded at the next start) */
    OBJ_KEY_MISSING,    /* recorded (or wrapping data), not in the keyring */
    OBJ_KEY_WRONG,      /* in the keyring, but a different key than the one recorded */
};
/* Tells the state of id (a key of rk's keyring, or a recorded or referenced id). */
COF_MUST_CHECK cof_err obj_keyguard_state(struct sto_meta *meta, struct srv_rootkeys *rk,
                                          const char *id, enum obj_keyguard_state *out);
/* Calls cb for each recorded id that rk's keyring lacks; pending: recorded by a rotation that has
 * not written the key to the keyring (it was interrupted, or is under way). */
typedef cof_err (*obj_keyguard_id_fn)(const char *id, bool pending, void *arg);
COF_MUST_CHECK cof_err obj_keyguard_each_missing(struct sto_meta *meta, struct srv_rootkeys *rk,
                                                 obj_keyguard_id_fn cb, void *arg);

/* Rotation: a fresh key under a fresh id, recorded (pending) in meta, appended to the keyring
 * file at path as its active key, the record confirmed, and loaded into rk. out_id gets the id.
 * If the file cannot be written the record is dropped again. */
COF_MUST_CHECK cof_err obj_keyguard_rotate(const char *path, struct sto_meta *meta,
                                           struct srv_rootkeys *rk,
                                           char out_id[CRY_KEY_ID_MAX + 1]);
/* Retirement of key id, which the caller checked wraps nothing any more: its record goes, then
 * its line in the keyring file. COF_ERR_NOT_FOUND (not in the keyring), COF_ERR_INVALID (the
 * active key). */
COF_MUST_CHECK cof_err obj_keyguard_retire(const char *path, struct sto_meta *meta, const char *id);

#endif
