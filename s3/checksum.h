/* SPDX-License-Identifier: Apache-2.0 */
/* S3 additional checksums (x-amz-checksum-*): CRC32 and CRC32C (ISA-L), CRC64NVME (written
 * here: no packaged library has it), SHA1 and SHA256 (OpenSSL). Streaming: init, update many
 * times, final. Values travel base64-encoded, big-endian for the CRCs, as AWS sends them. */
#ifndef SRV_CHECKSUM_H
#define SRV_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum srv_cksum_alg {
    SRV_CKSUM_NONE = 0,
    SRV_CKSUM_CRC32,
    SRV_CKSUM_CRC32C,
    SRV_CKSUM_CRC64NVME,
    SRV_CKSUM_SHA1,
    SRV_CKSUM_SHA256,
    SRV_CKSUM__COUNT
};

#define SRV_CKSUM_MAX_LEN 32 /* raw bytes (SHA256) */
#define SRV_CKSUM_B64_MAX 48

struct cry_digest;

struct srv_cksum {
    enum srv_cksum_alg alg;
    uint64_t crc;
    struct cry_digest *sha;
};

/* "CRC32" -> SRV_CKSUM_CRC32 (case-insensitive); SRV_CKSUM_NONE if unknown. */
enum srv_cksum_alg srv_cksum_parse_name(const char *name);
/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256". */
const char *srv_cksum_name(enum srv_cksum_alg alg);
/* The header carrying it: "x-amz-checksum-crc32" etc. */
const char *srv_cksum_header(enum srv_cksum_alg alg);
/* Raw length of the value (4, 4, 8, 20, 32). */
size_t srv_cksum_len(enum srv_cksum_alg alg);

COF_MUST_CHECK cof_err srv_cksum_init(struct srv_cksum *c, enum srv_cksum_alg alg);
void srv_cksum_update(struct srv_cksum *c, const void *p, size_t n);
/* Writes the base64 value into out (SRV_CKSUM_B64_MAX) and releases the state. */
void srv_cksum_final(struct srv_cksum *c, char out[SRV_CKSUM_B64_MAX]);
/* Releases the state without a result. Accepts a zeroed struct. */
void srv_cksum_cleanup(struct srv_cksum *c);

/* Whether alg is one of the CRCs (the algorithms a FULL_OBJECT multipart checksum can use). */
bool srv_cksum_is_crc(enum srv_cksum_alg alg);
/* A CRC value from its base64 form (big-endian, srv_cksum_len bytes). COF_ERR_INVALID if b64 is
 * not a value of alg's length or alg is not a CRC. */
COF_MUST_CHECK cof_err srv_cksum_crc_decode(enum srv_cksum_alg alg, const char *b64, uint64_t *out);
/* The base64 form of a CRC value. */
void srv_cksum_crc_encode(enum srv_cksum_alg alg, uint64_t crc, char out[SRV_CKSUM_B64_MAX]);
/* CRC of A||B from crc_a = CRC(A), crc_b = CRC(B) and len_b = |B|, for CRC32, CRC32C and
 * CRC64NVME (final values, as srv_cksum_final gives them). COF_BUG for any other alg. */
uint64_t srv_crc_combine(enum srv_cksum_alg alg, uint64_t crc_a, uint64_t crc_b, uint64_t len_b);

/* CRC64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones) over n bytes,
 * continuing from crc (pass 0 to start): crc64nvme("123456789") = 0xae8b14860a799888. */
uint64_t srv_crc64nvme(uint64_t crc, const void *p, size_t n);
/* The same with the table method only (no carry-less multiplication): the reference the unit
 * tests hold the fast path to. */
uint64_t srv_crc64nvme_portable(uint64_t crc, const void *p, size_t n);

#endif
