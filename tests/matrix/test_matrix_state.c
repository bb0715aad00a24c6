/* The state file (round trip, atomic replace, damaged files) and the send
 * queue (per-room order, waiting for the write, retries). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matrix/matrix_state.h"
#include "test_files.h"

static void fill(matrix_state *s)
{
    memset(s, 0, sizeof *s);
    s->user_id = strdup("@careerbot:example.org");
    s->device_id = strdup("DEVICE");
    s->next_batch = strdup("s1_2_3");
    matrix_strset_add(&s->encrypted, "!secret:x");
    matrix_strset_add(&s->told_encrypted, "!secret:x");
    matrix_strset_add(&s->direct_invites, "!dm:x");
    matrix_strset_add(&s->direct_account, "!dm2:x");
    matrix_strset_add(&s->rooms, "!r:x");
    s->rooms_known = 1;
    assert_int_equal(matrix_strmap_set(&s->room_names, "!r:x", "Room Bot"), 0);
    assert_int_equal(matrix_outbox_add(&s->outbox, "!r:x", "cbr-1", "{\"msgtype\":\"m.notice\",\"body\":\"a\"}", 3), 1);
    assert_int_equal(matrix_outbox_add(&s->outbox, "!r:x", "cbr-2", "{\"body\":\"b\"}", 3), 1);
}

static void test_round_trip(void **state)
{
    (void)state;
    matrix_state s, back;
    fill(&s);
    char *text = matrix_state_to_json(&s);
    assert_non_null(text);
    base_error err;
    assert_int_equal(matrix_state_from_json(text, strlen(text), &back, &err), BASE_OK);
    assert_string_equal(back.user_id, "@careerbot:example.org");
    assert_string_equal(back.device_id, "DEVICE");
    assert_string_equal(back.next_batch, "s1_2_3");
    assert_true(matrix_strset_has(&back.encrypted, "!secret:x"));
    assert_true(matrix_strset_has(&back.told_encrypted, "!secret:x"));
    assert_true(matrix_strset_has(&back.direct_invites, "!dm:x"));
    assert_true(matrix_strset_has(&back.direct_account, "!dm2:x"));
    assert_true(back.rooms_known);
    assert_true(matrix_strset_has(&back.rooms, "!r:x"));
    assert_string_equal(matrix_strmap_get(&back.room_names, "!r:x"), "Room Bot");
    assert_int_equal(back.outbox.n, 2);
    assert_string_equal(back.outbox.items[0].txn_id, "cbr-1"); /* order kept */
    assert_string_equal(back.outbox.items[1].txn_id, "cbr-2");
    assert_non_null(strstr(back.outbox.items[0].content, "m.notice"));
    assert_int_equal(back.outbox.items[0].gen, 0); /* loaded items are on disk already */
    free(text);
    matrix_state_free(&s);
    matrix_state_free(&back);
}

static void test_damaged_files(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "{", "[]", "{\"version\":2}", "{\"next_batch\":\"x\"}", "{\"version\":1,\"next_batch\":5}",
        "{\"version\":1,\"encrypted\":\"!a:x\"}", "{\"version\":1,\"encrypted\":[1]}",
        "{\"version\":1,\"outbox\":[{\"room_id\":\"!r:x\"}]}", "{\"version\":1,\"outbox\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        matrix_state s;
        base_error err = {0};
        if (matrix_state_from_json(bad[i], strlen(bad[i]), &s, &err) == BASE_OK)
            fail_msg("accepted %s", bad[i]);
        assert_null(s.next_batch);
        assert_true(err.text[0] != '\0');
    }
    matrix_state s;
    base_error err;
    assert_int_equal(matrix_state_from_json("{\"version\":1}", 13, &s, &err), BASE_OK);
    assert_null(s.next_batch);
    matrix_state_free(&s);
}

