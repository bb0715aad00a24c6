/* A sync batch decided: direct chats, mentions, listen rooms, invites from
 * allowed and other inviters, encrypted rooms told once, a full queue, the
 * first sync, history from before the bot joined, a batch fetched again, and
 * busy notices. Each batch is real /sync JSON, parsed as the network does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/log.h"
#include "matrix/matrix_batch.h"
#include "test_util.h"

#define PAY "The median pay was $100"
#define ME "@careerbot:example.org"
#define ALICE "@alice:example.org"
#define BOB "@bob:example.org"
#define NOTICE "This room is encrypted; I cannot read it."

/* Pieces of /sync JSON. */
#define MSG(id, sender, body)                                                                              \
    "{\"type\":\"m.room.message\",\"event_id\":\"" id "\",\"sender\":\"" sender "\","                     \
    "\"content\":{\"msgtype\":\"m.text\",\"body\":\"" body "\"}}"
#define MENTION(id, sender, body)                                                                          \
    "{\"type\":\"m.room.message\",\"event_id\":\"" id "\",\"sender\":\"" sender "\","                     \
    "\"content\":{\"msgtype\":\"m.text\",\"body\":\"" body "\",\"m.mentions\":{\"user_ids\":[\"" ME "\"]}}}"
#define OWN_JOIN                                                                                           \
    "{\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"" ME "\",\"event_id\":\"$join\","  \
    "\"content\":{\"membership\":\"join\"}}"
#define ROOM(id, events) "\"" id "\":{\"timeline\":{\"events\":[" events "]}}"
#define ENCRYPTED_ROOM(id)                                                                                 \
    "\"" id "\":{\"state\":{\"events\":[{\"type\":\"m.room.encryption\",\"state_key\":\"\","              \
    "\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}]},\"timeline\":{\"events\":[]}}"
#define INVITE(room, inviter, direct, extra_state)                                                         \
    "\"" room "\":{\"invite_state\":{\"events\":[" extra_state                                            \
    "{\"type\":\"m.room.member\",\"state_key\":\"" ME "\",\"sender\":\"" inviter "\","                    \
    "\"content\":{\"membership\":\"invite\",\"is_direct\":" direct "}}]}}"
#define ENCRYPTION_STATE "{\"type\":\"m.room.encryption\",\"state_key\":\"\",\"content\":{}},"
#define SYNC(join) "{\"next_batch\":\"s2\",\"rooms\":{\"join\":{" join "}}}"
#define SYNC_INVITES(invites) "{\"next_batch\":\"s2\",\"rooms\":{\"invite\":{" invites "}}}"

typedef struct fixture {
    core_bot *bot;
    chat_gate *gate;
    matrix_state state;
    matrix_strset listen;
    matrix_batch_account account;
    matrix_sync sync;
    matrix_batch_actions actions;
} fixture;

static char *const inviters[] = {"example.org"};

static chat_gate_config gate_config(double user_burst)
{
    chat_gate_config c = {
        .network = "test",
        .command_prefixes = "!",
        .listen_min_score = 1.5,
        .limits = 1,
        .user_burst = user_burst, .user_rate = 0.01,
        .room_burst = 100, .room_rate = 100,
        .casemap = CHAT_CASE_ASCII,
    };
    return c;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->bot = tu_mini_bot("!");
    chat_gate_config c = gate_config(100);
    f->gate = chat_gate_new(f->bot, &c);
    assert_non_null(f->gate);
    f->account = (matrix_batch_account){
        .user_id = ME,
        .display_name = "Career Bot",
        .allowed_inviters = inviters,
        .n_allowed_inviters = 1,
        .listen = &f->listen,
        .state = &f->state,
        .queue_max = 100,
        .encrypted_notice = NOTICE,
        .gate = f->gate,
        .now = 10,
        .live = 1,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    matrix_batch_actions_free(&f->actions);
    matrix_sync_free(&f->sync);
    matrix_state_free(&f->state);
    matrix_strset_free(&f->listen);
    chat_gate_free(f->gate);
    core_bot_free(f->bot);
    free(f);
    return 0;
}

/* Replaces the fixture's gate (and the account's) with one whose people
 * may ask user_burst questions at once. */
static void regate(fixture *f, double user_burst)
{
    chat_gate_free(f->gate);
    chat_gate_config c = gate_config(user_burst);
    f->gate = f->account.gate = chat_gate_new(f->bot, &c);
    assert_non_null(f->gate);
}

/* Parses json as a /sync response and decides it; the actions stay in the
 * fixture until the next call. */
static const matrix_batch_actions *decide(fixture *f, const char *json)
{
    matrix_batch_actions_free(&f->actions);
    matrix_sync_free(&f->sync);
    base_error err = {0};
    if (matrix_sync_parse(json, strlen(json), ME, &f->sync, &err) != BASE_OK)
        fail_msg("parse failed: %s", err.text);
    assert_int_equal(matrix_batch_decide(&f->account, &f->sync, &f->actions), BASE_OK);
    assert_int_equal(f->actions.oom, 0);
    return &f->actions;
}

static const matrix_batch_send *send_to(const matrix_batch_actions *a, const char *room, char kind)
{
    for (size_t i = 0; i < a->n_sends; i++)
        if (strcmp(a->sends[i].room_id, room) == 0 && a->sends[i].kind == kind)
            return &a->sends[i];
    return NULL;
}

/* How many log lines at level contain needle ("^..." : start with it). */
static size_t logged(const matrix_batch_actions *a, int level, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_logs; i++) {
        const char *at = a->logs[i].level == level ? strstr(a->logs[i].text, needle + (needle[0] == '^')) : NULL;
        n += at && (needle[0] != '^' || at == a->logs[i].text);
    }
    return n;
}

