/* SPDX-License-Identifier: Apache-2.0 */
/* Hex encode/decode. Digits are computed with arithmetic instead of branches or a table indexed
 * by the data (as libsodium's sodium_bin2hex/sodium_hex2bin do), because root-key bytes pass
 * through here when the keyring file is read and written. */
#include "common/hex.h"

/* The digit for nibble v (0..15). alpha_gap is the distance from '0'+10 to the first letter:
 * 'a' - '0' - 10 = 39, or 'A' - '0' - 10 = 7. (9 - v) >> 8 is all ones exactly when v > 9. */
static char nibble(unsigned v, unsigned alpha_gap)
{
    return (char)(v + '0' + (((9u - v) >> 8) & alpha_gap));
}

static void encode(const uint8_t *in, size_t n, char *out, unsigned alpha_gap)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = nibble((unsigned)in[i] >> 4, alpha_gap);
        out[2 * i + 1] = nibble((unsigned)in[i] & 15u, alpha_gap);
    }
    out[2 * n] = '\0';
}

void cof_hex_encode(const uint8_t *in, size_t n, char *out)
{
    encode(in, n, out, 'a' - '0' - 10);
}

void cof_hex_encode_upper(const uint8_t *in, size_t n, char *out)
{
    encode(in, n, out, 'A' - '0' - 10);
}

/* The value (0..15) of digit ch; ORs 0xff into *bad if ch is not a digit of case cs. A mask
 * below is 0xff when its range test holds: (x - lo) ^ (x - hi) has bits above 7 set exactly
 * when lo <= x < hi, for the small ranges here (x is a byte offset, so nothing wraps twice). */
static unsigned digit(char ch, enum cof_hex_case cs, unsigned *bad)
{
    unsigned c = (unsigned char)ch;
    unsigned num = c ^ '0'; /* '0'..'9' -> 0..9 */
    unsigned num_ok = ((num - 10u) >> 8) & 0xffu;
    /* c | 32 maps only 'A'..'F' onto 'a'..'f' within that range. */
    unsigned alpha = (cs == COF_HEX_ANY_CASE ? (c | 32u) : c) - ('a' - 10u);
    unsigned alpha_ok = (((alpha - 10u) ^ (alpha - 16u)) >> 8) & 0xffu;
    *bad |= (num_ok | alpha_ok) ^ 0xffu;
    return ((num_ok & num) | (alpha_ok & alpha)) & 15u;
}

bool cof_hex_valid(const char *s, size_t n, enum cof_hex_case cs)
{
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++)
        (void)digit(s[i], cs, &bad);
    return bad == 0;
}

cof_err cof_hex_decode(const char *in, size_t len, enum cof_hex_case cs, uint8_t *out, size_t cap)
{
    if (len % 2 != 0 || !cof_hex_valid(in, len, cs))
        return COF_ERR_INVALID;
    if (len / 2 > cap)
        return COF_ERR_TOO_LARGE;
    unsigned bad = 0;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned hi = digit(in[2 * i], cs, &bad);
        out[i] = (uint8_t)(hi << 4 | digit(in[2 * i + 1], cs, &bad));
    }
    return COF_OK;
}
