/* SPDX-License-Identifier: Apache-2.0 */
/* cof_hex: every byte value against a plain reference, every char as a digit of each case, then
 * a table of decode cases (odd length, non-digits, case, NUL, cap) where failure writes nothing. */
#include "check.h"
#include "common/err.h"
#include "common/hex.h"

#include <stdint.h>
#include <string.h>

/* The obvious (branching) digit value, to hold the arithmetic one to. */
static int ref_value(int c, enum cof_hex_case cs)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (cs == COF_HEX_ANY_CASE && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void test_encode_every_byte(void)
{
    static const char lower[] = "0123456789abcdef";
    static const char upper[] = "0123456789ABCDEF";
    for (unsigned b = 0; b < 256; b++) {
        uint8_t in = (uint8_t)b;
        char out[3] = {'x', 'x', 'x'};
        char want[3] = {lower[b >> 4], lower[b & 15], '\0'};
        cof_hex_encode(&in, 1, out);
        CHECK_MEM(out, want, 3);
        want[0] = upper[b >> 4];
        want[1] = upper[b & 15];
        cof_hex_encode_upper(&in, 1, out);
        CHECK_MEM(out, want, 3);
    }
    char out[16];
    memset(out, 'x', sizeof(out));
    cof_hex_encode(NULL, 0, out);
    CHECK_EQ_STR(out, "");
    cof_hex_encode((const uint8_t *)"\x00\x01\xab\xff\x7f", 5, out);
    CHECK_EQ_STR(out, "0001abff7f");
    cof_hex_encode_upper((const uint8_t *)"\x00\x01\xab\xff\x7f", 5, out);
    CHECK_EQ_STR(out, "0001ABFF7F");
}

/* Each of the 256 chars, as the second digit of a pair, in both cases. */
static void test_every_char(void)
{
    static const enum cof_hex_case cases[] = {COF_HEX_ANY_CASE, COF_HEX_LOWER};
    for (size_t k = 0; k < 2; k++) {
        int mismatches = 0;
        for (int c = 0; c < 256; c++) {
            int want = ref_value(c, cases[k]);
            char in[2] = {'1', (char)c};
            uint8_t out = 0xee;
            cof_err err = cof_hex_decode(in, 2, cases[k], &out, 1);
            bool valid = cof_hex_valid(in + 1, 1, cases[k]);
            if (want < 0 && (err != COF_ERR_INVALID || out != 0xee || valid))
                mismatches++;
            if (want >= 0 && (err != COF_OK || out != 0x10 + want || !valid))
                mismatches++;
        }
        CHECK_EQ_INT(mismatches, 0);
    }
}

struct decode_case {
    const char *in;
    size_t len; /* SIZE_MAX: strlen(in) */
    enum cof_hex_case cs;
    size_t cap;
    cof_err want;
    const char *bytes; /* expected output when want == COF_OK */
};

static const struct decode_case decode_cases[] = {
    {"", SIZE_MAX, COF_HEX_LOWER, 0, COF_OK, ""},
    {"00ff10", SIZE_MAX, COF_HEX_LOWER, 3, COF_OK, "\x00\xff\x10"},
    {"DEADbeef", SIZE_MAX, COF_HEX_ANY_CASE, 4, COF_OK, "\xde\xad\xbe\xef"},
    /* Upper case: accepted only where the caller says any case. */
    {"DEADbeef", SIZE_MAX, COF_HEX_LOWER, 4, COF_ERR_INVALID, NULL},
    {"deadbeeF", SIZE_MAX, COF_HEX_LOWER, 4, COF_ERR_INVALID, NULL},
    /* Odd lengths, even when every char is a digit. */
    {"a", SIZE_MAX, COF_HEX_ANY_CASE, 4, COF_ERR_INVALID, NULL},
    {"abc", SIZE_MAX, COF_HEX_LOWER, 4, COF_ERR_INVALID, NULL},
    /* Not digits: neighbours of the ranges, signs, space, prefix, high bytes, NUL. */
    {"0g", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {"0G", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {"/0", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {":0", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {"@0", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {"`0", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {"0x12", SIZE_MAX, COF_HEX_ANY_CASE, 2, COF_ERR_INVALID, NULL},
    {"-1", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {"12 ", 4, COF_HEX_ANY_CASE, 2, COF_ERR_INVALID, NULL},
    {"1 2 ", SIZE_MAX, COF_HEX_ANY_CASE, 2, COF_ERR_INVALID, NULL},
    {"\xc1\xa1", SIZE_MAX, COF_HEX_ANY_CASE, 1, COF_ERR_INVALID, NULL},
    {"12\00034", 6, COF_HEX_ANY_CASE, 3, COF_ERR_INVALID, NULL},
    /* Only len chars are read: "12" of "12zz". */
    {"12zz", 2, COF_HEX_LOWER, 1, COF_OK, "\x12"},
    /* Output cap. */
    {"0102", SIZE_MAX, COF_HEX_LOWER, 1, COF_ERR_TOO_LARGE, NULL},
    {"0102", SIZE_MAX, COF_HEX_LOWER, 2, COF_OK, "\x01\x02"},
    /* A bad digit wins over the cap: the input is reported, not the buffer. */
    {"01zz", SIZE_MAX, COF_HEX_LOWER, 1, COF_ERR_INVALID, NULL},
};

static void test_decode_table(void)
{
    for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
        const struct decode_case *c = &decode_cases[i];
        size_t len = c->len == SIZE_MAX ? strlen(c->in) : c->len;
        uint8_t out[8];
        memset(out, 0xee, sizeof(out));
        cof_err err = cof_hex_decode(c->in, len, c->cs, out, c->cap);
        if (err != c->want)
            fprintf(stderr, "decode case %zu (\"%s\"): got %s\n", i, c->in, cof_err_name(err));
        CHECK_EQ_INT(err, c->want);
        if (c->want == COF_OK) {
            CHECK_MEM(out, c->bytes, len / 2);
            CHECK_EQ_INT(out[len / 2], 0xee);
        } else {
            /* Failure writes nothing (callers decoding key bytes rely on it). */
            size_t untouched = 0;
            while (untouched < sizeof(out) && out[untouched] == 0xee)
                untouched++;
            CHECK_EQ_INT(untouched, sizeof(out));
        }
    }
}

static void test_valid(void)
{
    CHECK(cof_hex_valid("", 0, COF_HEX_LOWER));
    CHECK(cof_hex_valid("abc", 3, COF_HEX_LOWER)); /* odd is fine: digits, not pairs */
    CHECK(!cof_hex_valid("abC", 3, COF_HEX_LOWER));
    CHECK(cof_hex_valid("abC", 3, COF_HEX_ANY_CASE));
    CHECK(!cof_hex_valid("ab\0", 3, COF_HEX_ANY_CASE));
    CHECK(cof_hex_valid("0123456789abcdef", 16, COF_HEX_LOWER));
    CHECK(!cof_hex_valid("0123456789abcdeg", 16, COF_HEX_ANY_CASE));
}

/* encode then decode gives the bytes back, for a buffer holding every byte value. */
static void test_round_trip(void)
{
    uint8_t in[256], back[256];
    char text[2 * sizeof(in) + 1];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(255 - i);
    cof_hex_encode(in, sizeof(in), text);
    CHECK_EQ_INT(strlen(text), 2 * sizeof(in));
    CHECK_EQ_INT(cof_hex_decode(text, strlen(text), COF_HEX_LOWER, back, sizeof(back)), COF_OK);
    CHECK_MEM(in, back, sizeof(in));
    cof_hex_encode_upper(in, sizeof(in), text);
    CHECK_EQ_INT(cof_hex_decode(text, strlen(text), COF_HEX_LOWER, back, sizeof(back)),
                 COF_ERR_INVALID);
    CHECK_EQ_INT(cof_hex_decode(text, strlen(text), COF_HEX_ANY_CASE, back, sizeof(back)), COF_OK);
    CHECK_MEM(in, back, sizeof(in));
}

int main(void)
{
    test_encode_every_byte();
    test_every_char();
    test_decode_table();
    test_valid();
    test_round_trip();
    return check_finish();
}