/* The send answers event_id in room with a txn id derived from both. */
static void assert_txn(const matrix_batch_send *s, const char *room, const char *event_id)
{
    char txn[MATRIX_TXN_MAX];
    matrix_txn_id(txn, s->kind, room, event_id);
    assert_string_equal(s->txn_id, txn);
}

/* Puts a waiting reply in the state's outbox, as a run before would have. */
static void outbox_holds(fixture *f, const char *room, const char *txn)
{
    assert_int_equal(matrix_outbox_add(&f->state.outbox, room, txn, "{}", 1), 1);
}

/* ---- who is answered ------------------------------------------------------------- */

static void test_direct_chat_is_answered_without_quoting(void **state)
{
    fixture *f = *state;
    assert_int_equal(matrix_strset_add(&f->state.direct_invites, "!dm:example.org"), 1);
    const matrix_batch_actions *a = decide(f, SYNC(ROOM("!dm:example.org", MSG("$q", ALICE, "what is the salary"))));
    assert_int_equal(a->n_sends, 1);
    const matrix_batch_send *s = send_to(a, "!dm:example.org", 'r');
    assert_non_null(s);
    assert_txn(s, "!dm:example.org", "$q");
    assert_non_null(strstr(s->content, PAY));
    assert_non_null(strstr(s->content, "m.notice"));
    assert_null(strstr(s->content, "m.in_reply_to")); /* a direct chat needs no quote */
    assert_int_equal(logged(a, BASE_LOG_INFO, "^answering " ALICE " in !dm:example.org (direct"), 1);
    /* The same words in a group room are not for the bot. */
    a = decide(f, SYNC(ROOM("!group:example.org", MSG("$q2", ALICE, "what is the salary"))));
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(logged(a, BASE_LOG_INFO, "not answering"), 0);
}

static void test_m_direct_in_the_same_batch_makes_a_room_direct(void **state)
{
    fixture *f = *state;
    assert_int_equal(matrix_strset_add(&f->state.direct_account, "!old:example.org"), 1);
    const matrix_batch_actions *a = decide(
        f, "{\"next_batch\":\"s2\",\"account_data\":{\"events\":[{\"type\":\"m.direct\","
           "\"content\":{\"" ALICE "\":[\"!new:example.org\"]}}]},\"rooms\":{\"join\":{"
        ROOM("!new:example.org", MSG("$a", ALICE, "what is the salary")) ","
        ROOM("!old:example.org", MSG("$b", ALICE, "what is the salary")) "}}}");
    /* m.direct comes whole: it replaces the saved list. */
    assert_int_equal(a->replace_direct_account, 1);
    assert_int_equal(a->direct_account.n, 1);
    assert_true(matrix_strset_has(&a->direct_account, "!new:example.org"));
    assert_non_null(send_to(a, "!new:example.org", 'r'));
    assert_null(send_to(a, "!old:example.org", 'r'));
    assert_int_equal(a->n_sends, 1);
}

