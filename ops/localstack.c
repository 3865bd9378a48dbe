/* SPDX-License-Identifier: Apache-2.0 */
/* LocalStack's internal endpoints: /_localstack/health, /info, /init[/<stage>], and the state
 * resets (/_localstack/state/reset, /_localstack/state/s3/reset, /moto-api/reset). The resets are
 * served only with admin_endpoints on, and signed when signatures are checked (OPF_ADMIN,
 * server/dispatch.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/buf.h"
#include "common/inithooks.h"
#include "common/log.h"
#include "s3/httpfmt.h"
#include "object/gc.h"
#include "ops/handlers.h"
#include "ops/req.h"
#include "storage/meta.h"

#define LS_VERSION "4.0.0-coffer"

static cof_err reply_json(struct srv_req *req, unsigned status, struct cof_buf *b)
{
    cof_err err = srv_reply(req, status, "application/json", b->data ? b->data : "", b->len);
    cof_buf_cleanup(b);
    return err;
}

static cof_err health(struct srv_req *req)
{
    if (req->is_head)
        return srv_reply(req, 200, "text/plain", "", 0);
    struct cof_buf b;
    cof_buf_init(&b, 4096);
    const char *state = atomic_load(&req->ctx->s3_used) ? "running" : "available";
    cof_err err = cof_buf_printf(&b,
                                 "{\"services\": {\"kms\": \"available\", \"s3\": \"%s\", "
                                 "\"sts\": \"available\"}, \"edition\": \"community\", "
                                 "\"version\": \"%s\"}",
                                 state, LS_VERSION);
    if (err != COF_OK) {
        cof_buf_cleanup(&b);
        return err;
    }
    return reply_json(req, 200, &b);
}

static cof_err info(struct srv_req *req)
{
    struct cof_buf b;
    char now[32];
    int64_t ms = cof_now_ms();
    srv_iso8601_format(ms, now);
    cof_buf_init(&b, 4096);
    cof_err err = cof_buf_printf(
        &b,
        "{\"version\": \"%s\", \"edition\": \"community\", \"is_license_activated\": false, "
        "\"session_id\": \"%s\", \"machine_id\": \"coffer\", \"system\": \"linux\", "
        "\"is_docker\": false, \"server_time_utc\": \"%s\", \"uptime\": %lld}",
        LS_VERSION, req->ctx->session_id, now, (long long)((ms - req->ctx->start_ms) / 1000));
    if (err != COF_OK) {
        cof_buf_cleanup(&b);
        return err;
    }
    return reply_json(req, 200, &b);
}

/* Whether an init stage has passed. Without a hook runner (a context not made by main), every
 * stage but SHUTDOWN has. */
static bool stage_done(const struct srv_ctx *ctx, enum cof_hook_stage st)
{
    return ctx->hooks != NULL ? cof_hooks_completed(ctx->hooks, st) : st != COF_HOOK_SHUTDOWN;
}

/* LocalStack's script entries: {"stage": "READY", "name": "<file name>", "state": "..."}, of one
 * stage or (all) of every stage. */
static cof_err put_scripts(struct cof_buf *b, const struct cof_hooks *hooks, bool all,
                           enum cof_hook_stage only)
{
    cof_err err = cof_buf_puts(b, "\"scripts\": [");
    bool first = true;
    for (size_t i = 0; err == COF_OK && i < cof_hooks_count(hooks); i++) {
        enum cof_hook_stage st;
        enum cof_hook_state state;
        const char *name;
        cof_hooks_script(hooks, i, &st, &name, &state);
        if (!all && st != only)
            continue;
        err = cof_buf_printf(b, "%s{\"stage\": \"%s\", \"name\": \"", first ? "" : ", ",
                             cof_hook_stage_name(st));
        for (const char *p = name; err == COF_OK && *p != '\0'; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\')
                err = cof_buf_printf(b, "\\%c", c);
            else if (c < 0x20)
                err = cof_buf_printf(b, "\\u%04x", c);
            else
                err = cof_buf_append(b, p, 1);
        }
        if (err == COF_OK)
            err = cof_buf_printf(b, "\", \"state\": \"%s\"}", cof_hook_state_name(state));
        first = false;
    }
    if (err == COF_OK)
        err = cof_buf_puts(b, "]}");
    return err;
}

/* /_localstack/init: every stage's completion and every script's state, as LocalStack reports
 * them; /_localstack/init/<stage>: one stage (404 for an unknown stage). */
static cof_err init(struct srv_req *req)
{
    struct cof_buf b;
    const struct srv_ctx *ctx = req->ctx;
    cof_buf_init(&b, 1024 * 1024);
    cof_err err = COF_OK;
    const char *stage = req->route.ls_stage;
    enum cof_hook_stage st = COF_HOOK_BOOT;
    if (stage == NULL) {
        err = cof_buf_printf(&b,
                             "{\"completed\": {\"BOOT\": %s, \"START\": %s, \"READY\": %s, "
                             "\"SHUTDOWN\": %s}, ",
                             stage_done(ctx, COF_HOOK_BOOT) ? "true" : "false",
                             stage_done(ctx, COF_HOOK_START) ? "true" : "false",
                             stage_done(ctx, COF_HOOK_READY) ? "true" : "false",
                             stage_done(ctx, COF_HOOK_SHUTDOWN) ? "true" : "false");
        if (err == COF_OK)
            err = put_scripts(&b, ctx->hooks, true, st);
    } else {
        if (!cof_hook_stage_parse(stage, &st)) {
            cof_buf_cleanup(&b);
            return srv_reply(req, 404, "application/json", "{\"error\": \"no such stage\"}",
                             strlen("{\"error\": \"no such stage\"}"));
        }
        err = cof_buf_printf(&b, "{\"completed\": %s, ", stage_done(ctx, st) ? "true" : "false");
        if (err == COF_OK)
            err = put_scripts(&b, ctx->hooks, false, st);
    }
    if (err != COF_OK) {
        cof_buf_cleanup(&b);
        return err;
    }
    return reply_json(req, 200, &b);
}

static cof_err reset(struct srv_req *req)
{
    cof_err err = sto_meta_reset(req->ctx->obj.meta);
    if (err == COF_OK)
        err = obj_gc_drain(&req->ctx->obj);
    if (err != COF_OK)
        return err;
    cof_log_info(req->rid, "state reset: all buckets removed");
    return srv_reply(req, 200, "application/json", "{}", 2);
}

cof_err ops_ls_health(struct srv_req *req)
{
    return health(req);
}

cof_err ops_ls_info(struct srv_req *req)
{
    return info(req);
}

cof_err ops_ls_init(struct srv_req *req)
{
    return init(req);
}

cof_err ops_ls_reset(struct srv_req *req)
{
    return reset(req);
}
