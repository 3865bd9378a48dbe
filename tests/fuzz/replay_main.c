/* SPDX-License-Identifier: Apache-2.0 */
/* Replay driver for fuzz targets built without libFuzzer: feeds every regular file of the
 * corpus directories (or files) named on the command line to LLVMFuzzerTestOneInput, in
 * name order. A target signals a bug by aborting; an empty corpus is an error too. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (8u * 1024 * 1024)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = -1;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    buf = malloc(REPLAY_MAX_INPUT);
    if (buf == NULL)
        goto out;
    n = fread(buf, 1, REPLAY_MAX_INPUT, f);
    if (ferror(f)) {
        perror(path);
        goto out;
    }
    /* Copy into an exact-size allocation so ASan catches reads past the end. */
    uint8_t *exact = malloc(n > 0 ? n : 1);
    if (exact == NULL)
        goto out;
    memcpy(exact, buf, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    struct dirent **ents = NULL;
    int n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        perror(path);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char full[4096];
        if (ents[i]->d_name[0] != '.' &&
            snprintf(full, sizeof(full), "%s/%s", path, ents[i]->d_name) < (int)sizeof(full) &&
            stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            (*count)++;
            if (run_file(full) != 0)
                rc = -1;
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (run_path(argv[i], &count) != 0)
            rc = 1;
    }
    printf("replayed %zu inputs\n", count);
    if (count == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    return rc;
}
