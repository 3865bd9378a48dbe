/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled logging to stderr, one line per message, optionally tagged with a request id.
 * Never log key material, customer keys or their digests. Thread-safe (one write(2) per line). */
#ifndef COF_LOG_H
#define COF_LOG_H

enum cof_log_level { COF_LOG_ERROR = 0, COF_LOG_WARN, COF_LOG_INFO, COF_LOG_DEBUG };

/* Sets the most verbose level printed (default COF_LOG_INFO). */
void cof_log_set_level(enum cof_log_level lvl);
/* Parses "error|warn|info|debug" (also "warning", "trace"=debug). Returns -1 if unknown. */
int cof_log_parse_level(const char *s);
/* Whether lvl would be printed. */
int cof_log_enabled(enum cof_log_level lvl);
/* rid may be NULL. */
void cof_log(enum cof_log_level lvl, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define cof_log_error(rid, ...) cof_log(COF_LOG_ERROR, (rid), __VA_ARGS__)
#define cof_log_warn(rid, ...)  cof_log(COF_LOG_WARN, (rid), __VA_ARGS__)
#define cof_log_info(rid, ...)  cof_log(COF_LOG_INFO, (rid), __VA_ARGS__)
#define cof_log_debug(rid, ...) cof_log(COF_LOG_DEBUG, (rid), __VA_ARGS__)

#endif
