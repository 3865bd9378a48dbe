/* SPDX-License-Identifier: Apache-2.0 */
/* x-amz-checksum-* algorithms. CRC64NVME uses slicing-by-8 tables built once. */
#include "s3/checksum.h"

#include <isa-l/crc.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "crypto/digest.h"
#include "s3/uri.h"

static const struct {
    const char *name;
    const char *header;
    size_t len;
} algs[SRV_CKSUM__COUNT] = {
    [SRV_CKSUM_NONE] = {"", "", 0},
    [SRV_CKSUM_CRC32] = {"CRC32", "x-amz-checksum-crc32", 4},
    [SRV_CKSUM_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c", 4},
    [SRV_CKSUM_CRC64NVME] = {"CRC64NVME", "x-amz-checksum-crc64nvme", 8},
    [SRV_CKSUM_SHA1] = {"SHA1", "x-amz-checksum-sha1", 20},
    [SRV_CKSUM_SHA256] = {"SHA256", "x-amz-checksum-sha256", 32},
};

enum srv_cksum_alg srv_cksum_parse_name(const char *name)
{
    for (int a = 1; a < SRV_CKSUM__COUNT; a++)
        if (strcasecmp(name, algs[a].name) == 0)
            return (enum srv_cksum_alg)a;
    return SRV_CKSUM_NONE;
}

const char *srv_cksum_name(enum srv_cksum_alg alg)
{
    return algs[alg].name;
}

const char *srv_cksum_header(enum srv_cksum_alg alg)
{
    return algs[alg].header;
}

size_t srv_cksum_len(enum srv_cksum_alg alg)
{
    return algs[alg].len;
}

static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

/* CRC-64/NVME's polynomial without its x^64 term, in normal (bit i: x^i) and reflected order. */
#define CRC64NVME_POLY     0xad93d23594c93659ull
#define CRC64NVME_POLY_REV 0x9a6c9329ac4bc9b5ull

/* x^e mod P as a reflected 64-bit value (bit j: x^(63-j)). */
static uint64_t xpow_mod_reflected(unsigned e)
{
    uint64_t r = 1; /* x^0, normal order */
    for (unsigned i = 0; i < e; i++)
        r = (r << 1) ^ ((r >> 63) != 0 ? CRC64NVME_POLY : 0);
    uint64_t rev = 0;
    for (int i = 0; i < 64; i++)
        rev |= ((r >> i) & 1) << (63 - i);
    return rev;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CRC64_CLMUL 1
static bool crc64_have_clmul;
static uint64_t crc64_k191, crc64_k127; /* x^191, x^127 mod P, reflected */
#endif

static void crc64_init_tables(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64NVME_POLY_REV : c >> 1;
        crc64_table[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc64_table[t][i] =
                (crc64_table[t - 1][i] >> 8) ^ crc64_table[0][crc64_table[t - 1][i] & 0xff];
#ifdef CRC64_CLMUL
    crc64_have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
    crc64_k191 = xpow_mod_reflected(191);
    crc64_k127 = xpow_mod_reflected(127);
#endif
}

/* The register update without the initial/final inversion, slicing by 8. */
static uint64_t crc64_raw_table(uint64_t crc, const uint8_t *b, size_t n)
{
    while (n >= 8) {
        uint64_t v = crc ^ ((uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
                            (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 |
                            (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56);
        crc = crc64_table[7][v & 0xff] ^ crc64_table[6][(v >> 8) & 0xff] ^
              crc64_table[5][(v >> 16) & 0xff] ^ crc64_table[4][(v >> 24) & 0xff] ^
              crc64_table[3][(v >> 32) & 0xff] ^ crc64_table[2][(v >> 40) & 0xff] ^
              crc64_table[1][(v >> 48) & 0xff] ^ crc64_table[0][v >> 56];
        b += 8;
        n -= 8;
    }
    while (n-- > 0)
        crc = crc64_table[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return crc;
}

#ifdef CRC64_CLMUL
/* Carry-less multiplication folding (n >= 32). A 16-byte little-endian block is a polynomial of
 * degree < 128 in reflected order (bit j: x^(127-j)); the accumulator X keeps the invariant
 * "register after everything so far == X(x) * x^64 mod P". Appending a block B makes it
 * X * x^128 + B: X's first half L (bits 0..63, the high-degree coefficients) and second half H
 * contribute L * (x^192 mod P) and H * (x^128 mod P). PCLMULQDQ of two reflected 64-bit values
 * yields their product times x, hence the constants x^191 and x^127. The 16 bytes left in X
 * then go through the table with a zero register, which is exactly X(x) * x^64 mod P. */
__attribute__((target("pclmul,sse2"))) static uint64_t crc64_raw_clmul(uint64_t crc,
                                                                       const uint8_t *b, size_t n)
{
    const __m128i k = _mm_set_epi64x((long long)crc64_k127, (long long)crc64_k191);
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
    x = _mm_xor_si128(x, _mm_set_epi64x(0, (long long)crc));
    b += 16;
    n -= 16;
    while (n >= 16) {
        __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
        __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
        x = _mm_xor_si128(_mm_xor_si128(lo, hi), _mm_loadu_si128((const __m128i *)(const void *)b));
        b += 16;
        n -= 16;
    }
    uint8_t rest[16];
    _mm_storeu_si128((__m128i *)(void *)rest, x);
    crc = crc64_raw_table(0, rest, sizeof(rest));
    return crc64_raw_table(crc, b, n);
}
#endif

uint64_t srv_crc64nvme(uint64_t crc, const void *p, size_t n)
{
    pthread_once(&crc64_once, crc64_init_tables);
#ifdef CRC64_CLMUL
    if (crc64_have_clmul && n >= 64)
        return ~crc64_raw_clmul(~crc, p, n);
#endif
    return ~crc64_raw_table(~crc, p, n);
}

uint64_t srv_crc64nvme_portable(uint64_t crc, const void *p, size_t n)
{
    pthread_once(&crc64_once, crc64_init_tables);
    return ~crc64_raw_table(~crc, p, n);
}

cof_err srv_cksum_init(struct srv_cksum *c, enum srv_cksum_alg alg)
{
    memset(c, 0, sizeof(*c));
    c->alg = alg;
    if (alg == SRV_CKSUM_CRC32C)
        c->crc = 0xffffffffu; /* crc32_iscsi takes the running register */
    if (alg == SRV_CKSUM_SHA1)
        return cry_digest_new(CRY_DIGEST_SHA1, &c->sha);
    if (alg == SRV_CKSUM_SHA256)
        return cry_digest_new(CRY_DIGEST_SHA256, &c->sha);
    return COF_OK;
}

void srv_cksum_update(struct srv_cksum *c, const void *p, size_t n)
{
    /* ISA-L takes int lengths: feed large buffers in slices. */
    const uint8_t *b = p;
    while (n > 0) {
        size_t k = n > (1u << 30) ? (1u << 30) : n;
        switch (c->alg) {
        case SRV_CKSUM_CRC32:
            c->crc = crc32_gzip_refl((uint32_t)c->crc, b, k);
            break;
        case SRV_CKSUM_CRC32C:
            c->crc = crc32_iscsi((unsigned char *)(uintptr_t)b, (int)k, (uint32_t)c->crc);
            break;
        case SRV_CKSUM_CRC64NVME:
            c->crc = srv_crc64nvme(c->crc, b, k);
            break;
        case SRV_CKSUM_SHA1:
        case SRV_CKSUM_SHA256:
            cry_digest_update(c->sha, b, k);
            break;
        default:
            break;
        }
        b += k;
        n -= k;
    }
}

void srv_cksum_final(struct srv_cksum *c, char out[SRV_CKSUM_B64_MAX])
{
    uint8_t raw[SRV_CKSUM_MAX_LEN];
    size_t len = algs[c->alg].len;
    uint64_t v = c->alg == SRV_CKSUM_CRC32C ? (c->crc ^ 0xffffffffu) : c->crc;
    if (c->alg == SRV_CKSUM_SHA1 || c->alg == SRV_CKSUM_SHA256) {
        cry_digest_final(c->sha, raw);
    } else {
        for (size_t i = 0; i < len; i++) /* big-endian */
            raw[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
    }
    srv_base64_encode(raw, len, out);
    srv_cksum_cleanup(c);
}

void srv_cksum_cleanup(struct srv_cksum *c)
{
    cry_digest_free(c->sha);
    c->sha = NULL;
}

bool srv_cksum_is_crc(enum srv_cksum_alg alg)
{
    return alg == SRV_CKSUM_CRC32 || alg == SRV_CKSUM_CRC32C || alg == SRV_CKSUM_CRC64NVME;
}

cof_err srv_cksum_crc_decode(enum srv_cksum_alg alg, const char *b64, uint64_t *out)
{
    uint8_t raw[SRV_CKSUM_MAX_LEN];
    size_t n = 0;
    *out = 0;
    if (!srv_cksum_is_crc(alg) || srv_base64_decode(b64, raw, sizeof(raw), &n) != COF_OK ||
        n != algs[alg].len)
        return COF_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        *out = *out << 8 | raw[i];
    return COF_OK;
}

void srv_cksum_crc_encode(enum srv_cksum_alg alg, uint64_t crc, char out[SRV_CKSUM_B64_MAX])
{
    uint8_t raw[8];
    size_t len = algs[alg].len;
    for (size_t i = 0; i < len; i++)
        raw[i] = (uint8_t)(crc >> (8 * (len - 1 - i)));
    srv_base64_encode(raw, len, out);
}

/* CRC combination works in GF(2)[x] modulo the CRC polynomial. These CRCs are "reflected": in a
 * w-bit register, bit w-1 holds the coefficient of x^0 and bit 0 that of x^(w-1). Appending n
 * bytes of B to A turns the register R(A) into R(A)*x^(8n) + R(B) (the all-ones init and xorout
 * cancel out because both CRCs use them), so
 *     crc(A||B) = crc(A) * x^(8*len(B)) mod P  xor  crc(B). */
static uint64_t gf2_mulmod(uint64_t a, uint64_t b, uint64_t poly, unsigned w)
{
    const uint64_t x0 = 1ull << (w - 1); /* the polynomial 1 */
    uint64_t prod = 0;
    for (unsigned i = 0; i < w; i++) {
        if (a & (x0 >> i)) /* a has x^i: add b * x^i */
            prod ^= b;
        b = (b & 1) ? (b >> 1) ^ poly : b >> 1; /* b *= x, reduced mod P */
    }
    return prod;
}

/* x^(8n) mod P by square and multiply over the bits of n. */
static uint64_t x_pow_8n(uint64_t n, uint64_t poly, unsigned w)
{
    const uint64_t x0 = 1ull << (w - 1);
    uint64_t result = x0, base = x0 >> 8; /* 1, x^8 */
    while (n > 0) {
        if (n & 1)
            result = gf2_mulmod(result, base, poly, w);
        base = gf2_mulmod(base, base, poly, w);
        n >>= 1;
    }
    return result;
}

uint64_t srv_crc_combine(enum srv_cksum_alg alg, uint64_t crc_a, uint64_t crc_b, uint64_t len_b)
{
    uint64_t poly = 0;
    unsigned w = 32;
    switch (alg) {
    case SRV_CKSUM_CRC32:
        poly = 0xedb88320u; /* reflected 0x04c11db7 */
        break;
    case SRV_CKSUM_CRC32C:
        poly = 0x82f63b78u; /* reflected 0x1edc6f41 */
        break;
    case SRV_CKSUM_CRC64NVME:
        poly = 0x9a6c9329ac4bc9b5ull;
        w = 64;
        break;
    default:
        COF_BUG("srv_crc_combine: not a CRC");
    }
    return gf2_mulmod(crc_a, x_pow_8n(len_b, poly, w), poly, w) ^ crc_b;
}
