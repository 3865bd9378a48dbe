/* SPDX-License-Identifier: Apache-2.0 */
/* storage/ private helpers: used inside storage/ and by tests/unit/storage only. Not part of the
 * storage contract; server/ must not include this file. */
#ifndef STO_INTERNAL_H
#define STO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* PRAGMA user_version of a fully migrated coffer.db (= number of migration steps in meta.c). */
#define STO_META_SCHEMA_VERSION 5

/* The SQL sto_meta_list_objects runs for a lower bound that is inclusive (>=) or not (>), with or
 * without an exclusive upper bound (the prefix successor). For EXPLAIN QUERY PLAN tests. */
const char *sto_meta_list_sql(bool inclusive, bool bounded);

/* Writes into out (len bytes available) the smallest byte string greater than every string that
 * starts with prefix[0..len): drop trailing 0xFF bytes, then increment the last byte. Returns its
 * length, or 0 when there is none (empty prefix, or all 0xFF): the range is then unbounded. */
size_t sto_meta_prefix_successor(const char *prefix, size_t len, char *out);

#endif
