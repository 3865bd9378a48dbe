/* SPDX-License-Identifier: Apache-2.0 */
/* The root keyring: 256-bit root keys with short ids, one of them active, kept in one file.
 *
 * Contract:
 *  - File format (text, mode 0600): first line "coffer-root-keyring v1", then one line per key
 *    "<id> <64 hex chars>"; the last line's key is the active one. Ids are [A-Za-z0-9_-]{1,32}.
 *  - Ids of keys made here are unique per key: "rk-" and 16 random hex digits (older keyrings
 *    numbered them "rk1", "rk2", ...; any valid id is accepted as it is).
 *  - cry_keyring_load with create=true writes a new file holding one fresh key under a fresh id
 *    when the path does not exist: written to "<path>.tmp" with O_EXCL and 0600, fsynced, then
 *    published without replacing a file created meanwhile.
 *  - A keyring is immutable after load and safe to share between threads.
 */
#ifndef CRY_KEYRING_H
#define CRY_KEYRING_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "crypto/key.h"

#define CRY_KEY_ID_MAX 32

struct cry_keyring;

/* Loads the keyring at path. Missing file: created when create is true, else COF_ERR_NOT_FOUND.
 * Malformed file -> COF_ERR_CONFIG; I/O -> COF_ERR_IO. Logs the reason once. */
COF_MUST_CHECK cof_err cry_keyring_load(const char *path, bool create, struct cry_keyring **out);
/* Wipes and frees. Accepts NULL. */
void cry_keyring_free(struct cry_keyring *kr);
/* The active key and its id; both borrowed, valid while kr lives. */
const struct cry_key *cry_keyring_active(const struct cry_keyring *kr, const char **out_id);
/* The key with this id, or NULL if the ring has none. Borrowed, valid while kr lives. */
const struct cry_key *cry_keyring_find(const struct cry_keyring *kr, const char *id);

/* Number of keys (>= 1) and the id of key i, oldest first; the last is the active one. */
size_t cry_keyring_count(const struct cry_keyring *kr);
const char *cry_keyring_id(const struct cry_keyring *kr, size_t i);

/* A fresh key id: "rk-" and 16 random hex digits. COF_ERR_INTERNAL on RNG failure. */
COF_MUST_CHECK cof_err cry_keyring_new_id(char out[CRY_KEY_ID_MAX + 1]);
/* Rotation: appends key under id (borrowed; a fresh key and id from cry_key_new_random and
 * cry_keyring_new_id), which becomes the active key. The file is rewritten as <path>.new (0600),
 * fsynced, renamed over path, and the directory fsynced. COF_ERR_EXISTS if the file already
 * has id; COF_ERR_IO, COF_ERR_CONFIG. A malformed id is a bug. */
COF_MUST_CHECK cof_err cry_keyring_add_key(const char *path, const char *id,
                                           const struct cry_key *key);
/* Removes key id from the file the same way. COF_ERR_NOT_FOUND if absent; COF_ERR_INVALID for
 * the active key (it cannot be retired). The caller checks nothing still depends on it. */
COF_MUST_CHECK cof_err cry_keyring_remove_key(const char *path, const char *id);

#endif
