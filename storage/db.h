/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata database: open (schema migrations) and close. */
#ifndef STO_DB_H
#define STO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct sto_meta;

/* Opens or creates DATA/coffer.db (schema created/migrated; WAL; synchronous FULL when
 * durability_full, else NORMAL). COF_ERR_DB. db_path must name a file (each pooled connection
 * opens it; ":memory:" would give each its own database). A new file is created 0600. A database
 * whose schema is newer than this build is refused (COF_ERR_DB). */
COF_MUST_CHECK cof_err sto_meta_open(const char *db_path, bool durability_full,
                                     struct sto_meta **out);
/* Closes every pooled connection. Accepts NULL. No call may be in flight. */
void sto_meta_close(struct sto_meta *m);

#endif