static void test_mention_in_a_group_room_quotes_and_pings(void **state)
{
    fixture *f = *state;
    const matrix_batch_actions *a =
        decide(f, SYNC(ROOM("!group:example.org", MENTION("$m", ALICE, "Career Bot what is the salary?")
                                                      "," MSG("$n", BOB, "careerbot: what is the salary"))));
    assert_int_equal(a->n_sends, 2);
    assert_txn(&a->sends[0], "!group:example.org", "$m");
    assert_txn(&a->sends[1], "!group:example.org", "$n");
    assert_non_null(strstr(a->sends[0].content, PAY));
    assert_non_null(strstr(a->sends[0].content, "m.in_reply_to"));
    assert_non_null(strstr(a->sends[0].content, "$m"));
    assert_non_null(strstr(a->sends[0].content, ALICE)); /* the asker is pinged */
    assert_non_null(strstr(a->sends[1].content, BOB));
    assert_int_equal(logged(a, BASE_LOG_INFO, "^answering " ALICE), 1);
    assert_int_equal(logged(a, BASE_LOG_INFO, "^answering " BOB), 1);
}

static void test_listen_room_answers_confident_questions(void **state)
{
    fixture *f = *state;
    assert_int_equal(matrix_strset_add(&f->listen, "!listen:example.org"), 1);
    const matrix_batch_actions *a = decide(
        f, SYNC(ROOM("!listen:example.org", MSG("$1", ALICE, "what is the salary") "," MSG("$2", BOB,
                                                                                           "nice weather today"))
                "," ROOM("!other:example.org", MSG("$3", ALICE, "what is the salary"))));
    assert_int_equal(a->n_sends, 1);
    const matrix_batch_send *s = send_to(a, "!listen:example.org", 'r');
    assert_non_null(s);
    assert_txn(s, "!listen:example.org", "$1");
    assert_non_null(strstr(s->content, PAY));
    /* Chatter in a listen room is not logged as a refusal either. */
    assert_int_equal(logged(a, BASE_LOG_INFO, "not answering"), 0);
}

/* ---- invites ---------------------------------------------------------------------- */

static void test_invites_from_allowed_inviters_are_joined(void **state)
{
    fixture *f = *state;
    const matrix_batch_actions *a =
        decide(f, SYNC_INVITES(INVITE("!dm:example.org", ALICE, "true", "") ","
                               INVITE("!enc:example.org", BOB, "false", ENCRYPTION_STATE) ","
                               INVITE("!spam:evil.org", "@eve:evil.org", "true", "")));
    assert_int_equal(a->joins.n, 2);
    assert_true(matrix_strset_has(&a->joins, "!dm:example.org"));
    assert_true(matrix_strset_has(&a->joins, "!enc:example.org"));
    assert_false(matrix_strset_has(&a->joins, "!spam:evil.org"));
    /* Only the allowed direct invite makes a direct chat. */
    assert_int_equal(a->direct.n, 1);
    assert_true(matrix_strset_has(&a->direct, "!dm:example.org"));
    assert_int_equal(a->encrypted.n, 1);
    assert_true(matrix_strset_has(&a->encrypted, "!enc:example.org"));
    assert_int_equal(logged(a, BASE_LOG_INFO, ALICE " invites me to !dm:example.org (direct chat); joining"), 1);
    assert_int_equal(logged(a, BASE_LOG_INFO, "rejecting the invite to !spam:evil.org from @eve:evil.org"), 1);
    /* The unwanted invite is rejected (left with a reason), not left pending. */
    assert_int_equal(a->leaves.n, 1);
    assert_non_null(matrix_strmap_get(&a->leaves, "!spam:evil.org"));
    /* The direct chat joined goes into the bot's m.direct, under its inviter. */
    assert_int_equal(a->direct_writes.n, 1);
    assert_string_equal(matrix_strmap_get(&a->direct_writes, "!dm:example.org"), ALICE);
    assert_int_equal(a->n_sends, 0);
}

/* ---- operator commands ----------------------------------------------------------- */

static char *const admins[] = {ALICE};

/* An admin's command in a direct chat is for the network (ops), not the
 * gate; anyone else's, or one in a group room, gets the ordinary answer;
 * !help lists the operator commands for an admin only. */
