/* SPDX-License-Identifier: Apache-2.0 */
/* Init hooks: discovery (LocalStack's walk order), running one script at a time with its output
 * captured, and the per-script states /_localstack/init reports. Spawns only files it found. */
#include "common/inithooks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define MAX_SCRIPTS    4096
#define MAX_DEPTH      16
#define OUTPUT_LOG_MAX (64 * 1024) /* the tail of a script's output that is logged */
#define KILL_GRACE_MS  3000        /* SIGTERM to SIGKILL for a script cut short */

extern char **environ;

struct script {
    char *path;       /* absolute or as given: dir/<stage>.d/... */
    const char *name; /* the file name, inside path */
    enum cof_hook_stage stage;
    bool python;
    atomic_int state; /* enum cof_hook_state */
};

struct cof_hooks {
    struct script *s;
    size_t n, cap;
    atomic_bool completed[COF_HOOK_STAGES];
};

static const char *const stage_names[COF_HOOK_STAGES] = {"BOOT", "START", "READY", "SHUTDOWN"};
static const char *const stage_dirs[COF_HOOK_STAGES] = {"boot.d", "start.d", "ready.d",
                                                        "shutdown.d"};

const char *cof_hook_stage_name(enum cof_hook_stage stage)
{
    return (unsigned)stage < COF_HOOK_STAGES ? stage_names[stage] : "UNKNOWN";
}

bool cof_hook_stage_parse(const char *s, enum cof_hook_stage *out)
{
    for (unsigned i = 0; i < COF_HOOK_STAGES; i++) {
        if (strcasecmp(s, stage_names[i]) == 0) {
            *out = (enum cof_hook_stage)i;
            return true;
        }
    }
    return false;
}

const char *cof_hook_state_name(enum cof_hook_state state)
{
    switch (state) {
    case COF_HOOK_RUNNING:
        return "RUNNING";
    case COF_HOOK_SUCCESSFUL:
        return "SUCCESSFUL";
    case COF_HOOK_ERROR:
        return "ERROR";
    case COF_HOOK_UNKNOWN:
        break;
    }
    return "UNKNOWN";
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static cof_err add_script(struct cof_hooks *h, enum cof_hook_stage stage, char **path)
{
    if (h->n == MAX_SCRIPTS) {
        cof_log_warn(NULL, "init: more than %d scripts; %s and later ones are not run", MAX_SCRIPTS,
                     *path);
        free(*path);
        *path = NULL;
        return COF_OK;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct script *s = realloc(h->s, cap * sizeof(*s));
        if (s == NULL) {
            free(*path);
            *path = NULL;
            return COF_ERR_NOMEM;
        }
        h->s = s;
        h->cap = cap;
    }
    struct script *sc = &h->s[h->n++];
    sc->path = *path;
    *path = NULL;
    const char *slash = strrchr(sc->path, '/');
    sc->name = slash != NULL ? slash + 1 : sc->path;
    sc->stage = stage;
    sc->python = has_suffix(sc->name, ".py");
    atomic_init(&sc->state, COF_HOOK_UNKNOWN);
    return COF_OK;
}

/* One directory: its script files by name, then its subdirectories by name (os.walk, topdown,
 * sorted, not following symlinked directories; a symlink to a file counts as the file). */
static cof_err walk(struct cof_hooks *h, enum cof_hook_stage stage, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno != ENOENT && errno != ENOTDIR)
            cof_log_warn(NULL, "init: cannot read %s: %s", dir, strerror(errno));
        return COF_OK;
    }
    char **files = NULL, **dirs = NULL;
    size_t nf = 0, nd = 0, capf = 0, capd = 0;
    cof_err err = COF_OK;
    struct dirent *e;
    while (err == COF_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = join(dir, e->d_name);
        struct stat st;
        if (p == NULL) {
            err = COF_ERR_NOMEM;
            break;
        }
        bool is_dir = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
        bool is_file = !is_dir && stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
                       (has_suffix(e->d_name, ".sh") || has_suffix(e->d_name, ".py"));
        char ***v = is_dir ? &dirs : &files;
        size_t *n = is_dir ? &nd : &nf, *cap = is_dir ? &capd : &capf;
        if (!is_dir && !is_file) {
            cof_log_debug(NULL, "init: %s is not a script (*.sh, *.py); skipped", p);
            free(p);
            continue;
        }
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            char **nv = realloc(*v, c * sizeof(*nv));
            if (nv == NULL) {
                free(p);
                err = COF_ERR_NOMEM;
                break;
            }
            *v = nv;
            *cap = c;
        }
        (*v)[(*n)++] = p;
    }
    closedir(d);
    if (err == COF_OK && nf > 1)
        qsort(files, nf, sizeof(*files), cmp_names);
    if (err == COF_OK && nd > 1)
        qsort(dirs, nd, sizeof(*dirs), cmp_names);
    for (size_t i = 0; err == COF_OK && i < nf; i++)
        err = add_script(h, stage, &files[i]);
    for (size_t i = 0; err == COF_OK && i < nd; i++) {
        if (depth >= MAX_DEPTH)
            cof_log_warn(NULL, "init: %s is nested too deep; not searched", dirs[i]);
        else
            err = walk(h, stage, dirs[i], depth + 1);
    }
    free_names(files, nf);
    free_names(dirs, nd);
    return err;
}

