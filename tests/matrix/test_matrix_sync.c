/* /sync parsing: a realistic response in, plain structs out; and malformed
 * responses (wrong types, missing fields, huge values, deep nesting) that
 * must be skipped, never crash. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix_sync.h"

#define ME "@careerbot:example.org"

static const char full[] =
    "{\"next_batch\":\"s72595_4483_1934\","
    " \"account_data\":{\"events\":[{\"type\":\"m.direct\",\"content\":{\"@alice:example.org\":[\"!dm:example.org\"]}},"
    "   {\"type\":\"m.push_rules\",\"content\":{}}]},"
    " \"presence\":{\"events\":[]},"
    " \"rooms\":{"
    "  \"join\":{"
    "   \"!room:example.org\":{"
    "     \"state\":{\"events\":[]},"
    "     \"timeline\":{\"limited\":true,\"prev_batch\":\"p1\",\"events\":["
    "       {\"type\":\"m.room.message\",\"event_id\":\"$old\",\"sender\":\"@alice:example.org\","
    "        \"origin_server_ts\":1432735824653,\"content\":{\"msgtype\":\"m.text\",\"body\":\"old question\"}},"
    "       {\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"" ME "\",\"event_id\":\"$j\","
    "        \"content\":{\"membership\":\"join\"},\"unsigned\":{\"prev_content\":{\"membership\":\"invite\"}}},"
    "       {\"type\":\"m.room.message\",\"event_id\":\"$q1\",\"sender\":\"@alice:example.org\","
    "        \"origin_server_ts\":1432735824654,\"content\":{\"msgtype\":\"m.text\",\"body\":\"careerbot: pay?\","
    "        \"format\":\"org.matrix.custom.html\",\"formatted_body\":\"<a href=\\\"https://matrix.to/#/" ME
    "\\\">careerbot</a>: pay?\",\"m.mentions\":{\"user_ids\":[\"" ME "\", 7]}}},"
    "       {\"type\":\"m.room.message\",\"event_id\":\"$edit\",\"sender\":\"@alice:example.org\","
    "        \"content\":{\"msgtype\":\"m.text\",\"body\":\"* fixed\",\"m.new_content\":{\"body\":\"fixed\"},"
    "        \"m.relates_to\":{\"rel_type\":\"m.replace\",\"event_id\":\"$q1\"}}},"
    "       {\"type\":\"m.room.message\",\"event_id\":\"$thr\",\"sender\":\"@bob:example.org\","
    "        \"content\":{\"msgtype\":\"m.text\",\"body\":\"in a thread\","
    "        \"m.relates_to\":{\"rel_type\":\"m.thread\",\"event_id\":\"$root\"}}},"
    "       {\"type\":\"m.room.message\",\"event_id\":\"$red\",\"sender\":\"@bob:example.org\",\"content\":{},"
    "        \"unsigned\":{\"redacted_because\":{\"type\":\"m.room.redaction\"}}},"
    "       {\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"" ME "\",\"event_id\":\"$nick\","
    "        \"content\":{\"membership\":\"join\",\"displayname\":\"New\"},"
    "        \"unsigned\":{\"prev_content\":{\"membership\":\"join\"}}},"
    "       {\"type\":\"m.room.encrypted\",\"event_id\":\"$mine\",\"sender\":\"" ME "\",\"content\":{}}"
    "     ]}},"
    "   \"!secret:example.org\":{\"state\":{\"events\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\","
    "     \"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}]},\"timeline\":{\"events\":[]}},"
    "   \"!e2e:example.org\":{\"timeline\":{\"events\":[{\"type\":\"m.room.encrypted\",\"event_id\":\"$x\","
    "     \"sender\":\"@alice:example.org\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}]}}"
    "  },"
    "  \"invite\":{"
    "   \"!dm:example.org\":{\"invite_state\":{\"events\":["
    "     {\"type\":\"m.room.name\",\"state_key\":\"\",\"sender\":\"@alice:example.org\",\"content\":{\"name\":\"x\"}},"
    "     {\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"@alice:example.org\","
    "      \"content\":{\"membership\":\"invite\",\"is_direct\":true}}]}},"
    "   \"!enc-invite:example.org\":{\"invite_state\":{\"events\":["
    "     {\"type\":\"m.room.encryption\",\"state_key\":\"\",\"sender\":\"@a:example.org\",\"content\":{}},"
    "     {\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"@a:example.org\","
    "      \"content\":{\"membership\":\"invite\"}}]}},"
    "   \"!nobody:example.org\":{\"invite_state\":{\"events\":[]}}"
    "  },"
    "  \"leave\":{\"!gone:example.org\":{}}"
    " }}";

static void parse_ok(const char *json, matrix_sync *s)
{
    base_error err = {0};
    if (matrix_sync_parse(json, strlen(json), ME, s, &err) != BASE_OK)
        fail_msg("parse failed: %s", err.text);
}

static const matrix_message *find(const matrix_sync *s, const char *event_id)
{
    for (size_t i = 0; i < s->n_messages; i++)
        if (strcmp(s->messages[i].event_id, event_id) == 0)
            return &s->messages[i];
    return NULL;
}

static int has(char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static void test_full_response(void **state)
{
    (void)state;
    matrix_sync s;
    parse_ok(full, &s);
    assert_string_equal(s.next_batch, "s72595_4483_1934");
    assert_int_equal(s.n_messages, 5);

    const matrix_message *old = find(&s, "$old"), *q = find(&s, "$q1");
    assert_non_null(old);
    assert_true(old->before_own_join); /* history from before the bot's join */
    assert_non_null(q);
    assert_false(q->before_own_join); /* the later profile change is not a join */
    assert_string_equal(q->room_id, "!room:example.org");
    assert_string_equal(q->sender, "@alice:example.org");
    assert_string_equal(q->msgtype, "m.text");
    assert_string_equal(q->body, "careerbot: pay?");
    assert_non_null(strstr(q->formatted_body, "matrix.to"));
    assert_int_equal(q->n_mentions, 1); /* the 7 is not a user id */
    assert_string_equal(q->mentions[0], ME);
    assert_true(q->origin_server_ts == 1432735824654.0);
    assert_false(q->is_edit || q->redacted);

    assert_true(find(&s, "$edit")->is_edit);
    assert_string_equal(find(&s, "$thr")->thread_root, "$root");
    assert_true(find(&s, "$red")->redacted);
    assert_null(find(&s, "$red")->body);

    assert_true(has(s.encrypted_rooms, s.n_encrypted_rooms, "!secret:example.org"));
    assert_true(has(s.encrypted_rooms, s.n_encrypted_rooms, "!e2e:example.org"));
    /* The bot's own encrypted event does not make a room encrypted. */
    assert_false(has(s.encrypted_rooms, s.n_encrypted_rooms, "!room:example.org"));
    assert_int_equal(s.n_joined_rooms, 3);
    assert_true(has(s.limited_rooms, s.n_limited_rooms, "!room:example.org"));
    assert_true(has(s.left_rooms, s.n_left_rooms, "!gone:example.org"));

    assert_int_equal(s.n_invites, 2); /* the one without a member event is skipped */
    for (size_t i = 0; i < s.n_invites; i++) {
        const matrix_invite *inv = &s.invites[i];
        if (strcmp(inv->room_id, "!dm:example.org") == 0) {
            assert_string_equal(inv->inviter, "@alice:example.org");
            assert_true(inv->is_direct);
            assert_false(inv->encrypted);
        } else {
            assert_string_equal(inv->room_id, "!enc-invite:example.org");
            assert_false(inv->is_direct);
            assert_true(inv->encrypted);
        }
    }
    assert_int_equal(s.skipped, 1);
    assert_non_null(strstr(s.first_skip, "invite"));

    assert_true(s.has_direct);
    assert_int_equal(s.n_direct_rooms, 1);
    assert_string_equal(s.direct_rooms[0], "!dm:example.org");
    matrix_sync_free(&s);
}