static void test_operator_commands(void **state)
{
    fixture *f = *state;
    f->account.admins = admins;
    f->account.n_admins = 1;
    f->account.command_prefixes = "!";
    assert_int_equal(matrix_strset_add(&f->state.direct_invites, "!dm:example.org"), 1);
    assert_int_equal(matrix_strset_add(&f->state.direct_invites, "!bobdm:example.org"), 1);
    const matrix_batch_actions *a =
        decide(f, SYNC(ROOM("!dm:example.org", MSG("$j", ALICE, "!join #ops:example.org") ","
                                                 MSG("$s", ALICE, "!say !ops:example.org hello all") ","
                                                 MSG("$bad", ALICE, "!ignore bob"))));
    assert_int_equal(a->n_ops, 3);
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(a->ops[0].op.kind, CHAT_OP_JOIN);
    assert_string_equal(a->ops[0].op.target, "#ops:example.org");
    assert_string_equal(a->ops[0].sender, ALICE);
    assert_string_equal(a->ops[0].room_id, "!dm:example.org");
    assert_string_equal(a->ops[0].event_id, "$j");
    assert_string_equal(a->ops[1].op.text, "hello all");
    assert_non_null(a->ops[2].op.error); /* the network says what is wrong */
    /* Not an admin, and an admin in a group room: the gate's answer. */
    a = decide(f, SYNC(ROOM("!bobdm:example.org", MSG("$b", BOB, "!join #ops:example.org")) ","
                       ROOM("!group:example.org", MSG("$g", ALICE, "!status"))));
    assert_int_equal(a->n_ops, 0);
    const matrix_batch_send *r = send_to(a, "!bobdm:example.org", 'r');
    assert_non_null(r);
    assert_non_null(strstr(r->content, "I don't know the command !join"));
    /* !help: the ordinary help, and the operator commands for the admin alone. */
    a = decide(f, SYNC(ROOM("!dm:example.org", MSG("$h", ALICE, "!help")) ","
                       ROOM("!bobdm:example.org", MSG("$h2", BOB, "!help"))));
    assert_int_equal(a->n_ops, 0);
    r = send_to(a, "!dm:example.org", 'r');
    assert_non_null(r);
    assert_non_null(strstr(r->content, "Operator commands"));
    r = send_to(a, "!bobdm:example.org", 'r');
    assert_non_null(r);
    assert_null(strstr(r->content, "Operator commands"));
}

/* A room an operator parted: its invites are declined, whoever sends them. */
static void test_parted_rooms_decline_invites(void **state)
{
    fixture *f = *state;
    chat_runtime rt;
    chat_runtime_init(&rt, CHAT_CASE_ASCII, 1);
    assert_int_equal(chat_runtime_part(&rt, "!gone:example.org", 1), BASE_OK);
    f->account.runtime = &rt;
    const matrix_batch_actions *a = decide(f, SYNC_INVITES(INVITE("!gone:example.org", ALICE, "false", "") ","
                                                           INVITE("!new:example.org", ALICE, "false", "")));
    assert_false(matrix_strset_has(&a->joins, "!gone:example.org"));
    assert_true(matrix_strset_has(&a->joins, "!new:example.org"));
    assert_non_null(matrix_strmap_get(&a->leaves, "!gone:example.org"));
    assert_int_equal(logged(a, BASE_LOG_INFO, "declining the invite to !gone:example.org"), 1);
    matrix_batch_actions_free(&f->actions);
    chat_runtime_free(&rt);
}

/* ---- mentions as current clients write them ---------------------------------------- */

#define MSG_CONTENT(id, sender, content)                                                                  \
    "{\"type\":\"m.room.message\",\"event_id\":\"" id "\",\"sender\":\"" sender "\",\"content\":" content "}"
#define MEMBER(user, name)                                                                                 \
    "{\"type\":\"m.room.member\",\"state_key\":\"" user "\",\"sender\":\"" user "\","                     \
    "\"content\":{\"membership\":\"join\",\"displayname\":\"" name "\"}}"

/* m.mentions decides when it is there: an empty one mentions nobody, even
 * when the body starts with the bot's name; without it the name counts. */
static void test_m_mentions_decides_when_present(void **state)
{
    fixture *f = *state;
    const matrix_batch_actions *a = decide(
        f, SYNC(ROOM("!g:example.org",
                     MSG_CONTENT("$1", ALICE, "{\"msgtype\":\"m.text\",\"body\":\"careerbot: what is the salary\","
                                              "\"m.mentions\":{}}") ","
                     MSG_CONTENT("$2", ALICE, "{\"msgtype\":\"m.text\",\"body\":\"careerbot: what is the salary\","
                                              "\"m.mentions\":{\"user_ids\":[\"" BOB "\"]}}") ","
                     MSG("$3", BOB, "careerbot: what is the salary") ","
                     MSG_CONTENT("$4", BOB, "{\"msgtype\":\"m.text\",\"body\":\"!salary\",\"m.mentions\":{}}"))));
    assert_int_equal(a->n_sends, 2);
    assert_txn(&a->sends[0], "!g:example.org", "$3"); /* no m.mentions: an old client, the name counts */
    assert_txn(&a->sends[1], "!g:example.org", "$4"); /* commands need no mention */
}

