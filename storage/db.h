/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata database (DATA/coffer.db, SQLite in WAL mode): open, which creates or migrates
 * the schema, and close. struct sto_meta is the handle every sto_meta_* call takes; it is
 * thread-safe (an internal pool gives each concurrent caller its own connection). */
#ifndef STO_DB_H
#define STO_DB_H

#include <stdbool.h>

#include "common/err.h"

struct sto_meta;

/* Opens or creates DATA/coffer.db (schema created/migrated; WAL; synchronous FULL when
 * durability_full, else NORMAL). COF_ERR_DB. db_path must name a file (each pooled connection
 * opens it; ":memory:" would give each its own database). A new file is created 0600. A database
 * whose schema is newer than this build is refused (COF_ERR_DB). */
COF_MUST_CHECK cof_err sto_meta_open(const char *db_path, bool durability_full,
                                     struct sto_meta **out);
/* Writes a consistent snapshot of the whole database into dest_path (a new file; SQLite's
 * online backup API, one read transaction: writers go on meanwhile). COF_ERR_DB. */
COF_MUST_CHECK cof_err sto_meta_backup(struct sto_meta *m, const char *dest_path);
/* Closes every pooled connection. Accepts NULL. No call may be in flight. */
void sto_meta_close(struct sto_meta *m);

#endif
