/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite metadata store (WAL): buckets, per-bucket configuration documents, objects, and the
 * queue of blobs to unlink after a commit. Speaks storage: NO_BUCKET, NO_OBJECT, never HTTP.
 * Thread-safe: each call borrows a connection from an internal pool (one per concurrent caller)
 * and holds no lock across calls. Every multi-row change is one transaction. */
#ifndef STO_META_H
#define STO_META_H

#include "storage/bucket.h"
#include "storage/db.h"
#include "storage/gc.h"
#include "storage/kms.h"
#include "storage/object.h"
#include "storage/rekey.h"
#include "storage/upload.h"

#endif