static void test_save_and_load(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/a/b/matrix-hs", dir);
    base_error err;
    assert_int_equal(matrix_state_dir_create(sub, &err), BASE_OK);
    assert_int_equal(matrix_state_dir_create(sub, &err), BASE_OK); /* again: fine */

    matrix_state s;
    assert_int_equal(matrix_state_load(sub, &s, &err), BASE_OK); /* no file yet: empty state */
    assert_null(s.next_batch);
    assert_int_equal(s.outbox.n, 0);
    matrix_state_free(&s);

    fill(&s);
    assert_int_equal(matrix_state_save(sub, &s, &err), BASE_OK);
    free(s.next_batch);
    s.next_batch = strdup("s9");
    assert_int_equal(matrix_state_save(sub, &s, &err), BASE_OK); /* replaces it */
    matrix_state_free(&s);

    char path[1300];
    snprintf(path, sizeof path, "%s/state.json", sub);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* it may hold a device id: private */
    snprintf(path, sizeof path, "%s/.state.json.tmp", sub);
    assert_int_not_equal(stat(path, &st), 0); /* no temporary file left behind */

    assert_int_equal(matrix_state_load(sub, &s, &err), BASE_OK);
    assert_string_equal(s.next_batch, "s9");
    assert_int_equal(s.outbox.n, 2);
    matrix_state_free(&s);

    /* A damaged file is an error that says what to do, never a silent reset. */
    tu_write(sub, "state.json", "{\"version\":1,\"next_batch\":");
    assert_int_equal(matrix_state_load(sub, &s, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "damaged"));

    /* A file where the directory should be. */
    snprintf(path, sizeof path, "%s/state.json/x", sub);
    assert_int_equal(matrix_state_dir_create(path, &err), BASE_ERR);

    snprintf(path, sizeof path, "%s/a/b", dir);
    tu_remove_dir(path);
    snprintf(path, sizeof path, "%s/a", dir);
    tu_remove_dir(path);
    tu_remove_dir(dir);
    free(dir);
}

static void test_write_file_is_atomic(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    base_error err;
    tu_write(dir, "f", "old");
    assert_int_equal(matrix_state_write_file(dir, "f", "new", 3, &err), BASE_OK);
    char *text = tu_read(dir, "f");
    assert_string_equal(text, "new");
    free(text);
    assert_int_equal(matrix_state_write_file("/nonexistent/dir", "f", "x", 1, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "cannot create"));
    tu_remove_dir(dir);
    free(dir);
}

/* A state file from before rooms were kept: nothing is known about them. */
static void test_older_state_file(void **state)
{
    (void)state;
    const char *text = "{\"version\":1,\"next_batch\":\"s1\",\"outbox\":[]}";
    matrix_state s;
    base_error err;
    assert_int_equal(matrix_state_from_json(text, strlen(text), &s, &err), BASE_OK);
    assert_false(s.rooms_known);
    assert_int_equal(s.rooms.n, 0);
    matrix_state_free(&s);
}

/* Whoever can write the state can make the bot post anything: a state
 * directory or file others may write is refused, with the fix. */
static void test_writable_by_others_refused(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    base_error err;
    chmod(dir, 0770);
    assert_int_equal(matrix_state_dir_create(dir, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "chmod go-w"));
    assert_non_null(strstr(err.text, dir));
    chmod(dir, 0755);
    assert_int_equal(matrix_state_dir_create(dir, &err), BASE_OK); /* readable is fine: nothing secret there */
    tu_write(dir, "state.json", "{\"version\":1}");
    char path[1200];
    snprintf(path, sizeof path, "%s/state.json", dir);
    chmod(path, 0666);
    matrix_state s;
    assert_int_equal(matrix_state_load(dir, &s, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "chmod go-w"));
    chmod(path, 0600);
    assert_int_equal(matrix_state_load(dir, &s, &err), BASE_OK);
    matrix_state_free(&s);
    tu_remove_dir(dir);
    free(dir);
}