/* Element writes "Display Name: question" with a pill: the bot's name in
 * that room (its member event) is understood and stripped, and so is a
 * pill's text the bot has never heard of. */
static void test_mention_as_element_writes_it(void **state)
{
    fixture *f = *state;
    f->account.display_name = NULL; /* nothing configured */
    const matrix_batch_actions *a = decide(
        f, "{\"next_batch\":\"s2\",\"rooms\":{\"join\":{\"!g:example.org\":{\"state\":{\"events\":["
           MEMBER(ME, "Coder Helper") "," MEMBER(ALICE, "Alice Smith") "]},\"timeline\":{\"events\":["
           MSG_CONTENT("$1", ALICE, "{\"msgtype\":\"m.text\",\"body\":\"Coder Helper: what is the salary?\","
                                    "\"format\":\"org.matrix.custom.html\",\"formatted_body\":"
                                    "\"<a href=\\\"https://matrix.to/#/" ME "\\\">Coder Helper</a>: what is the salary?\","
                                    "\"m.mentions\":{\"user_ids\":[\"" ME "\"]}}") ","
           MSG_CONTENT("$2", BOB, "{\"msgtype\":\"m.text\",\"body\":\"Whoever &amp; Co: what is the salary?\","
                                  "\"format\":\"org.matrix.custom.html\",\"formatted_body\":"
                                  "\"<p><a href=\\\"https://matrix.to/#/" ME "\\\">Whoever &amp;amp; Co</a>: what is the salary?"
                                  "</p>\",\"m.mentions\":{\"user_ids\":[\"" ME "\"]}}") ","
           MSG("$3", BOB, "Coder Helper, what is the salary") "]}}}}}");
    assert_int_equal(a->n_sends, 3);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(strstr(a->sends[i].content, PAY)); /* the name was stripped: a clean match */
    /* The answer pings the asker by name, with a pill. */
    assert_non_null(strstr(a->sends[0].content, "Alice Smith: "));
    assert_non_null(strstr(a->sends[0].content, "https://matrix.to/#/" ALICE));
    assert_non_null(strstr(a->sends[1].content, "\"user_ids\":[\"" BOB "\"]"));
}

/* Lazy-loaded members come once per room: the asker's name from an earlier
 * batch still names them in the reply. */
static void test_asker_named_from_an_earlier_batch(void **state)
{
    fixture *f = *state;
    matrix_strmap names = {0};
    assert_int_equal(matrix_strmap_set(&names, "!g:example.org\037" ALICE, "Alice From Before"), 0);
    f->account.member_names = &names;
    const matrix_batch_actions *a = decide(f, SYNC(ROOM("!g:example.org", MSG("$1", ALICE, "!salary"))));
    assert_int_equal(a->n_sends, 1);
    assert_non_null(strstr(a->sends[0].content, "Alice From Before: "));
    f->account.member_names = NULL;
    matrix_strmap_free(&names);
}

/* The name kept from an earlier batch still counts. */
static void test_room_name_from_the_state(void **state)
{
    fixture *f = *state;
    f->account.display_name = NULL;
    assert_int_equal(matrix_strmap_set(&f->state.room_names, "!g:example.org", "Nick Here"), 0);
    const matrix_batch_actions *a = decide(f, SYNC(ROOM("!g:example.org", MSG("$1", ALICE, "Nick Here: what is the salary"))
                                                   "," ROOM("!h:example.org", MSG("$2", ALICE, "Nick Here: what is the salary"))));
    assert_int_equal(a->n_sends, 1);
    assert_txn(&a->sends[0], "!g:example.org", "$1");
}

static void test_unknown_commands_where_asked(void **state)
{
    fixture *f = *state;
    matrix_strset rooms = {0};
    assert_int_equal(matrix_strset_add(&rooms, "!yes:example.org"), 1);
    f->account.unknown_commands = &rooms;
    const matrix_batch_actions *a = decide(f, SYNC(ROOM("!yes:example.org", MSG("$1", ALICE, "!frobnicate")) ","
                                                   ROOM("!no:example.org", MSG("$2", ALICE, "!frobnicate"))));
    assert_int_equal(a->n_sends, 1);
    assert_txn(&a->sends[0], "!yes:example.org", "$1");
    f->account.unknown_commands = NULL;
    matrix_strset_free(&rooms);
}

/* ---- receipts, upgrades, notices, rooms just joined -------------------------------- */

