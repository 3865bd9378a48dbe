/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite metadata store (DATA/coffer.db, WAL), the umbrella header: include this one from
 * outside storage/. It holds buckets and their configuration documents, objects and their
 * versions, multipart uploads and parts, the local KMS keys, what each root key wraps (rotation),
 * and the queue of blobs to unlink after a commit; the blob files themselves are in blob.h.
 * Speaks storage: NO_BUCKET, NO_OBJECT, never HTTP; keys, etags and wrapped DEKs are opaque.
 * Thread-safe: each call borrows a connection from an internal pool (one per concurrent caller)
 * and holds no lock across calls. Every multi-row change is one transaction. */
#ifndef STO_META_H
#define STO_META_H

#include "storage/bucket.h" /* buckets, bucket configs */
#include "storage/db.h"     /* sto_meta_open, sto_meta_close */
#include "storage/gc.h"     /* blob GC queue, state reset */
#include "storage/inline.h" /* small blobs inline in the metadata store */
#include "storage/kms.h"    /* local KMS keys and aliases */
#include "storage/object.h" /* objects, versions, listing */
#include "storage/rekey.h"  /* root key rotation */
#include "storage/upload.h" /* multipart uploads and parts */

#endif
