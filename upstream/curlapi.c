/* SPDX-License-Identifier: Apache-2.0 */
#include "upstream/curlapi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"

struct up_curl_api up_curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static cof_err loaded = COF_ERR_CONFIG;

/* Resolves name into *slot; false if absent. (A data pointer to a function pointer: POSIX
 * guarantees dlsym's result converts.) */
static bool resolve(void *lib, const char *name, void *slot, size_t size)
{
    void *p = dlsym(lib, name);
    if (p == NULL) {
        cof_log_error(NULL, "upstream: libcurl lacks %s", name);
        return false;
    }
    memcpy(slot, &p, size);
    return true;
}

#define RESOLVE(field, name) resolve(lib, name, &up_curl.field, sizeof(up_curl.field))

static void load(void)
{
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        cof_log_error(NULL, "upstream: cannot load libcurl (install libcurl4): %s", dlerror());
        return;
    }
    bool ok =
        RESOLVE(global_init, "curl_global_init") && RESOLVE(easy_init, "curl_easy_init") &&
        RESOLVE(easy_setopt, "curl_easy_setopt") && RESOLVE(easy_getinfo, "curl_easy_getinfo") &&
        RESOLVE(easy_cleanup, "curl_easy_cleanup") && RESOLVE(easy_reset, "curl_easy_reset") &&
        RESOLVE(easy_pause, "curl_easy_pause") && RESOLVE(easy_strerror, "curl_easy_strerror") &&
        RESOLVE(multi_init, "curl_multi_init") && RESOLVE(multi_cleanup, "curl_multi_cleanup") &&
        RESOLVE(multi_add_handle, "curl_multi_add_handle") &&
        RESOLVE(multi_remove_handle, "curl_multi_remove_handle") &&
        RESOLVE(multi_perform, "curl_multi_perform") && RESOLVE(multi_poll, "curl_multi_poll") &&
        RESOLVE(multi_info_read, "curl_multi_info_read") &&
        RESOLVE(slist_append, "curl_slist_append") &&
        RESOLVE(slist_free_all, "curl_slist_free_all");
    if (!ok || up_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        memset(&up_curl, 0, sizeof(up_curl));
        return; /* the library stays loaded: harmless, and never retried */
    }
    loaded = COF_OK;
}

cof_err up_curl_load(void)
{
    pthread_once(&once, load);
    return loaded;
}
