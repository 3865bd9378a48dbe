/* SPDX-License-Identifier: Apache-2.0 */
/* coffer's only main(): options, data dir and keyring set-up, the listening socket, signals,
 * and the fsck and lifecycle subcommands. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/inithooks.h"
#include "common/log.h"
#include "crypto/key.h"
#include "crypto/tlscert.h"
#include "object/gc.h"
#include "object/keyguard.h"
#include "object/rootkeys.h"
#include "server/admin.h"
#include "server/backup.h"
#include "server/blobstore.h"
#include "server/migrate.h"
#include "common/config.h"
#include "server/fsck.h"
#include "server/http.h"
#include "server/lcthread.h"
#include "ops/lcsweep.h"
#include "s3/lifecycle.h"
#include "ops/req.h"
#include "server/notify.h"
#include "s3/xml.h"
#include "storage/blob.h"
#include "storage/meta.h"

/* Exit status when the root keyring does not hold the keys the data dir depends on (README). */
#define EXIT_ROOT_KEYS 3

struct app {
    struct srv_config cfg;
    struct srv_ctx ctx;
    char *tmp_root; /* --ephemeral: removed on exit */
    /* init hooks (--init-dir) and their states */
    struct cof_hooks *hooks;
    int lock_fd;
    bool locked;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static cof_err make_dir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return COF_OK;
    cof_log_error(NULL, "cannot create %s: %s", path, strerror(errno));
    return COF_ERR_IO;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* Prepares the data dir and root key paths, takes the data dir lock (one server per dir; fsck
 * uses it to know whether a server runs), opens metadata, keyring and blobs. */
/* for_fsck: also for admin commands: no exclusive lock needed (a server may be running).
 * inspect: fsck and `keys list` take the keyring as it is and report what it lacks; everything
 * else refuses one that lacks a key the data dir depends on (COF_ERR_KEY_ABSENT). */
static cof_err open_store(struct app *a, bool for_fsck, bool inspect)
{
    struct srv_config *c = &a->cfg;
    cof_err err = COF_OK;
    if (c->ephemeral) {
        char tmpl[] = "/tmp/coffer-ephemeral-XXXXXX";
        if (mkdtemp(tmpl) == NULL) {
            cof_log_error(NULL, "mkdtemp: %s", strerror(errno));
            return COF_ERR_IO;
        }
        a->tmp_root = strdup(tmpl);
        free(c->data_dir);
        c->data_dir = join(tmpl, "data");
        if (c->root_key_file == NULL)
            c->root_key_file = join(tmpl, "root.key");
        if (a->tmp_root == NULL || c->data_dir == NULL || c->root_key_file == NULL)
            return COF_ERR_NOMEM;
        cof_log_info(NULL, "ephemeral data dir %s (removed on exit)", c->data_dir);
    }
    if (c->root_key_file == NULL && (c->root_key_file = join(c->data_dir, "root.key")) == NULL)
        return COF_ERR_NOMEM;
    err = make_dir(c->data_dir);
    if (err != COF_OK)
        return err;

    char *lock = join(c->data_dir, "coffer.lock");
    char *db = join(c->data_dir, "coffer.db");
    if (lock == NULL || db == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    a->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->lock_fd < 0) {
        cof_log_error(NULL, "cannot open %s: %s", lock, strerror(errno));
        err = COF_ERR_IO;
        goto out;
    }
    a->locked = flock(a->lock_fd, LOCK_EX | LOCK_NB) == 0;
    if (!a->locked && !for_fsck) {
        cof_log_error(NULL, "another coffer is serving %s", c->data_dir);
        err = COF_ERR_IO;
        goto out;
    }
    /* The keyring is checked before anything else in the data dir is touched. */
    err = sto_meta_open(db, c->durability_full, &a->ctx.obj.meta);
    if (err == COF_OK)
        err = obj_keyguard_open(c->root_key_file, c->data_dir, a->ctx.obj.meta,
                                inspect ? OBJ_KEYGUARD_INSPECT : OBJ_KEYGUARD_SERVE,
                                c->profile == SRV_PROFILE_AWS, &a->ctx.obj.kr);
    if (err == COF_OK)
        err = srv_blobstore_open(c, &a->ctx.obj.blobs);
    if (err == COF_OK)
        err = obj_gc_drain(&a->ctx.obj);
out:
    free(lock);
    free(db);
    return err;
}

static void close_store(struct app *a)
{
    sto_meta_close(a->ctx.obj.meta);
    sto_blobs_close(a->ctx.obj.blobs);
    srv_rootkeys_close(a->ctx.obj.kr);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    if (a->tmp_root != NULL) {
        nftw(a->tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(a->tmp_root);
    }
}

static int open_listener(const char *host, unsigned port, unsigned *out_port)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        cof_log_error(NULL, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
            cof_log_error(NULL, "cannot listen on %s:%u: %s", host, port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        *out_port = port;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET)
                *out_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            else if (ss.ss_family == AF_INET6)
                *out_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    return fd;
}

static void make_session_id(char out[37])
{
    uint8_t r[16];
    if (cry_random(r, sizeof(r)) != COF_OK)
        memset(r, 0, sizeof(r));
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

/* Every connection and every open blob (a GET of a multipart object holds one per part) is a
 * descriptor: allow as many as the system does. The connection caps are fitted to the result. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = was;
    }
    cof_log_info(NULL, "file descriptor limit %llu (hard limit %llu)",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
}

/* Runs one init hook stage; returns the stop signal that cut it short, or 0. Scripts of the
 * ready and shutdown stages get COFFER_ENDPOINT, the URL they reach this server at. */
static int run_stage(struct app *a, enum cof_hook_stage stage, unsigned port)
{
    const char *host = a->cfg.listen_host;
    bool v6 = strchr(host, ':') != NULL;
    bool any = *host == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
    if (any)
        host = v6 ? "::1" : "127.0.0.1";
    char endpoint[300];
    snprintf(endpoint, sizeof(endpoint), "COFFER_ENDPOINT=http://%s%s%s:%u", v6 ? "[" : "", host,
             v6 ? "]" : "", port);
    const char *env[] = {endpoint, NULL};
    int sig = 0;
    if (cof_hooks_run(a->hooks, stage, port != 0 ? env : NULL, &sig) != COF_OK)
        cof_log_error(NULL, "init %s: out of memory", cof_hook_stage_name(stage));
    return sig;
}

/* Waits for SIGTERM/SIGINT. SIGCHLD is in the set too: as a container's PID 1, coffer adopts
 * the orphans of hook scripts, and reaps them here. */
static int wait_stop_signal(const sigset_t *set)
{
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig) != 0 || sig == SIGCHLD) {
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            continue;
        }
        return sig;
    }
}

