/* SPDX-License-Identifier: Apache-2.0 */
/* Base16 (hex) text <-> bytes: the one copy for request ids, blob ids, digests, signatures and
 * keyring lines. Pure functions: no allocation, no I/O, thread-safe. No branch or table index
 * depends on the data, since key material passes through (the keyring file). */
#ifndef COF_HEX_H
#define COF_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Which digits a decoder accepts. There is no default: each caller says which it reads. */
enum cof_hex_case {
    COF_HEX_ANY_CASE, /* 0-9 a-f A-F: text a person may have written (keyring file, %XX) */
    COF_HEX_LOWER,    /* 0-9 a-f only: canonical ids, so a value has one spelling (blob ids) */
};

/* Writes the lower-case hex of in[0..n) and a NUL: out needs 2n+1 bytes. in may be NULL when
 * n == 0 (out becomes ""). */
void cof_hex_encode(const uint8_t *in, size_t n, char *out);
/* Same with upper-case digits (A-F), as AWS writes request ids and %XX escapes. */
void cof_hex_encode_upper(const uint8_t *in, size_t n, char *out);

/* Whether s[0..n) is n hex digits of case cs (n == 0: true; a NUL inside is not a digit). An odd
 * n is fine here: this checks digits, not byte pairs. */
bool cof_hex_valid(const char *s, size_t n, enum cof_hex_case cs);

/* Decodes the len hex digits at in (no NUL needed) into len/2 bytes at out. COF_ERR_INVALID: len
 * is odd, or a char is not a digit of case cs (no whitespace, no "0x"). COF_ERR_TOO_LARGE:
 * len/2 > cap. On failure nothing is written to out, so a caller decoding a secret has only
 * its own buffer to wipe. */
COF_MUST_CHECK cof_err cof_hex_decode(const char *in, size_t len, enum cof_hex_case cs,
                                      uint8_t *out, size_t cap);

#endif
