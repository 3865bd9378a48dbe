/* SPDX-License-Identifier: Apache-2.0 */
/* common/inithooks: LocalStack's discovery order (files by name, then subdirectories; *.sh and
 * *.py only; symlinked directories not followed), stage names, and running a stage: states,
 * completion, the extra environment, failures that do not stop the stage. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/inithooks.h"
#include "common/log.h"

static char root[64];

static void put(const char *rel, const char *text, mode_t mode)
{
    char path[512], dir[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    /* mkdir -p of the parent */
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + strlen(root) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                perror(dir);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return;
    }
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static const char *script_name(const struct cof_hooks *h, size_t i, enum cof_hook_stage *st,
                               enum cof_hook_state *state)
{
    const char *name = NULL;
    cof_hooks_script(h, i, st, &name, state);
    return name;
}

static void test_names(void)
{
    static const struct {
        const char *in;
        bool ok;
        enum cof_hook_stage st;
    } cases[] = {
        {"boot", true, COF_HOOK_BOOT},     {"START", true, COF_HOOK_START},
        {"Ready", true, COF_HOOK_READY},   {"shutdown", true, COF_HOOK_SHUTDOWN},
        {"ready.d", false, COF_HOOK_BOOT}, {"", false, COF_HOOK_BOOT},
        {"readyy", false, COF_HOOK_BOOT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum cof_hook_stage st = COF_HOOK_BOOT;
        CHECK_EQ_INT(cof_hook_stage_parse(cases[i].in, &st), cases[i].ok);
        if (cases[i].ok)
            CHECK_EQ_INT(st, cases[i].st);
    }
    CHECK_EQ_STR(cof_hook_stage_name(COF_HOOK_SHUTDOWN), "SHUTDOWN");
    CHECK_EQ_STR(cof_hook_state_name(COF_HOOK_UNKNOWN), "UNKNOWN");
    CHECK_EQ_STR(cof_hook_state_name(COF_HOOK_RUNNING), "RUNNING");
    CHECK_EQ_STR(cof_hook_state_name(COF_HOOK_SUCCESSFUL), "SUCCESSFUL");
    CHECK_EQ_STR(cof_hook_state_name(COF_HOOK_ERROR), "ERROR");
}

static void test_no_dir(void)
{
    struct cof_hooks *h = NULL;
    CHECK_EQ_INT(cof_hooks_open(NULL, &h), COF_OK);
    CHECK_EQ_INT(cof_hooks_count(h), 0);
    CHECK(!cof_hooks_completed(h, COF_HOOK_BOOT));
    int sig = -1;
    CHECK_EQ_INT(cof_hooks_run(h, COF_HOOK_BOOT, NULL, &sig), COF_OK);
    CHECK_EQ_INT(sig, 0);
    CHECK(cof_hooks_completed(h, COF_HOOK_BOOT));
    CHECK(!cof_hooks_completed(h, COF_HOOK_READY));
    cof_hooks_free(h);
    cof_hooks_free(NULL);
}

static void test_discovery_and_run(void)
{
    const char *ok = "#!/bin/sh\necho \"$(basename \"$0\") $HOOK_VAR\" >> \"$OUT\"\n";
    put("init/ready.d/b.sh", ok, 0755);
    put("init/ready.d/a.sh", ok, 0755);
    put("init/ready.d/c-fails.sh", "#!/bin/sh\nexit 4\n", 0755);
    put("init/ready.d/d-noexec.sh", ok, 0644);
    put("init/ready.d/notes.txt", "x", 0644);
    put("init/ready.d/sub/a-in-sub.sh", ok, 0755);
    put("init/ready.d/Z-upper.sh", ok, 0755); /* byte order: 'Z' < 'a' */
    put("init/boot.d/x.sh", ok, 0755);
    put("init/shutdown.d/deeper/more/y.sh", ok, 0755);
    put("elsewhere/linked.sh", ok, 0755);
    char target[256], link[256];
    snprintf(target, sizeof(target), "%s/elsewhere", root);
    snprintf(link, sizeof(link), "%s/init/ready.d/zz-linked-dir", root);
    CHECK_EQ_INT(symlink(target, link), 0); /* a symlinked directory is not followed */
    snprintf(target, sizeof(target), "%s/elsewhere/linked.sh", root);
    snprintf(link, sizeof(link), "%s/init/ready.d/e-link.sh", root);
    CHECK_EQ_INT(symlink(target, link), 0); /* a symlink to a file is the file */

    char dir[256];
    snprintf(dir, sizeof(dir), "%s/init", root);
    struct cof_hooks *h = NULL;
    CHECK_EQ_INT(cof_hooks_open(dir, &h), COF_OK);
    static const struct {
        enum cof_hook_stage st;
        const char *name;
    } want[] = {
        {COF_HOOK_BOOT, "x.sh"},        {COF_HOOK_READY, "Z-upper.sh"},
        {COF_HOOK_READY, "a.sh"},       {COF_HOOK_READY, "b.sh"},
        {COF_HOOK_READY, "c-fails.sh"}, {COF_HOOK_READY, "d-noexec.sh"},
        {COF_HOOK_READY, "e-link.sh"},  {COF_HOOK_READY, "a-in-sub.sh"},
        {COF_HOOK_SHUTDOWN, "y.sh"},
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    CHECK_EQ_INT(cof_hooks_count(h), n);
    for (size_t i = 0; i < n && i < cof_hooks_count(h); i++) {
        enum cof_hook_stage st;
        enum cof_hook_state state;
        CHECK_EQ_STR(script_name(h, i, &st, &state), want[i].name);
        CHECK_EQ_INT(st, want[i].st);
        CHECK_EQ_INT(state, COF_HOOK_UNKNOWN);
    }

    char out[256], outvar[300];
    snprintf(out, sizeof(out), "%s/out.txt", root);
    snprintf(outvar, sizeof(outvar), "OUT=%s", out);
    const char *env[] = {"HOOK_VAR=given", outvar, NULL};
    int sig = -1;
    CHECK_EQ_INT(cof_hooks_run(h, COF_HOOK_READY, env, &sig), COF_OK);
    CHECK_EQ_INT(sig, 0);
    CHECK(cof_hooks_completed(h, COF_HOOK_READY));
    CHECK(!cof_hooks_completed(h, COF_HOOK_BOOT));
    static const enum cof_hook_state states[] = {
        COF_HOOK_UNKNOWN,    COF_HOOK_SUCCESSFUL, COF_HOOK_SUCCESSFUL,
        COF_HOOK_SUCCESSFUL, COF_HOOK_ERROR,      COF_HOOK_ERROR,
        COF_HOOK_SUCCESSFUL, COF_HOOK_SUCCESSFUL, COF_HOOK_UNKNOWN,
    };
    for (size_t i = 0; i < n && i < cof_hooks_count(h); i++) {
        enum cof_hook_stage st;
        enum cof_hook_state state;
        (void)script_name(h, i, &st, &state);
        CHECK_EQ_INT(state, states[i]);
    }
    char buf[512] = {0};
    FILE *f = fopen(out, "r");
    CHECK(f != NULL);
    if (f != NULL) {
        size_t got = fread(buf, 1, sizeof(buf) - 1, f);
        buf[got] = '\0';
        fclose(f);
    }
    CHECK_EQ_STR(buf, "Z-upper.sh given\na.sh given\nb.sh given\ne-link.sh given\n"
                      "a-in-sub.sh given\n");
    cof_hooks_free(h);
}

int main(void)
{
    cof_log_set_level(COF_LOG_ERROR);
    /* cof_hooks_run's contract: the caller blocks these. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    snprintf(root, sizeof(root), "/tmp/coffer-test-hooks-XXXXXX");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_names();
    test_no_dir();
    test_discovery_and_run();
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_finish();
}