static int serve(struct app *a)
{
    raise_fd_limit();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    /* Block before any thread starts so that only sigwait below (and the init hook runner,
     * which waits for its scripts) sees them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cof_hooks_open(a->cfg.init_dir, &a->hooks) != COF_OK)
        return 1;
    a->ctx.hooks = a->hooks;
    if (run_stage(a, COF_HOOK_BOOT, 0) != 0)
        return 0;
    cof_err opened = open_store(a, false, false);
    if (opened != COF_OK)
        return opened == COF_ERR_KEY_ABSENT ? EXIT_ROOT_KEYS : 1;
    if (run_stage(a, COF_HOOK_START, 0) != 0)
        return 0;
    unsigned port = 0;
    int fd = open_listener(a->cfg.listen_host, a->cfg.listen_port, &port);
    if (fd < 0)
        return 1;
    a->ctx.port = port;
    /* TLS on the same port: tls_cert (--tls-cert, or LocalStack's CUSTOM_SSL_CERT_PATH; key and
     * certificate in one PEM), else a self-signed certificate generated into the data dir on
     * first start. */
    struct cry_tls_identity tls;
    const char *custom = a->cfg.tls_cert;
    bool use_custom = custom != NULL && *custom != '\0';
    char *own = join(a->cfg.data_dir, "tls.pem");
    if (own == NULL ||
        cry_tls_identity_load(use_custom ? custom : own, !use_custom, &tls) != COF_OK) {
        free(own);
        close(fd);
        return 1;
    }
    free(own);
    struct srv_http *h = NULL;
    cof_err started = srv_http_start(&a->ctx, fd, a->cfg.threads, &tls, &h);
    cry_tls_identity_cleanup(&tls);
    if (started != COF_OK)
        return 1; /* the listener is closed by then */
    struct srv_backupthread *backups = NULL;
    if (srv_backupthread_start(&a->ctx.obj, &a->cfg, a->cfg.backup_interval, &backups) != COF_OK)
        cof_log_error(NULL, "backup thread not started: backups only by `coffer backup`");
    struct srv_lcthread *sweeper = NULL;
    if (srv_lcthread_start(&a->ctx, a->cfg.lifecycle_interval, &sweeper) != COF_OK)
        cof_log_error(NULL, "lifecycle sweeper not started: lifecycle rules apply only on "
                            "`coffer lifecycle run`");
    cof_log_info(NULL,
                 "coffer serving http and https on %s:%u (data %s, profile %s, durability %s)",
                 a->cfg.listen_host, port, a->cfg.data_dir,
                 a->cfg.profile == SRV_PROFILE_AWS ? "aws" : "localstack",
                 a->cfg.durability_full ? "full" : "relaxed");
    /* LocalStack's order: ready.d scripts run once S3 serves, and "Ready." follows them. */
    int sig = run_stage(a, COF_HOOK_READY, port);
    if (sig == 0) {
        printf("Ready.\n");
        fflush(stdout);
        srv_notify("READY=1");
        sig = wait_stop_signal(&set);
    }
    srv_notify("STOPPING=1");
    cof_log_info(NULL, "signal %d: finishing requests in flight", sig);
    (void)run_stage(a, COF_HOOK_SHUTDOWN, port);
    srv_lcthread_stop(sweeper);
    srv_backupthread_stop(backups);
    srv_http_stop(h, a->cfg.shutdown_grace * 1000u);
    cof_log_info(NULL, "stopped");
    return 0;
}