static void test_answered_messages_are_marked_read(void **state)
{
    fixture *f = *state;
    f->account.read_receipts = 1;
    const matrix_batch_actions *a = decide(f, SYNC(ROOM("!g:example.org", MSG("$1", ALICE, "!salary") ","
                                                        MSG("$2", BOB, "chatter") "," MSG("$3", BOB, "!salary"))));
    assert_int_equal(a->n_sends, 2);
    assert_string_equal(matrix_strmap_get(&a->receipts, "!g:example.org"), "$3");
    f->account.read_receipts = 0;
    a = decide(f, SYNC(ROOM("!g:example.org", MSG("$4", ALICE, "!steps"))));
    assert_int_equal(a->receipts.n, 0);
}

static void test_tombstone_is_followed_once(void **state)
{
    fixture *f = *state;
    static const char batch[] =
        SYNC(ROOM("!old:example.org", "{\"type\":\"m.room.tombstone\",\"state_key\":\"\",\"event_id\":\"$t\","
                                      "\"sender\":\"" ALICE "\",\"content\":{\"body\":\"moved\","
                                      "\"replacement_room\":\"!new:example.org\"}}"));
    const matrix_batch_actions *a = decide(f, batch);
    assert_true(matrix_strset_has(&a->joins, "!new:example.org"));
    assert_string_equal(matrix_strmap_get(&a->upgrades, "!old:example.org"), "!new:example.org");
    assert_int_equal(logged(a, BASE_LOG_INFO, "!old:example.org was upgraded to !new:example.org"), 1);
    /* Once in the new room, the old tombstone is nothing more to do. */
    assert_int_equal(matrix_strset_add(&f->state.rooms, "!new:example.org"), 1);
    a = decide(f, batch);
    assert_int_equal(a->joins.n, 0);
}

static void test_server_notices_are_logged(void **state)
{
    fixture *f = *state;
    const matrix_batch_actions *a = decide(
        f, SYNC(ROOM("!notices:example.org",
                     MSG_CONTENT("$n", "@notices:example.org",
                                 "{\"msgtype\":\"m.server_notice\",\"body\":\"Limit reached\\nupgrade soon\","
                                 "\"server_notice_type\":\"m.server_notice.usage_limit_reached\"}"))));
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(logged(a, BASE_LOG_WARN, "server notice from @notices:example.org: Limit reached upgrade soon"), 1);
}

/* A room the bot has just joined brings its history (limited): none of it
 * is answered, and its being limited is no warning. */
static void test_room_just_joined_brings_old_history(void **state)
{
    fixture *f = *state;
    f->state.rooms_known = 1;
    assert_int_equal(matrix_strset_add(&f->state.rooms, "!known:example.org"), 1);
    const matrix_batch_actions *a = decide(
        f, "{\"next_batch\":\"s2\",\"rooms\":{\"join\":{"
           "\"!new:example.org\":{\"timeline\":{\"limited\":true,\"events\":[" MSG("$old", ALICE, "!salary") "]}},"
           "\"!joined:example.org\":{\"timeline\":{\"limited\":true,\"events\":["
           MSG("$older", ALICE, "!salary") "," OWN_JOIN "," MSG("$new", ALICE, "!salary") "]}},"
           "\"!known:example.org\":{\"timeline\":{\"limited\":true,\"events\":[" MSG("$k", ALICE, "!salary") "]}}"
           "}}}");
    assert_int_equal(a->n_sends, 2);
    assert_non_null(send_to(a, "!joined:example.org", 'r'));
    assert_txn(send_to(a, "!joined:example.org", 'r'), "!joined:example.org", "$new");
    assert_non_null(send_to(a, "!known:example.org", 'r'));
    assert_int_equal(logged(a, BASE_LOG_WARN, "more messages arrived"), 1); /* the known room only */
}

/* ---- encrypted rooms ---------------------------------------------------------------- */

static void test_encrypted_room_is_told_once(void **state)
{
    fixture *f = *state;
    static const char batch[] = SYNC(ENCRYPTED_ROOM("!secret:example.org"));
    const matrix_batch_actions *a = decide(f, batch);
    assert_true(matrix_strset_has(&a->encrypted, "!secret:example.org"));
    assert_int_equal(logged(a, BASE_LOG_INFO, "!secret:example.org is encrypted"), 1);
    assert_int_equal(a->n_sends, 1);
    const matrix_batch_send *s = send_to(a, "!secret:example.org", 'e');
    assert_non_null(s);
    assert_txn(s, "!secret:example.org", NULL);
    assert_non_null(strstr(s->content, NOTICE));
    /* Applied, as the network does: the room is known and told. */
    matrix_strset_add(&f->state.encrypted, "!secret:example.org");
    matrix_strset_add(&f->state.told_encrypted, "!secret:example.org");
    a = decide(f, batch);
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(a->encrypted.n, 0);
    assert_int_equal(logged(a, BASE_LOG_INFO, "is encrypted"), 0);
}

