/* SPDX-License-Identifier: Apache-2.0 */
/* The admin commands `coffer kms ...` and `coffer keys ...`: run against a data dir, safe next
 * to a running server (every change is one SQLite transaction). */
#ifndef SRV_ADMIN_H
#define SRV_ADMIN_H

#include "server/http.h"

/* Subcommand words and flags of an admin command (taken out of argv before the shared option
 * parser sees it). */
struct srv_admin_args {
    const char *words[4]; /* e.g. "create-key"; "disable", KEY; "create-alias", ALIAS, KEY */
    int n_words;
    const char *alias;
    const char *description;
    int days; /* schedule-deletion: 7..30 (AWS), default 30 */
};

/* Moves the admin words and flags out of argv[first..argc) into out; returns the new argc.
 * -1 on a flag missing its value (printed). */
int srv_admin_take_args(int argc, char **argv, int first, struct srv_admin_args *out);

/* Runs `coffer kms WORDS...`; returns the process exit status. */
int srv_admin_kms(struct srv_ctx *ctx, const struct srv_admin_args *a);
/* Runs `coffer keys WORDS...`. */
int srv_admin_keys(struct srv_ctx *ctx, const char *keyring_path, const struct srv_admin_args *a);
/* Prints the admin usage. */
void srv_admin_usage(void);

#endif