static int fsck_main(struct app *a, bool dry_run)
{
    struct srv_fsck_report rep;
    if (open_store(a, true, true) != COF_OK)
        return 2;
    cof_err err = srv_fsck_run(&a->ctx, dry_run, !a->locked, &rep);
    if (err != COF_OK) {
        fprintf(stderr, "coffer fsck: %s\n", cof_err_name(err));
        return 2;
    }
    printf("fsck: %lu objects checked (%lu with customer keys: presence and size only), "
           "%lu damaged, %lu unreferenced blobs (%lu removed%s), %lu with a root key absent "
           "from the keyring",
           rep.objects, rep.customer_keyed, rep.damaged, rep.unreferenced, rep.removed,
           rep.skipped_young ? ", recent ones left while the server runs" : "", rep.key_absent);
    if (rep.changed > 0)
        printf(", %lu overwritten or deleted while checked (the server is running)", rep.changed);
    putchar('\n');
    if (rep.upstream)
        printf("fsck: %lu unfinished upstream uploads (%lu aborted)\n", rep.uploads,
               rep.uploads_aborted);
    return rep.damaged > 0 || rep.key_absent > 0 ? 1 : 0;
}

/* coffer lifecycle run [--now T]: one sweep of every bucket's rules as of T (default: now).
 * Safe while a server runs on the same data dir, as fsck is. */
static int lifecycle_main(struct app *a, const char *now)
{
    struct ops_lc_counts n = {0, 0, 0, 0};
    int64_t now_ms = cof_now_ms();
    if (now != NULL && srv_lc_parse_time(now, &now_ms) != COF_OK) {
        fprintf(stderr,
                "coffer lifecycle run: --now wants an ISO 8601 time such as "
                "2030-01-31T00:00:00Z, not %s\n",
                now);
        return 2;
    }
    if (open_store(a, true, true) != COF_OK)
        return 2;
    cof_err err = ops_lc_run(&a->ctx.obj, now_ms, &n);
    if (err != COF_OK) {
        fprintf(stderr, "coffer lifecycle run: %s\n", cof_err_name(err));
        return 1;
    }
    printf("lifecycle: %lu looked at, %lu expired, %lu removed, %lu uploads aborted\n", n.scanned,
           n.expired, n.removed, n.aborted);
    return 0;
}

/* Takes `run` and `--now T` / `--now=T` out of argv (from first on); returns the new argc, or
 * -1 on a usage error. */
