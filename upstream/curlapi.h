/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl, loaded when an upstream blob store is first used (dlopen), not linked: a coffer that
 * keeps its blobs in local files (every LocalStack-style use) then does not load libcurl and
 * the two dozen libraries it pulls in (Kerberos, LDAP, GnuTLS, ...) at start-up. The calls of
 * upstream/s3client.c go through this table; the curl_* names below stand for its entries. */
#ifndef UP_CURLAPI_H
#define UP_CURLAPI_H

#define CURL_DISABLE_TYPECHECK /* the type-checking macros would wrap our names */
#include <curl/curl.h>

#include "common/err.h"

struct up_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *e, CURLoption opt, ...);
    CURLcode (*easy_getinfo)(CURL *e, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *e);
    void (*easy_reset)(CURL *e);
    CURLcode (*easy_pause)(CURL *e, int bitmask);
    const char *(*easy_strerror)(CURLcode code);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned n, int timeout_ms,
                            int *numfds);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
};

/* Filled by up_curl_load. */
extern struct up_curl_api up_curl;

/* Loads libcurl once (thread-safe) and calls curl_global_init. COF_ERR_CONFIG when it cannot be
 * loaded (logged with dlerror's reason: install libcurl4). */
COF_MUST_CHECK cof_err up_curl_load(void);

/* curl.h defines these two as function-like macros (to check the argument count). */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init         up_curl.global_init
#define curl_easy_init           up_curl.easy_init
#define curl_easy_setopt         up_curl.easy_setopt
#define curl_easy_getinfo        up_curl.easy_getinfo
#define curl_easy_cleanup        up_curl.easy_cleanup
#define curl_easy_reset          up_curl.easy_reset
#define curl_easy_pause          up_curl.easy_pause
#define curl_easy_strerror       up_curl.easy_strerror
#define curl_multi_init          up_curl.multi_init
#define curl_multi_cleanup       up_curl.multi_cleanup
#define curl_multi_add_handle    up_curl.multi_add_handle
#define curl_multi_remove_handle up_curl.multi_remove_handle
#define curl_multi_perform       up_curl.multi_perform
#define curl_multi_poll          up_curl.multi_poll
#define curl_multi_info_read     up_curl.multi_info_read
#define curl_slist_append        up_curl.slist_append
#define curl_slist_free_all      up_curl.slist_free_all

#endif