static void test_encrypted_room_in_the_first_sync_is_only_recorded(void **state)
{
    fixture *f = *state;
    f->account.live = 0;
    const matrix_batch_actions *a = decide(f, SYNC(ENCRYPTED_ROOM("!secret:example.org")));
    assert_true(matrix_strset_has(&a->encrypted, "!secret:example.org"));
    assert_int_equal(a->n_sends, 0);
    /* Known but not told: the first live batch tells it. */
    matrix_strset_add(&f->state.encrypted, "!secret:example.org");
    f->account.live = 1;
    a = decide(f, SYNC(ENCRYPTED_ROOM("!secret:example.org")));
    assert_int_equal(a->encrypted.n, 0);
    assert_int_equal(logged(a, BASE_LOG_INFO, "is encrypted"), 0);
    assert_non_null(send_to(a, "!secret:example.org", 'e'));
    /* Without a notice text nothing is said. */
    f->account.encrypted_notice = NULL;
    a = decide(f, SYNC(ENCRYPTED_ROOM("!secret:example.org")));
    assert_int_equal(a->n_sends, 0);
}

/* ---- the queue -------------------------------------------------------------------- */

static void test_full_queue_drops_and_says_so_once(void **state)
{
    fixture *f = *state;
    f->account.queue_max = 2;
    outbox_holds(f, "!a:example.org", "t1");
    outbox_holds(f, "!b:example.org", "t2");
    const matrix_batch_actions *a =
        decide(f, SYNC(ROOM("!group:example.org", MSG("$1", ALICE, "careerbot: what is the salary") ","
                                                      MSG("$2", BOB, "careerbot: what is the salary"))));
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(logged(a, BASE_LOG_WARN, "send queue full (2 replies)"), 1);
    assert_int_equal(logged(a, BASE_LOG_INFO, "^answering"), 0);
    /* Drained: the next answer goes, and the drop run is counted. */
    matrix_outbox_free(&f->state.outbox);
    a = decide(f, SYNC(ROOM("!group:example.org", MSG("$3", "@carol:example.org", "careerbot: what is the salary"))));
    assert_int_equal(a->n_sends, 1);
    assert_int_equal(logged(a, BASE_LOG_WARN, "send queue draining again; 2 answers were dropped"), 1);
}

/* Replies queued earlier in a batch count against the queue for the later
 * messages of the same batch. */
static void test_queue_fills_within_a_batch(void **state)
{
    fixture *f = *state;
    f->account.queue_max = 4;
    const matrix_batch_actions *a = decide(
        f, SYNC(ROOM("!group:example.org",
                     MSG("$1", "@u1:example.org", "careerbot: what is the salary") ","
                     MSG("$2", "@u2:example.org", "careerbot: what is the salary") ","
                     MSG("$3", "@u3:example.org", "careerbot: what is the salary") ","
                     MSG("$4", "@u4:example.org", "careerbot: what is the salary") ","
                     MSG("$5", "@u5:example.org", "careerbot: what is the salary"))));
    /* Three answers fill three quarters of the queue; the fourth asker is
     * asked to wait (the notice takes the last place); the fifth is dropped. */
    assert_int_equal(a->n_sends, 4);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a->sends[i].kind, 'r');
        assert_non_null(strstr(a->sends[i].content, PAY));
    }
    assert_int_equal(a->sends[3].kind, 'b');
    assert_txn(&a->sends[3], "!group:example.org", "$4");
    assert_non_null(strstr(a->sends[3].content, "@u4:example.org, please give me a moment"));
    assert_int_equal(logged(a, BASE_LOG_WARN, "send queue full"), 1);
}

static void test_batch_fetched_again_is_not_queued_twice(void **state)
{
    fixture *f = *state;
    char txn[MATRIX_TXN_MAX];
    matrix_txn_id(txn, 'r', "!group:example.org", "$q");
    outbox_holds(f, "!group:example.org", txn);
    const matrix_batch_actions *a =
        decide(f, SYNC(ROOM("!group:example.org", MSG("$q", ALICE, "careerbot: what is the salary"))));
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(logged(a, BASE_LOG_INFO, "^answering"), 0);
    assert_int_equal(logged(a, BASE_LOG_WARN, "queue"), 0);
}

