/* SPDX-License-Identifier: Apache-2.0 */
/* S3 access control lists: canned ACLs, the x-amz-grant-* headers, the AccessControlPolicy
 * document (parse and validate as S3 does, write as S3 answers), the compact one-line form coffer
 * stores, and what an ACL grants. Object ownership and public access block values. Pure string
 * work: no I/O, no storage, no HTTP. Thread-safe. */
#ifndef SRV_ACL_H
#define SRV_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "s3/s3err.h"

#define SRV_ACL_MAX_GRANTS 100u /* S3: "An ACL can have up to 100 grants" */
#define SRV_ACL_ID_LEN     64u  /* a canonical user id: 64 lower-case hex digits */

#define SRV_ACL_ALL_USERS    "http://acs.amazonaws.com/groups/global/AllUsers"
#define SRV_ACL_AUTH_USERS   "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define SRV_ACL_LOG_DELIVERY "http://acs.amazonaws.com/groups/s3/LogDelivery"

/* Permission bits; FULL_CONTROL is all four. */
enum srv_acl_perm {
    SRV_ACL_READ = 1,
    SRV_ACL_WRITE = 2,
    SRV_ACL_READ_ACP = 4,
    SRV_ACL_WRITE_ACP = 8,
    SRV_ACL_FULL_CONTROL = 15,
};

enum srv_grantee_kind { SRV_GRANTEE_USER, SRV_GRANTEE_GROUP };

struct srv_grant {
    enum srv_grantee_kind kind;
    enum srv_acl_perm perm;
    char value[128]; /* USER: canonical id; GROUP: one of the three group URIs */
};

/* An ACL: its owner and its grants, in order. Large (about 14 KB): allocate it. */
struct srv_acl {
    char owner[SRV_ACL_ID_LEN + 1];
    size_t n;
    struct srv_grant g[SRV_ACL_MAX_GRANTS];
};

enum srv_acl_scope { SRV_ACL_BUCKET, SRV_ACL_OBJECT };

/* The canned ACL name for scope, as S3 defines it, with owner (and, for an object,
 * bucket_owner: bucket-owner-read/-full-control grant it) as canonical ids. For a bucket,
 * bucket-owner-read and bucket-owner-full-control are accepted and mean private (S3).
 * COF_ERR_INVALID_ARGUMENT for any other name (prob: S3's empty message, ArgumentName
 * x-amz-acl, ArgumentValue name, borrowed). */
COF_MUST_CHECK cof_err srv_acl_canned(const char *name, enum srv_acl_scope scope, const char *owner,
                                      const char *bucket_owner, struct srv_acl *out,
                                      struct srv_problem *prob);

/* The five x-amz-grant-* headers, in the order their permissions are listed (read, write,
 * read-acp, write-acp, full-control). */
extern const char *const srv_acl_grant_headers[5];

/* One grant header value ('id="...", uri="...", emailAddress="..."', comma separated) for the
 * permission of srv_acl_grant_headers[which], appended to out. InvalidArgument ("Argument format
 * not recognized" naming the header; "Invalid id" / "Invalid group uri" naming id / uri),
 * UnresolvableGrantByEmailAddress (coffer knows no e-mail addresses), COF_ERR_TOO_LARGE (over
 * 100 grants, as InvalidArgument); prob keeps the values it names in its text. */
COF_MUST_CHECK cof_err srv_acl_add_grant_header(struct srv_acl *out, size_t which,
                                                const char *value, struct srv_problem *prob);

/* An AccessControlPolicy document (cap SRV_MAX_SMALL_XML_BODY): Owner/ID required (Owner's
 * DisplayName ignored), AccessControlList with Grant elements, each a Grantee (xsi:type
 * CanonicalUser with ID, Group with URI, AmazonCustomerByEmail with EmailAddress) and a
 * Permission. MalformedACLError (COF_ERR_MALFORMED_ACL, bare) for anything malformed; S3's
 * InvalidArgument for a bad id ("Invalid id", CanonicalUser/ID) or group ("Invalid group uri",
 * Group/URI); UnresolvableGrantByEmailAddress; COF_ERR_TOO_LARGE, COF_ERR_NOMEM bare. */
COF_MUST_CHECK cof_err srv_acl_parse_xml(const char *body, size_t n, struct srv_acl *out,
                                         struct srv_problem *prob);

/* The GetBucketAcl / GetObjectAcl document. owner_name is the DisplayName of the owner, also
 * written for a user grantee that is the owner (NULL: none); other users have none. *out is
 * the caller's. */
COF_MUST_CHECK cof_err srv_acl_write_xml(const struct srv_acl *acl, const char *owner_name,
                                         char **out, size_t *out_len);

/* The stored form: one line of space-separated words, "owner:<id>" then "<PERM>:<u|g>:<value>"
 * per grant. *out is the caller's. */
COF_MUST_CHECK cof_err srv_acl_encode(const struct srv_acl *acl, char **out);
/* Reads srv_acl_encode's form back. COF_ERR_INVALID when it is not that form. */
COF_MUST_CHECK cof_err srv_acl_decode(const char *text, struct srv_acl *out);

/* Whether the ACL is its owner's FULL_CONTROL alone (what private means), which S3 accepts
 * while ACLs are disabled. */
bool srv_acl_is_owner_only(const struct srv_acl *acl);
/* Whether a grant gives anything to AllUsers or AuthenticatedUsers (S3's "public" ACL). */
bool srv_acl_is_public(const struct srv_acl *acl);
/* The permission bits the ACL grants to a requester: user (a canonical id, or NULL when
 * anonymous), signed (any authenticated principal). ignore_public drops the AllUsers and
 * AuthenticatedUsers grants (IgnorePublicAcls). */
unsigned srv_acl_granted(const struct srv_acl *acl, const char *user, bool signed_in,
                         bool ignore_public);

/* ---- object ownership (x-amz-object-ownership, OwnershipControls) ---- */
enum srv_ownership {
    SRV_OWN_ENFORCED,  /* BucketOwnerEnforced: ACLs disabled (the default since April 2023) */
    SRV_OWN_PREFERRED, /* BucketOwnerPreferred */
    SRV_OWN_WRITER,    /* ObjectWriter */
};
/* The name S3 uses for o. */
const char *srv_ownership_name(enum srv_ownership o);
/* A name back; false when it is none of the three. */
bool srv_ownership_parse(const char *name, enum srv_ownership *out);
/* An OwnershipControls document: exactly one Rule with one valid ObjectOwnership, else
 * COF_ERR_MALFORMED_XML (bare); COF_ERR_TOO_LARGE, COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_ownership_parse_xml(const char *body, size_t n, enum srv_ownership *out);

/* ---- public access block ---- */
struct srv_pab {
    bool block_acls, ignore_acls, block_policy, restrict_buckets;
};
/* A PublicAccessBlockConfiguration document: each of the four flags optional ("true" or
 * "false", absent is false); anything else COF_ERR_MALFORMED_XML (bare). */
COF_MUST_CHECK cof_err srv_pab_parse_xml(const char *body, size_t n, struct srv_pab *out);
/* The GetPublicAccessBlock document (also the stored form). *out is the caller's. */
COF_MUST_CHECK cof_err srv_pab_write_xml(const struct srv_pab *p, char **out, size_t *out_len);

#endif
