/* Arbitrary bytes as a /sync response: parsed into plain structs, then every
 * message goes through the answer policy and, as if it were a reply, through
 * the formatter (HTML, UTF-8 cleaning, JSON). Nothing may crash, leak or
 * produce invalid JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "careerbot/bot.h"
#include "matrix/matrix_format.h"
#include "matrix/matrix_policy.h"
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
    const matrix_identity me = {ME, "Career Bot"};
    for (size_t i = 0; i < s.n_messages; i++) {
        const matrix_message *m = &s.messages[i];
        if (!m->room_id || !m->event_id || !m->sender)
            abort();
        if (matrix_ignore_reason(m, ME, 1) != NULL)
            continue;
        matrix_addressing a;
        matrix_address(m, &me, (int)(i & 1), (int)(i & 2), bot, "!", &a);
        if (a.text < m->body || a.text + a.len > m->body + strlen(m->body))
            abort(); /* the question is a slice of the body */
        char *content = matrix_reply_content(m->body, m->event_id, m->sender, m->thread_root);
        check_json(content);
        free(content);
        char txn[MATRIX_TXN_MAX];
        matrix_txn_id(txn, 'r', m->room_id, m->event_id);
    }
    matrix_sync_free(&s);
    return 0;
}
