/* SPDX-License-Identifier: Apache-2.0 */
/* Range (RFC 7233), HTTP-date (RFC 7231 7.1.1.1), ISO 8601 and entity-tag list parsing and
 * formatting. Own name tables instead of strftime/strptime so the locale never matters. */
#include "s3/httpfmt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const wkday_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wkday_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
static const char *const month_short[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#define MAX_EPOCH_S 253402300799LL /* 9999-12-31T23:59:59Z */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads 1+ digits, saturating at UINT64_MAX (a huge last-byte-pos is legal and clamps). */
static bool read_u64(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    if (!is_digit(*p))
        return false;
    while (is_digit(*p)) {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
        p++;
    }
    *pp = p;
    *out = v;
    return true;
}

cof_err srv_range_parse(const char *hdr, uint64_t size, uint64_t *out_first, uint64_t *out_last)
{
    uint64_t a = 0, b = UINT64_MAX;
    bool suffix = false;

    *out_first = 0;
    *out_last = 0;
    if (hdr == NULL)
        return COF_ERR_NOT_FOUND;
    const char *p = hdr;
    while (is_ows(*p))
        p++;
    if (strncasecmp(p, "bytes=", 6) != 0)
        return COF_ERR_NOT_FOUND;
    p += 6;
    while (is_ows(*p))
        p++;
    if (*p == '-') {
        suffix = true;
        p++;
        if (!read_u64(&p, &a))
            return COF_ERR_NOT_FOUND;
    } else {
        if (!read_u64(&p, &a) || *p != '-')
            return COF_ERR_NOT_FOUND;
        p++;
        if (is_digit(*p) && !read_u64(&p, &b))
            return COF_ERR_NOT_FOUND;
    }
    while (is_ows(*p))
        p++;
    if (*p != '\0') /* a second range, or junk */
        return COF_ERR_NOT_FOUND;

    if (suffix) {
        if (a == 0 || size == 0)
            return COF_ERR_INVALID_RANGE;
        *out_first = a >= size ? 0 : size - a;
        *out_last = size - 1;
        return COF_OK;
    }
    if (a > b) /* RFC 7233 2.1: syntactically invalid, so the header is ignored */
        return COF_ERR_NOT_FOUND;
    if (size == 0 || a >= size)
        return COF_ERR_INVALID_RANGE;
    *out_first = a;
    *out_last = b >= size ? size - 1 : b;
    return COF_OK;
}

/* Reads exactly width digits. */
static bool fixed_digits(const char **pp, int width, int *out)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        char c = (*pp)[i];
        if (!is_digit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *pp += width;
    *out = v;
    return true;
}

static bool lit(const char **pp, const char *s)
{
    size_t n = strlen(s);
    if (strncmp(*pp, s, n) != 0)
        return false;
    *pp += n;
    return true;
}

static bool name_in(const char **pp, const char *const *names, int count, int *out)
{
    for (int i = 0; i < count; i++) {
        if (lit(pp, names[i])) {
            *out = i;
            return true;
        }
    }
    return false;
}

/* "HH:MM:SS" */
static bool time_of_day(const char **pp, struct tm *tm)
{
    return fixed_digits(pp, 2, &tm->tm_hour) && lit(pp, ":") && fixed_digits(pp, 2, &tm->tm_min) &&
           lit(pp, ":") && fixed_digits(pp, 2, &tm->tm_sec);
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Range checks on a broken-down UTC time (tm_year is the full year here). */
static bool tm_valid(const struct tm *tm)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1)
        return false;
    int dim = mdays[tm->tm_mon] + (tm->tm_mon == 1 && leap(tm->tm_year) ? 1 : 0);
    return tm->tm_mday <= dim && tm->tm_hour <= 23 && tm->tm_min <= 59 && tm->tm_sec <= 60;
}

static bool parse_imf(const char *p, struct tm *tm)
{
    int wd = 0;
    return name_in(&p, wkday_short, 7, &wd) && lit(&p, ", ") && fixed_digits(&p, 2, &tm->tm_mday) &&
           lit(&p, " ") && name_in(&p, month_short, 12, &tm->tm_mon) && lit(&p, " ") &&
           fixed_digits(&p, 4, &tm->tm_year) && lit(&p, " ") && time_of_day(&p, tm) &&
           lit(&p, " GMT") && *p == '\0';
}

static bool parse_rfc850(const char *p, struct tm *tm)
{
    int wd = 0;
    int yy = 0;
    if (!(name_in(&p, wkday_long, 7, &wd) && lit(&p, ", ") && fixed_digits(&p, 2, &tm->tm_mday) &&
          lit(&p, "-") && name_in(&p, month_short, 12, &tm->tm_mon) && lit(&p, "-") &&
          fixed_digits(&p, 2, &yy) && lit(&p, " ") && time_of_day(&p, tm) && lit(&p, " GMT") &&
          *p == '\0'))
        return false;
    /* RFC 7231 wants "more than 50 years in the future" resolved against the clock; this
     * module has no clock, so use a fixed pivot (the obsolete format predates 2000 anyway). */
    tm->tm_year = yy < 70 ? 2000 + yy : 1900 + yy;
    return true;
}