static void test_person_asking_too_fast_gets_a_busy_notice(void **state)
{
    fixture *f = *state;
    regate(f, 1);
    const matrix_batch_actions *a =
        decide(f, SYNC(ROOM("!group:example.org", MSG("$1", ALICE, "careerbot: what is the salary") ","
                                                      MSG("$2", ALICE, "careerbot: what is the salary") ","
                                                      MSG("$3", ALICE, "careerbot: what is the salary"))));
    /* One answer, one notice; the third hears nothing (notices have limits too). */
    assert_int_equal(a->n_sends, 2);
    assert_int_equal(a->sends[0].kind, 'r');
    assert_int_equal(a->sends[1].kind, 'b');
    assert_txn(&a->sends[1], "!group:example.org", "$2");
    assert_non_null(strstr(a->sends[1].content, "m.notice"));
    assert_null(strstr(a->sends[1].content, "m.in_reply_to"));
    assert_int_equal(logged(a, BASE_LOG_INFO, "not answering " ALICE " in !group:example.org: you are asking"), 2);
}

/* ---- what is not answered -------------------------------------------------------------- */

static void test_first_sync_answers_nothing(void **state)
{
    fixture *f = *state;
    f->account.live = 0;
    assert_int_equal(matrix_strset_add(&f->state.direct_invites, "!dm:example.org"), 1);
    const matrix_batch_actions *a = decide(
        f, "{\"next_batch\":\"s1\",\"rooms\":{\"join\":{"
        ROOM("!dm:example.org", MSG("$1", ALICE, "what is the salary")) ","
        "\"!busy:example.org\":{\"timeline\":{\"limited\":true,\"events\":["
        MSG("$2", BOB, "careerbot: what is the salary") "]}}},"
        "\"invite\":{" INVITE("!new:example.org", ALICE, "true", "") "}}}");
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(logged(a, BASE_LOG_INFO, "^answering"), 0);
    assert_int_equal(logged(a, BASE_LOG_WARN, "more messages arrived"), 0);
    /* Invites are still followed: the inviter is waiting. */
    assert_true(matrix_strset_has(&a->joins, "!new:example.org"));
    assert_true(matrix_strset_has(&a->direct, "!new:example.org"));
    /* Live, the limited timeline is reported. */
    f->account.live = 1;
    a = decide(f, "{\"next_batch\":\"s2\",\"rooms\":{\"join\":{\"!busy:example.org\":{\"timeline\":"
                  "{\"limited\":true,\"events\":[]}}}}}");
    assert_int_equal(logged(a, BASE_LOG_WARN, "!busy:example.org: more messages arrived"), 1);
}

static void test_messages_before_the_bots_own_join_are_history(void **state)
{
    fixture *f = *state;
    const matrix_batch_actions *a =
        decide(f, SYNC(ROOM("!joined:example.org", MSG("$old", ALICE, "careerbot: what is the salary") ","
                            OWN_JOIN "," MSG("$new", ALICE, "careerbot: what is the salary"))));
    assert_int_equal(a->n_sends, 1);
    assert_txn(&a->sends[0], "!joined:example.org", "$new");
    assert_int_equal(logged(a, BASE_LOG_DEBUG, "skipping $old in !joined:example.org"), 1);
}

static void test_own_messages_and_left_rooms(void **state)
{
    fixture *f = *state;
    const matrix_batch_actions *a =
        decide(f, "{\"next_batch\":\"s2\",\"rooms\":{\"join\":{"
                  ROOM("!group:example.org", MSG("$mine", ME, "careerbot: what is the salary")) "},"
                  "\"leave\":{\"!gone:example.org\":{}}}}");
    assert_int_equal(a->n_sends, 0);
    assert_int_equal(logged(a, BASE_LOG_DEBUG, "skipping $mine"), 1);
    assert_int_equal(logged(a, BASE_LOG_INFO, "left !gone:example.org"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_direct_chat_is_answered_without_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_m_direct_in_the_same_batch_makes_a_room_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mention_in_a_group_room_quotes_and_pings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_room_answers_confident_questions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invites_from_allowed_inviters_are_joined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parted_rooms_decline_invites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_m_mentions_decides_when_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mention_as_element_writes_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_name_from_the_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asker_named_from_an_earlier_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_commands_where_asked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answered_messages_are_marked_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_is_followed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_notices_are_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_just_joined_brings_old_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_room_is_told_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_room_in_the_first_sync_is_only_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_and_says_so_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_fills_within_a_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_fetched_again_is_not_queued_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_person_asking_too_fast_gets_a_busy_notice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_sync_answers_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_before_the_bots_own_join_are_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_messages_and_left_rooms, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