cof_err cof_hooks_open(const char *dir, struct cof_hooks **out)
{
    *out = NULL;
    struct cof_hooks *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return COF_ERR_NOMEM;
    for (unsigned i = 0; i < COF_HOOK_STAGES; i++)
        atomic_init(&h->completed[i], false);
    cof_err err = COF_OK;
    for (unsigned i = 0; dir != NULL && err == COF_OK && i < COF_HOOK_STAGES; i++) {
        char *sd = join(dir, stage_dirs[i]);
        err = sd != NULL ? walk(h, (enum cof_hook_stage)i, sd, 0) : COF_ERR_NOMEM;
        free(sd);
    }
    if (err != COF_OK) {
        cof_hooks_free(h);
        return err;
    }
    if (h->n > 0)
        cof_log_info(NULL, "init: %zu script%s under %s", h->n, h->n == 1 ? "" : "s", dir);
    *out = h;
    return COF_OK;
}

void cof_hooks_free(struct cof_hooks *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->s[i].path);
    free(h->s);
    free(h);
}

size_t cof_hooks_count(const struct cof_hooks *h)
{
    return h != NULL ? h->n : 0;
}

void cof_hooks_script(const struct cof_hooks *h, size_t i, enum cof_hook_stage *out_stage,
                      const char **out_name, enum cof_hook_state *out_state)
{
    if (h == NULL || i >= h->n)
        COF_BUG("cof_hooks_script: no such script");
    *out_stage = h->s[i].stage;
    *out_name = h->s[i].name;
    *out_state = (enum cof_hook_state)atomic_load(&h->s[i].state);
}

bool cof_hooks_completed(const struct cof_hooks *h, enum cof_hook_stage stage)
{
    return h != NULL && (unsigned)stage < COF_HOOK_STAGES && atomic_load(&h->completed[stage]);
}

/* environ, minus the names env sets, plus env. The strings are borrowed. */
static char **build_env(const char *const *env)
{
    size_t n = 0, m = 0;
    while (environ[n] != NULL)
        n++;
    while (env != NULL && env[m] != NULL)
        m++;
    char **v = calloc(n + m + 1, sizeof(*v));
    if (v == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t j = 0; j < m && !replaced; j++) {
            size_t nl = strcspn(env[j], "=");
            replaced = strncmp(environ[i], env[j], nl) == 0 && environ[i][nl] == '=';
        }
        if (!replaced)
            v[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        memcpy(&v[k++], &env[j], sizeof(char *)); /* borrowed; never written through */
    v[k] = NULL;
    return v;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Logs the tail of a script's captured output, one line per log line. */
static void log_output(int fd, enum cof_log_level lvl, const struct script *sc)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0)
        return;
    off_t from = st.st_size > OUTPUT_LOG_MAX ? st.st_size - OUTPUT_LOG_MAX : 0;
    char *buf = malloc(OUTPUT_LOG_MAX);
    if (buf == NULL)
        return;
    ssize_t got = pread(fd, buf, OUTPUT_LOG_MAX, from);
    if (got > 0) {
        const char *stage = cof_hook_stage_name(sc->stage);
        if (from > 0)
            cof_log(lvl, NULL, "init %s %s: (%lld bytes of output before this not shown)", stage,
                    sc->name, (long long)from);
        const char *p = buf, *end = buf + got;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl != NULL ? nl : end;
            int len = (int)(le - p);
            if (len > 0)
                cof_log(lvl, NULL, "init %s %s: %.*s", stage, sc->name, len, p);
            p = le + 1;
        }
    }
    free(buf);
}

/* Waits for pid. SIGTERM/SIGINT meanwhile: SIGTERM to its process group, SIGKILL after the
 * grace period; the signal goes to *stop_sig. Returns the wait status. */