static int take_lifecycle_args(int argc, char **argv, int first, const char **now)
{
    int j = first;
    bool run = false;
    for (int i = first; i < argc; i++) {
        if (!run && strcmp(argv[i], "run") == 0)
            run = true;
        else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc)
            *now = argv[++i];
        else if (strncmp(argv[i], "--now=", 6) == 0)
            *now = argv[i] + 6;
        else
            argv[j++] = argv[i];
    }
    if (!run) {
        fprintf(stderr, "usage: coffer lifecycle run [--now <ISO 8601 time>] [options]\n");
        return -1;
    }
    return j;
}

/* coffer backup [--output FILE]: a sealed snapshot of the metadata, into the upstream store or
 * FILE. Safe while a server runs on the same data dir, as fsck is. */
static int backup_main(struct app *a, const char *output)
{
    cof_err err = open_store(a, true, false);
    char name[SRV_BACKUP_NAME_MAX] = "";
    if (err == COF_OK)
        err = srv_backup_run(&a->ctx.obj, &a->cfg, output, name);
    if (err != COF_OK) {
        fprintf(stderr, "coffer backup: %s\n", cof_err_name(err));
        return err == COF_ERR_KEY_ABSENT ? EXIT_ROOT_KEYS : 1;
    }
    printf("backup: %s\n", name);
    return 0;
}

/* coffer restore [--input FILE] [--backup NAME]: a new data dir from a backup. */
static int restore_main(struct app *a, const char *input, const char *backup_name)
{
    struct srv_config *c = &a->cfg;
    if (c->root_key_file == NULL && (c->root_key_file = join(c->data_dir, "root.key")) == NULL)
        return 2;
    char name[SRV_BACKUP_NAME_MAX] = "";
    cof_err err = srv_restore_run(c, input, backup_name, name);
    if (err != COF_OK) {
        fprintf(stderr, "coffer restore: %s\n", cof_err_name(err));
        return err == COF_ERR_KEY_ABSENT ? EXIT_ROOT_KEYS : 1;
    }
    printf("restore: %s into %s\n", name, c->data_dir);
    return 0;
}

/* coffer blobs migrate --to upstream|files: one pass; run again until it says finished. */
static int migrate_main(struct app *a, bool to_upstream)
{
    struct srv_migrate_report r;
    cof_err err = srv_migrate_run(&a->cfg, to_upstream, &r);
    if (err != COF_OK) {
        fprintf(stderr, "coffer blobs migrate: %s\n", cof_err_name(err));
        return 1;
    }
    if (r.already) {
        printf("migrate: the blobs are in %s already\n",
               to_upstream ? "the upstream store" : "local files");
        return 0;
    }
    printf("migrate: %lu blobs copied, %lu there already, %lu removed from the old store, %lu "
           "failed\n",
           r.copied, r.present, r.removed, r.failed);
    if (r.kept)
        printf("migrate: old copies kept: a server holds the data dir without the migration; "
               "restart it (it then reads both stores) and run this again\n");
    else if (r.finished)
        printf("migrate: finished: the data dir now keeps its blobs in %s\n",
               to_upstream ? "the upstream store" : "local files");
    else
        printf("migrate: not finished: run it again\n");
    return r.failed > 0 ? 1 : 0;
}

/* coffer blobs migrate --to upstream|files [options]: takes the words and --to out of argv. */
static int take_migrate_args(int argc, char **argv, const char **to)
{
    if (argc < 3 || strcmp(argv[2], "migrate") != 0)
        goto usage;
    int j = 3;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            *to = argv[++i];
        else
            argv[j++] = argv[i];
    }
    if (*to == NULL || (strcmp(*to, "upstream") != 0 && strcmp(*to, "files") != 0))
        goto usage;
    return j;
usage:
    fprintf(stderr, "usage: coffer blobs migrate --to upstream|files --blob-store s3://... "
                    "[options]\n");
    return -1;
}