static void test_empty_response(void **state)
{
    (void)state;
    matrix_sync s;
    parse_ok("{\"next_batch\":\"n\"}", &s);
    assert_string_equal(s.next_batch, "n");
    assert_int_equal(s.n_messages + s.n_invites + s.n_joined_rooms + s.skipped, 0);
    assert_false(s.has_direct);
    matrix_sync_free(&s);
}

/* Documents that fail as a whole: the caller retries the same since. */
static void test_unusable_documents(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "not json", "[]", "{}", "{\"next_batch\":7}", "{\"next_batch\":\"\"}", "{\"next_batch\":null}",
        "{\"next_batch\":\"a\"", "\"next_batch\"", "{\"next_batch\":\"a\",}", "{\"next_batch\":1e999}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        matrix_sync s;
        base_error err = {0};
        if (matrix_sync_parse(bad[i], strlen(bad[i]), ME, &s, &err) == BASE_OK)
            fail_msg("parsed \"%s\"", bad[i]);
        assert_true(err.text[0] != '\0');
        assert_null(s.next_batch);
        matrix_sync_free(&s); /* harmless on an empty result */
    }
}

/* Malformed parts are skipped one by one; the rest of the batch stays. */
static void test_wrong_types_are_skipped(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"next_batch\":\"n\",\"rooms\":\"x\"}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":[]}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":[]}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"no-sigil\":{}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":\"x\"}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":{}}}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":[1,null,\"s\",[]]}}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":[{\"type\":5}]}}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":[{\"type\":\"m.room.message\","
        "\"event_id\":\"$e\",\"sender\":\"@a:x\",\"content\":\"text\"}]}}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":[{\"type\":\"m.room.message\","
        "\"event_id\":\"$e\",\"sender\":\"@a:x\",\"content\":{\"msgtype\":\"m.text\",\"body\":42}}]}}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":[{\"type\":\"m.room.message\","
        "\"event_id\":7,\"sender\":\"@a:x\",\"content\":{}}]}}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":[{\"type\":\"m.room.message\","
        "\"event_id\":\"$e\",\"sender\":\"bad sender\",\"content\":{}}]}}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"invite\":{\"!r:x\":{\"invite_state\":7}}}}",
        "{\"next_batch\":\"n\",\"rooms\":{\"invite\":{\"!r:x\":5}}}",
        "{\"next_batch\":\"n\",\"account_data\":{\"events\":[{\"type\":\"m.direct\",\"content\":[]}]}}",
        "{\"next_batch\":\"n\",\"account_data\":{\"events\":[{\"type\":\"m.direct\",\"content\":{\"@a:x\":\"!r:x\"}}]}}",
        "{\"next_batch\":\"n\",\"account_data\":{\"events\":[{\"type\":\"m.direct\",\"content\":{\"@a:x\":[1]}}]}}",
        "{\"next_batch\":\"n\",\"account_data\":7}",
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"state\":{\"events\":\"no\"}}}}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        matrix_sync s;
        parse_ok(docs[i], &s);
        if (s.skipped == 0)
            fail_msg("nothing skipped in %s", docs[i]);
        assert_int_equal(s.n_messages, 0);
        assert_string_equal(s.next_batch, "n");
        matrix_sync_free(&s);
    }
}

/* One bad event does not cost the good one next to it. */
static void test_good_event_survives_bad_neighbour(void **state)
{
    (void)state;
    matrix_sync s;
    parse_ok("{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":["
             "{\"type\":\"m.room.message\",\"content\":{}},"
             "{\"type\":\"m.room.message\",\"event_id\":\"$ok\",\"sender\":\"@a:x\","
             "\"content\":{\"msgtype\":\"m.text\",\"body\":\"hi\"},\"origin_server_ts\":\"yesterday\"}]}}}}}",
             &s);
    assert_int_equal(s.skipped, 1);
    assert_int_equal(s.n_messages, 1);
    assert_string_equal(s.messages[0].body, "hi");
    assert_true(s.messages[0].origin_server_ts == 0);
    matrix_sync_free(&s);
}

static void test_huge_values(void **state)
{
    (void)state;
    matrix_sync s;
    /* A number far past 64 bits is a value, not a failure. */
    parse_ok("{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":["
             "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"@a:x\","
             "\"origin_server_ts\":123456789012345678901234567890,"
             "\"content\":{\"msgtype\":\"m.text\",\"body\":\"a\\u0000b\"}}]}}}}}",
             &s);
    assert_int_equal(s.n_messages, 1);
    assert_string_equal(s.messages[0].body, "a"); /* a NUL simply ends the C string */
    matrix_sync_free(&s);

    /* A body over 64 KiB and an id over 255 bytes are skipped. */
    size_t big = 70000;
    char *doc = malloc(big + 400);
    assert_non_null(doc);
    int n = snprintf(doc, 400, "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":["
                     "{\"type\":\"m.room.message\",\"event_id\":\"$e\",\"sender\":\"@a:x\","
                     "\"content\":{\"msgtype\":\"m.text\",\"body\":\"");
    memset(doc + n, 'a', big);
    strcpy(doc + n + big, "\"}}]}}}}}");
    parse_ok(doc, &s);
    assert_int_equal(s.n_messages, 0);
    assert_int_equal(s.skipped, 1);
    matrix_sync_free(&s);

    n = snprintf(doc, 400, "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!");
    memset(doc + n, 'r', 300);
    strcpy(doc + n + 300, ":x\":{}}}}");
    parse_ok(doc, &s);
    assert_int_equal(s.n_joined_rooms, 0);
    assert_int_equal(s.skipped, 1);
    matrix_sync_free(&s);
    free(doc);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *doc = malloc(2 * depth + 200);
    assert_non_null(doc);
    int n = snprintf(doc, 200, "{\"next_batch\":\"n\",\"rooms\":");
    memset(doc + n, '[', depth);
    memset(doc + n + depth, ']', depth);
    strcpy(doc + n + 2 * depth, "}");
    matrix_sync s;
    base_error err;
    /* Either refused as a whole (the parser's depth limit) or skipped: never a crash. */
    if (matrix_sync_parse(doc, strlen(doc), ME, &s, &err) == BASE_OK) {
        assert_true(s.skipped > 0);
        matrix_sync_free(&s);
    }
    free(doc);
}

static void test_many_messages_are_capped(void **state)
{
    (void)state;
    size_t count = 2500, cap = count * 140 + 200;
    char *doc = malloc(cap);
    assert_non_null(doc);
    size_t len = (size_t)snprintf(doc, cap, "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":"
                                            "{\"events\":[");
    for (size_t i = 0; i < count; i++)
        len += (size_t)snprintf(doc + len, cap - len,
                                "%s{\"type\":\"m.room.message\",\"event_id\":\"$e%zu\",\"sender\":\"@a:x\","
                                "\"content\":{\"msgtype\":\"m.text\",\"body\":\"q\"}}",
                                i ? "," : "", i);
    snprintf(doc + len, cap - len, "]}}}}}");
    matrix_sync s;
    parse_ok(doc, &s);
    assert_true(s.n_messages < count);
    assert_true(s.skipped > 0);
    assert_non_null(strstr(s.first_skip, "too many"));
    matrix_sync_free(&s);
    free(doc);
}

/* The bot's display name per room, the senders' names, its own join, m.mentions
 * present or not, and tombstones. */
static void test_names_mentions_tombstones(void **state)
{
    (void)state;
    matrix_sync s;
    parse_ok("{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:x\":{"
             "\"state\":{\"events\":["
             "{\"type\":\"m.room.member\",\"state_key\":\"@a:x\",\"sender\":\"@a:x\","
             "\"content\":{\"membership\":\"join\",\"displayname\":\"Alice A.\"}},"
             "{\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"" ME "\","
             "\"content\":{\"membership\":\"join\",\"displayname\":\"Old Name\"}}]},"
             "\"timeline\":{\"events\":["
             "{\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"" ME "\",\"event_id\":\"$n\","
             "\"content\":{\"membership\":\"join\",\"displayname\":\"Room Bot\"},"
             "\"unsigned\":{\"prev_content\":{\"membership\":\"join\"}}},"
             "{\"type\":\"m.room.message\",\"event_id\":\"$1\",\"sender\":\"@a:x\","
             "\"content\":{\"msgtype\":\"m.text\",\"body\":\"Room Bot: hi\",\"m.mentions\":{}}},"
             "{\"type\":\"m.room.message\",\"event_id\":\"$2\",\"sender\":\"@b:x\","
             "\"content\":{\"msgtype\":\"m.text\",\"body\":\"hi\"}},"
             "{\"type\":\"m.room.tombstone\",\"state_key\":\"\",\"event_id\":\"$t\",\"sender\":\"@a:x\","
             "\"content\":{\"body\":\"upgraded\",\"replacement_room\":\"!new:x\"}}]}},"
             "\"!j:x\":{\"timeline\":{\"limited\":true,\"events\":["
             "{\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"" ME "\",\"event_id\":\"$j\","
             "\"content\":{\"membership\":\"join\"}},"
             "{\"type\":\"m.room.tombstone\",\"state_key\":\"\",\"event_id\":\"$bad\",\"sender\":\"@a:x\","
             "\"content\":{\"replacement_room\":\"not a room\"}}]}}}}}",
             &s);
    assert_int_equal(s.n_messages, 2);
    assert_true(s.messages[0].has_mentions);
    assert_int_equal(s.messages[0].n_mentions, 0);
    assert_string_equal(s.messages[0].sender_name, "Alice A.");
    assert_false(s.messages[1].has_mentions);
    assert_null(s.messages[1].sender_name); /* no member event for @b:x in this batch */
    assert_int_equal(s.n_own_names, 2);
    assert_string_equal(s.own_names[0].room_id, "!r:x");
    assert_string_equal(s.own_names[0].text, "Room Bot"); /* the timeline's later event wins */
    assert_string_equal(s.own_names[1].room_id, "!j:x");
    assert_null(s.own_names[1].text);
    assert_int_equal(s.n_own_join_rooms, 1);
    assert_string_equal(s.own_join_rooms[0], "!j:x");
    assert_int_equal(s.n_tombstones, 1);
    assert_string_equal(s.tombstones[0].room_id, "!r:x");
    assert_string_equal(s.tombstones[0].text, "!new:x");
    assert_int_equal(s.skipped, 1); /* the tombstone without a room */
    matrix_sync_free(&s);
}

/* A body of empty objects (31 MB of them reached 2.5 GB once parsed) is
 * refused from its size and from what it would cost, before parsing. */
static void test_memory_budget(void **state)
{
    (void)state;
    assert_true(matrix_json_cost("{}", 2, 1000) >= 200);
    assert_true(matrix_json_cost("[1,2,3]", 7, 1000) >= 3 * 40);
    assert_true(matrix_json_cost("{\"key\":\"value\"}", 15, 1000) >= 240 + 48 + 64);
    assert_true(matrix_json_cost("\"a\\\"b\"", 6, 1000) < 100); /* an escaped quote stays inside */
    /* Bytes that are no JSON cost one value each, never more (a NUL too). */
    static const char junk[] = "1\0\0\0\0\0\0\0\0x";
    assert_true(matrix_json_cost(junk, sizeof junk - 1, 1000000) <= 10 * 40);

    size_t n = 8 * 1024 * 1024, len = 0;
    char *doc = malloc(n + 64);
    assert_non_null(doc);
    len += (size_t)snprintf(doc, 64, "{\"next_batch\":\"n\",\"x\":[");
    while (len + 4 < n) {
        memcpy(doc + len, "{},", 3);
        len += 3;
    }
    memcpy(doc + len, "{}]}", 5);
    len += 4;
    matrix_sync s;
    base_error err;
    assert_int_equal(matrix_sync_parse(doc, len, ME, &s, &err), BASE_ERR);
    assert_true(s.too_large);
    assert_non_null(strstr(err.text, "larger than any batch"));
    /* Over the body cap, whatever it holds. */
    char *big = malloc(MATRIX_SYNC_BODY_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', MATRIX_SYNC_BODY_MAX + 1);
    memcpy(big, "{\"next_batch\":\"n\"}", 18);
    assert_int_equal(matrix_sync_parse(big, MATRIX_SYNC_BODY_MAX + 1, ME, &s, &err), BASE_ERR);
    assert_true(s.too_large);
    /* Just under, and plain: parsed. */
    assert_int_equal(matrix_sync_parse(big, MATRIX_SYNC_BODY_MAX, ME, &s, &err), BASE_OK);
    assert_false(s.too_large);
    matrix_sync_free(&s);
    free(big);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_response),
        cmocka_unit_test(test_empty_response),
        cmocka_unit_test(test_unusable_documents),
        cmocka_unit_test(test_wrong_types_are_skipped),
        cmocka_unit_test(test_good_event_survives_bad_neighbour),
        cmocka_unit_test(test_huge_values),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_many_messages_are_capped),
        cmocka_unit_test(test_names_mentions_tombstones),
        cmocka_unit_test(test_memory_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