static bool parse_asctime(const char *p, struct tm *tm)
{
    int wd = 0;
    if (!(name_in(&p, wkday_short, 7, &wd) && lit(&p, " ") &&
          name_in(&p, month_short, 12, &tm->tm_mon) && lit(&p, " ")))
        return false;
    if (*p == ' ') { /* date3 = month SP ( 2DIGIT / ( SP DIGIT ) ) */
        p++;
        if (!fixed_digits(&p, 1, &tm->tm_mday))
            return false;
    } else if (!fixed_digits(&p, 2, &tm->tm_mday)) {
        return false;
    }
    return lit(&p, " ") && time_of_day(&p, tm) && lit(&p, " ") &&
           fixed_digits(&p, 4, &tm->tm_year) && *p == '\0';
}

static bool parse_iso(const char *p, struct tm *tm)
{
    int mon = 0;
    if (!(fixed_digits(&p, 4, &tm->tm_year) && lit(&p, "-") && fixed_digits(&p, 2, &mon) &&
          lit(&p, "-") && fixed_digits(&p, 2, &tm->tm_mday) && lit(&p, "T") && time_of_day(&p, tm)))
        return false;
    tm->tm_mon = mon - 1;
    if (*p == '.') { /* fractional seconds are dropped: HTTP dates have 1 s resolution */
        p++;
        if (!is_digit(*p))
            return false;
        for (int i = 0; is_digit(*p); i++, p++) {
            if (i == 9)
                return false;
        }
    }
    return lit(&p, "Z") && *p == '\0';
}

cof_err srv_http_date_parse(const char *s, int64_t *out_epoch_s)
{
    struct tm tm;
    bool ok;

    memset(&tm, 0, sizeof(tm));
    *out_epoch_s = 0;
    if (s == NULL || strnlen(s, 64) >= 64)
        return COF_ERR_INVALID;
    if (s[0] != '\0' && s[1] != '\0' && s[2] != '\0' && s[3] == ',')
        ok = parse_imf(s, &tm);
    else if (s[0] != '\0' && s[1] != '\0' && s[2] != '\0' && s[3] == ' ')
        ok = parse_asctime(s, &tm);
    else if (is_digit(s[0]))
        ok = parse_iso(s, &tm);
    else
        ok = parse_rfc850(s, &tm);
    if (!ok || !tm_valid(&tm))
        return COF_ERR_INVALID;
    tm.tm_year -= 1900;
    tm.tm_isdst = 0;
    time_t t = timegm(&tm);
    *out_epoch_s = (int64_t)t;
    return COF_OK;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* gmtime_r on a clamped value, so the year always has four digits. */
static void utc(int64_t epoch_s, struct tm *tm)
{
    time_t t = (time_t)clamp(epoch_s, 0, MAX_EPOCH_S);
    if (gmtime_r(&t, tm) == NULL) { /* cannot happen in range; keep the output defined */
        memset(tm, 0, sizeof(*tm));
        tm->tm_year = 70;
        tm->tm_mday = 1;
        tm->tm_wday = 4;
    }
}

/* Fields as unsigned and reduced modulo their width, so the compiler can prove the output
 * fits (gmtime_r on a clamped input never needs the reduction). */
void srv_http_date_format(int64_t epoch_s, char out[32])
{
    struct tm tm;
    utc(epoch_s, &tm);
    snprintf(out, 32, "%s, %02u %s %04u %02u:%02u:%02u GMT", wkday_short[(unsigned)tm.tm_wday % 7u],
             (unsigned)tm.tm_mday % 100u, month_short[(unsigned)tm.tm_mon % 12u],
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

void srv_iso8601_format(int64_t epoch_ms, char out[32])
{
    struct tm tm;
    int64_t ms = clamp(epoch_ms, 0, MAX_EPOCH_S * 1000 + 999);
    utc(ms / 1000, &tm);
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)(ms % 1000));
}

cof_err srv_etag_list_match(const char *hdr, const char *etag, bool *out)
{
    size_t elen = strlen(etag);
    size_t elems = 0;
    bool matched = false;
    const char *p = hdr;

    *out = false; /* also on every error path: a bad list never matches */
    if (hdr == NULL)
        return COF_ERR_INVALID;
    for (;;) {
        while (is_ows(*p) || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *tag;
        size_t tlen;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p == '"') {
            tag = ++p;
            const char *q = strchr(p, '"');
            if (q == NULL)
                return COF_ERR_INVALID;
            tlen = (size_t)(q - p);
            p = q + 1;
            while (is_ows(*p))
                p++;
            if (*p != ',' && *p != '\0')
                return COF_ERR_INVALID;
        } else {
            tag = p;
            while (*p != ',' && *p != '\0')
                p++;
            tlen = (size_t)(p - tag);
            while (tlen > 0 && is_ows(tag[tlen - 1]))
                tlen--;
            if (tlen == 1 && tag[0] == '*') {
                matched = true;
                elems++;
                continue;
            }
        }
        elems++;
        if (tlen == elen && memcmp(tag, etag, elen) == 0)
            matched = true;
    }
    if (elems == 0)
        return COF_ERR_INVALID;
    *out = matched;
    return COF_OK;
}