/* Takes --output FILE (backup) or --input FILE and --backup NAME (restore) out of argv. */
static int take_backup_args(int argc, char **argv, int first, bool restore, const char **file,
                            const char **name)
{
    int j = first;
    for (int i = first; i < argc; i++) {
        const char *flag = restore ? "--input" : "--output";
        if ((strcmp(argv[i], flag) == 0 || (restore && strcmp(argv[i], "--backup") == 0)) &&
            i + 1 < argc) {
            if (strcmp(argv[i], "--backup") == 0)
                *name = argv[++i];
            else
                *file = argv[++i];
        } else if (strcmp(argv[i], flag) == 0 || strcmp(argv[i], "--backup") == 0) {
            fprintf(stderr, "usage: coffer %s\n",
                    restore ? "restore [--input FILE] [--backup backups/NAME.cbk] [options]"
                            : "backup [--output FILE] [options]");
            return -1;
        } else {
            argv[j++] = argv[i];
        }
    }
    return j;
}

int main(int argc, char **argv)
{
    struct app a;
    memset(&a, 0, sizeof(a));
    a.lock_fd = -1;
    bool fsck = argc > 1 && strcmp(argv[1], "fsck") == 0;
    bool kms = argc > 1 && strcmp(argv[1], "kms") == 0;
    bool keys = argc > 1 && strcmp(argv[1], "keys") == 0;
    bool lifecycle = argc > 1 && strcmp(argv[1], "lifecycle") == 0;
    bool backup = argc > 1 && strcmp(argv[1], "backup") == 0;
    bool restore = argc > 1 && strcmp(argv[1], "restore") == 0;
    bool blobs = argc > 1 && strcmp(argv[1], "blobs") == 0;
    const char *mig_to = NULL;
    const char *bk_file = NULL, *bk_name = NULL;
    bool dry_run = false;
    const char *lc_now = NULL;
    struct srv_admin_args admin;
    int first = fsck || kms || keys || lifecycle || backup || restore ? 2 : 1;
    if (blobs) {
        argc = take_migrate_args(argc, argv, &mig_to);
        if (argc < 0)
            return 2;
        first = 3;
    }
    if (backup || restore) {
        argc = take_backup_args(argc, argv, first, restore, &bk_file, &bk_name);
        if (argc < 0)
            return 2;
    }
    if (lifecycle) {
        argc = take_lifecycle_args(argc, argv, first, &lc_now);
        if (argc < 0)
            return 2;
    }
    if (kms || keys) {
        argc = srv_admin_take_args(argc, argv, first, &admin);
        if (argc < 0)
            return 2;
        if (admin.n_words == 0) {
            srv_admin_usage();
            return 2;
        }
    }
    if (fsck) {
        /* --dry-run belongs to fsck only: take it out before the shared option parser. */
        int j = first;
        for (int i = first; i < argc; i++) {
            if (strcmp(argv[i], "--dry-run") == 0)
                dry_run = true;
            else
                argv[j++] = argv[i];
        }
        argc = j;
    }
    bool help = false;
    if (srv_config_load(argc, argv, first, &a.cfg, &help) != COF_OK) {
        srv_config_cleanup(&a.cfg);
        return 2;
    }
    if (help) {
        srv_config_cleanup(&a.cfg);
        return 0;
    }
    cof_log_set_level((enum cof_log_level)a.cfg.log_level);
    srv_xml_global_init();
    a.ctx.cfg = &a.cfg;
    a.ctx.obj.region = a.cfg.region;
    a.ctx.obj.inline_max = a.cfg.inline_max;
    a.ctx.start_ms = cof_now_ms();
    make_session_id(a.ctx.session_id);
    int rc = 0;
    if (kms || keys) {
        cof_err opened = open_store(&a, true, keys && strcmp(admin.words[0], "list") == 0);
        if (opened != COF_OK)
            rc = opened == COF_ERR_KEY_ABSENT ? EXIT_ROOT_KEYS : 2;
        else if (kms)
            rc = srv_admin_kms(&a.ctx, &admin);
        else
            rc = srv_admin_keys(&a.ctx, a.cfg.root_key_file, &admin);
    } else if (lifecycle) {
        rc = lifecycle_main(&a, lc_now);
    } else if (blobs) {
        rc = migrate_main(&a, strcmp(mig_to, "upstream") == 0);
    } else if (backup) {
        rc = backup_main(&a, bk_file);
    } else if (restore) {
        rc = restore_main(&a, bk_file, bk_name);
    } else {
        rc = fsck ? fsck_main(&a, dry_run) : serve(&a);
    }
    close_store(&a);
    cof_hooks_free(a.hooks);
    srv_config_cleanup(&a.cfg);
    return rc;
}