static void test_strmap(void **state)
{
    (void)state;
    matrix_strmap m = {0};
    assert_int_equal(matrix_strmap_set(&m, "a", "1"), 0);
    assert_int_equal(matrix_strmap_set(&m, "b", "2"), 0);
    assert_int_equal(matrix_strmap_set(&m, "a", "3"), 0);
    assert_string_equal(matrix_strmap_get(&m, "a"), "3");
    assert_int_equal(m.n, 2);
    assert_int_equal(matrix_strmap_set(&m, "a", NULL), 0);
    assert_null(matrix_strmap_get(&m, "a"));
    assert_string_equal(matrix_strmap_get(&m, "b"), "2");
    assert_int_equal(matrix_strmap_set(&m, "zz", NULL), 0);
    matrix_strmap_free(&m);
}

static void test_strset(void **state)
{
    (void)state;
    matrix_strset s = {0};
    assert_int_equal(matrix_strset_add(&s, "a"), 1);
    assert_int_equal(matrix_strset_add(&s, "a"), 0);
    assert_int_equal(matrix_strset_add(&s, "b"), 1);
    assert_true(matrix_strset_has(&s, "b"));
    assert_int_equal(matrix_strset_remove(&s, "a"), 1);
    assert_false(matrix_strset_has(&s, "a"));
    assert_int_equal(matrix_strset_remove(&s, "a"), 0);
    matrix_strset_free(&s);
}

static void test_outbox_order_per_room(void **state)
{
    (void)state;
    matrix_outbox o = {0};
    assert_int_equal(matrix_outbox_add(&o, "!a:x", "t1", "{}", 1), 1);
    assert_int_equal(matrix_outbox_add(&o, "!b:x", "t2", "{}", 1), 1);
    assert_int_equal(matrix_outbox_add(&o, "!a:x", "t3", "{}", 1), 1);
    assert_int_equal(matrix_outbox_add(&o, "!a:x", "t1", "{}", 1), 0); /* the same answer twice: once */
    assert_int_equal(matrix_outbox_count_room(&o, "!a:x"), 2);

    matrix_outbox_item *ready[8];
    /* Nothing goes before the state that holds it is on disk. */
    assert_int_equal(matrix_outbox_ready(&o, 0, 0, ready, 8), 0);
    assert_true(matrix_outbox_next_wake(&o, 0) < 0);

    /* One head per room: t1 and t2, not t3. */
    assert_int_equal(matrix_outbox_ready(&o, 0, 1, ready, 8), 2);
    assert_string_equal(ready[0]->txn_id, "t1");
    assert_string_equal(ready[1]->txn_id, "t2");
    ready[0]->in_flight = 1;
    ready[1]->in_flight = 1;
    assert_int_equal(matrix_outbox_ready(&o, 0, 1, ready, 8), 0); /* t3 waits behind t1 */

    /* t1 is rate limited: it stays first, and t3 still waits. */
    matrix_outbox_item *t1 = matrix_outbox_find(&o, "t1");
    t1->in_flight = 0;
    t1->next_try = 5.0;
    assert_int_equal(matrix_outbox_ready(&o, 1.0, 1, ready, 8), 0);
    assert_true(matrix_outbox_next_wake(&o, 1) == 5.0);
    assert_int_equal(matrix_outbox_ready(&o, 5.0, 1, ready, 8), 1);
    assert_string_equal(ready[0]->txn_id, "t1");

    /* t1 done: t3 is the head now. */
    assert_int_equal(matrix_outbox_remove(&o, "t1"), 1);
    assert_int_equal(matrix_outbox_remove(&o, "t1"), 0);
    assert_int_equal(matrix_outbox_ready(&o, 5.0, 1, ready, 8), 1);
    assert_string_equal(ready[0]->txn_id, "t3");
    matrix_outbox_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_save_and_load),
        cmocka_unit_test(test_write_file_is_atomic),
        cmocka_unit_test(test_strset),
        cmocka_unit_test(test_strmap),
        cmocka_unit_test(test_older_state_file),
        cmocka_unit_test(test_writable_by_others_refused),
        cmocka_unit_test(test_outbox_order_per_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