static int wait_child(pid_t pid, int *stop_sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    int64_t kill_at = 0;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return r == pid ? status : -1;
        if (kill_at != 0 && mono_ms() >= kill_at) {
            kill(-pid, SIGKILL);
            kill_at = INT64_MAX;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if ((sig == SIGTERM || sig == SIGINT) && kill_at == 0) {
            *stop_sig = sig;
            kill(-pid, SIGTERM);
            kill_at = mono_ms() + KILL_GRACE_MS;
        }
    }
}

/* Runs one script with stdin /dev/null and stdout+stderr captured; marks and logs the outcome. */
static cof_err run_one(struct script *sc, char **envp, int *stop_sig)
{
    char tmpl[] = "/tmp/coffer-init-XXXXXX";
    int out = mkstemp(tmpl);
    if (out >= 0) {
        unlink(tmpl);
        (void)fcntl(out, F_SETFD, FD_CLOEXEC); /* the child gets it as 1 and 2 only */
    }
    char py[] = "python3";
    char *argv_sh[] = {sc->path, NULL};
    char *argv_py[] = {py, sc->path, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    /* Never the server's stdout, which carries "Ready.": without a capture file, stderr. */
    posix_spawn_file_actions_adddup2(&fa, out >= 0 ? out : 2, 1);
    if (out >= 0)
        posix_spawn_file_actions_adddup2(&fa, out, 2);
    /* The server blocks SIGTERM/SIGINT/SIGCHLD and ignores SIGPIPE; a script starts clean, in
     * its own process group so that a stop reaches whatever it started. */
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    const char *stage = cof_hook_stage_name(sc->stage);
    cof_log_info(NULL, "init %s: running %s", stage, sc->path);
    atomic_store(&sc->state, COF_HOOK_RUNNING);
    int64_t t0 = mono_ms();
    pid_t pid = -1;
    int rc = sc->python ? posix_spawnp(&pid, py, &fa, &at, argv_py, envp)
                        : posix_spawn(&pid, sc->path, &fa, &at, argv_sh, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        const char *why = rc == EACCES && !sc->python ? " (a *.sh hook must be executable)"
                          : rc == ENOENT && sc->python
                              ? " (python3 is not on PATH; the coffer:*-compat image has it)"
                          : rc == ENOEXEC ? " (no #! line?)"
                                          : "";
        cof_log_error(NULL, "init %s %s: cannot run: %s%s", stage, sc->name, strerror(rc), why);
        atomic_store(&sc->state, COF_HOOK_ERROR);
        if (out >= 0)
            close(out);
        return COF_OK;
    }
    int status = wait_child(pid, stop_sig);
    long long ms = (long long)(mono_ms() - t0);
    bool ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (out >= 0) {
        log_output(out, ok ? COF_LOG_INFO : COF_LOG_ERROR, sc);
        close(out);
    }
    if (ok)
        cof_log_info(NULL, "init %s %s: SUCCESSFUL (%lld ms)", stage, sc->name, ms);
    else if (status != -1 && WIFEXITED(status))
        cof_log_error(NULL, "init %s %s: ERROR: exit status %d (%lld ms)", stage, sc->name,
                      WEXITSTATUS(status), ms);
    else if (status != -1 && WIFSIGNALED(status))
        cof_log_error(NULL, "init %s %s: ERROR: killed by signal %d (%lld ms)", stage, sc->name,
                      WTERMSIG(status), ms);
    else
        cof_log_error(NULL, "init %s %s: ERROR: lost track of the process", stage, sc->name);
    atomic_store(&sc->state, ok ? COF_HOOK_SUCCESSFUL : COF_HOOK_ERROR);
    return COF_OK;
}

cof_err cof_hooks_run(struct cof_hooks *h, enum cof_hook_stage stage, const char *const *env,
                      int *out_signal)
{
    *out_signal = 0;
    if ((unsigned)stage >= COF_HOOK_STAGES)
        COF_BUG("cof_hooks_run: bad stage");
    cof_err err = COF_OK;
    char **envp = NULL;
    for (size_t i = 0; i < h->n && *out_signal == 0; i++) {
        if (h->s[i].stage != stage)
            continue;
        if (envp == NULL && (envp = build_env(env)) == NULL) {
            err = COF_ERR_NOMEM;
            break;
        }
        err = run_one(&h->s[i], envp, out_signal);
        if (err != COF_OK)
            break;
    }
    if (*out_signal != 0)
        cof_log_warn(NULL, "init %s: signal %d: the stage's remaining scripts are not run",
                     cof_hook_stage_name(stage), *out_signal);
    free(envp);
    atomic_store(&h->completed[stage], true);
    return err;
}
