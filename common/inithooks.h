/* SPDX-License-Identifier: Apache-2.0 */
/* LocalStack's init hooks: the *.sh and *.py files under <dir>/{boot,start,ready,shutdown}.d,
 * found once at start-up, run stage by stage by the server's main thread, and their states read
 * by /_localstack/init from any thread. Runs only the files it found; knows nothing of HTTP. */
#ifndef COF_INITHOOKS_H
#define COF_INITHOOKS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum cof_hook_stage { COF_HOOK_BOOT = 0, COF_HOOK_START, COF_HOOK_READY, COF_HOOK_SHUTDOWN };
#define COF_HOOK_STAGES 4

enum cof_hook_state { COF_HOOK_UNKNOWN = 0, COF_HOOK_RUNNING, COF_HOOK_SUCCESSFUL, COF_HOOK_ERROR };

struct cof_hooks;

/* Finds the scripts of every stage under dir/<stage>.d, walked as LocalStack walks them: a
 * directory's files in byte order, then its subdirectories in byte order (symlinked directories
 * are not followed). A *.sh file runs as an executable (it must be +x), a *.py file with python3
 * from PATH; other files are skipped. dir NULL or missing: no scripts, but the stages still
 * complete as they pass. COF_ERR_NOMEM; an unreadable directory is logged and skipped. */
COF_MUST_CHECK cof_err cof_hooks_open(const char *dir, struct cof_hooks **out);
/* Frees h. Accepts NULL. No stage may be running. */
void cof_hooks_free(struct cof_hooks *h);

/* Runs the stage's scripts one after another, in order, then marks the stage completed. A
 * script's stdout and stderr are captured and logged when it ends (INFO, or ERROR with its exit
 * status when it fails); a failure marks it ERROR and the next script runs. env: extra
 * "NAME=value" entries for the scripts' environment (NULL-terminated; may be NULL).
 * SIGTERM, SIGINT and SIGCHLD must be blocked in every thread: while a script runs, SIGTERM or
 * SIGINT sends SIGTERM to its process group (SIGKILL 5 s later), marks it ERROR, skips the rest
 * of the stage and is returned in *out_signal (0 otherwise). Main thread only. COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err cof_hooks_run(struct cof_hooks *h, enum cof_hook_stage stage,
                                     const char *const *env, int *out_signal);

/* Scripts found, over all stages, in stage order. Thread-safe. */
size_t cof_hooks_count(const struct cof_hooks *h);
/* Script i's stage, file name (borrowed, valid until cof_hooks_free) and current state.
 * Thread-safe (the state is read atomically). */
void cof_hooks_script(const struct cof_hooks *h, size_t i, enum cof_hook_stage *out_stage,
                      const char **out_name, enum cof_hook_state *out_state);
/* Whether the stage has run (its scripts all ended, or it was cut short). Thread-safe. */
bool cof_hooks_completed(const struct cof_hooks *h, enum cof_hook_stage stage);

/* "BOOT", "START", "READY", "SHUTDOWN"; and the stage named s (any case), false if none. */
const char *cof_hook_stage_name(enum cof_hook_stage stage);
bool cof_hook_stage_parse(const char *s, enum cof_hook_stage *out);
/* "UNKNOWN", "RUNNING", "SUCCESSFUL", "ERROR" (LocalStack's names). */
const char *cof_hook_state_name(enum cof_hook_state state);

#endif
