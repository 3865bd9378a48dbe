/* SPDX-License-Identifier: Apache-2.0 */
/* stderr logger: timestamp, level, optional request id, message; one write per line. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static volatile int max_level = COF_LOG_INFO;

void cof_log_set_level(enum cof_log_level lvl)
{
    max_level = (int)lvl;
}

int cof_log_parse_level(const char *s)
{
    static const struct {
        const char *name;
        int lvl;
    } names[] = {
        {"error", COF_LOG_ERROR}, {"warn", COF_LOG_WARN},   {"warning", COF_LOG_WARN},
        {"info", COF_LOG_INFO},   {"debug", COF_LOG_DEBUG}, {"trace", COF_LOG_DEBUG},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].lvl;
    return -1;
}

int cof_log_enabled(enum cof_log_level lvl)
{
    return (int)lvl <= max_level;
}

void cof_log(enum cof_log_level lvl, const char *rid, const char *fmt, ...)
{
    static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if (!cof_log_enabled(lvl))
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n =
        snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s%s%s",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000, tags[lvl], rid ? "[" : "", rid ? rid : "", rid ? "] " : "");
    if (n < 0)
        return;
    size_t off = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
    va_end(ap);
    if (m > 0)
        off += (size_t)m < sizeof(line) - off ? (size_t)m : sizeof(line) - off - 1;
    if (off >= sizeof(line) - 1)
        off = sizeof(line) - 2;
    line[off++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, off);
    (void)w;
}
