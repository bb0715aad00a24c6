/* Arbitrary bytes as a /sync response: parsed into plain structs, then
 * decided as a batch (the reply gate, the formatter, the queue), first as
 * the account's first sync and then live. Nothing may crash or leak, every
 * send must be JSON the homeserver takes, with a transaction id of the
 * allowed characters, and every log line must be text. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "careerbot/bot.h"
#include "chat/gate.h"
#include "matrix/matrix_batch.h"
#include "matrix/matrix_format.h"
#include "matrix/matrix_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ME "@careerbot:example.org"

static core_bot *bot;

static void setup(void)
{
    core_kb *kb;
    base_error err;
    if (core_kb_load(CAREERBOT_KNOWLEDGE_DIR, &kb, &err) != BASE_OK || !(bot = core_bot_new(kb, NULL, &err))) {
        fprintf(stderr, "fuzz_matrix_sync: %s\n", err.text);
        abort();
    }
}

static void check_json(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!v)
        abort(); /* a content the homeserver would refuse */
    json_decref(v);
}

static void check_actions(const matrix_batch_actions *a)
{
    for (size_t i = 0; i < a->n_sends; i++) {
        const matrix_batch_send *s = &a->sends[i];
        if (!s->room_id || strspn(s->txn_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
                               strlen(s->txn_id))
            abort();
        check_json(s->content);
    }
    for (size_t i = 0; i < a->n_logs; i++)
        if (!a->logs[i].text)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!bot)
        setup();
    matrix_sync s;
    base_error err;
    if (matrix_sync_parse((const char *)data, size, ME, &s, &err) != BASE_OK)
        return 0;
    if (!s.next_batch || !*s.next_batch)
        abort();
    for (size_t i = 0; i < s.n_messages; i++) {
        const matrix_message *m = &s.messages[i];
        if (!m->room_id || !m->event_id || !m->sender)
            abort();
    }
    chat_gate_config gc = {.network = "fuzz", .command_prefixes = "!", .listen_min_score = 1.5, .limits = 1,
                           .user_burst = 3, .user_rate = 1, .room_burst = 5, .room_rate = 1,
                           .casemap = CHAT_CASE_ASCII};
    chat_gate *gate = chat_gate_new(bot, &gc);
    char *const inviters[] = {"example.org"};
    matrix_state state = {0};
    matrix_strset listen = {0};
    /* Some rooms of the batch are direct, some listen, so every path is taken. */
    for (size_t i = 0; i < s.n_joined_rooms; i++)
        matrix_strset_add(i & 1 ? &state.direct_invites : &listen, s.joined_rooms[i]);
    /* Half the rooms known, so rooms just joined are taken too. */
    state.rooms_known = 1;
    for (size_t i = 0; i < s.n_joined_rooms; i += 2)
        matrix_strset_add(&state.rooms, s.joined_rooms[i]);
    matrix_batch_account account = {
        .user_id = ME,
        .display_name = "Career Bot",
        .allowed_inviters = inviters,
        .n_allowed_inviters = 1,
        .listen = &listen,
        .unknown_commands = &listen,
        .read_receipts = 1,
        .state = &state,
        .queue_max = 8,
        .encrypted_notice = "This room is encrypted.",
        .gate = gate,
    };
    for (int live = 0; gate && live < 2; live++) {
        account.live = live;
        matrix_batch_actions a;
        matrix_batch_decide(&account, &s, &a);
        check_actions(&a);
        matrix_batch_actions_free(&a);
    }
    matrix_strset_free(&listen);
    matrix_state_free(&state);
    chat_gate_free(gate);
    matrix_sync_free(&s);
    return 0;
}
