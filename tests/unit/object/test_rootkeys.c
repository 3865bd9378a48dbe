/* SPDX-License-Identifier: Apache-2.0 */
/* The live root keyring: a running server finds a key added to the file after any number of
 * earlier reloads (it once stopped reloading after 64, and kept answering "not in the keyring"). */
#include "check.h"
#include "crypto/key.h"
#include "crypto/keyring.h"
#include "object/rootkeys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Appends a fresh key to the file at path (it becomes the active one); its id into id. */
static void rotate(const char *path, char id[CRY_KEY_ID_MAX + 1])
{
    struct cry_key *k = NULL;
    CHECK(cry_key_new_random(&k) == COF_OK);
    CHECK(cry_keyring_new_id(id) == COF_OK);
    CHECK(cry_keyring_add_key(path, id, k) == COF_OK);
    cry_key_free(k);
}

static void test_many_reloads(void)
{
    char dir[] = "/tmp/coffer-rootkeys-XXXXXX";
    char path[64], id[CRY_KEY_ID_MAX + 1];
    struct srv_rootkeys *rk = NULL;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/root.key", dir);
    CHECK(srv_rootkeys_open(path, true, &rk) == COF_OK);
    for (int i = 0; i < 100; i++) {
        rotate(path, id);
        const char *active = NULL;
        CHECK(srv_rootkeys_find(rk, id) != NULL);
        CHECK(srv_rootkeys_active(rk, &active) != NULL);
        CHECK_EQ_STR(active, id);
    }
    srv_rootkeys_close(rk);
    char tmp[80];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    (void)unlink(tmp);
    CHECK(unlink(path) == 0);
    CHECK(rmdir(dir) == 0);
}

int main(void)
{
    test_many_reloads();
    return check_finish();
}
