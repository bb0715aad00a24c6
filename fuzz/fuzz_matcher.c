/* Arbitrary bytes as chat messages: commands, questions, follow-ups. The
 * shipped knowledge base is loaded once; the first byte picks one of a few
 * conversations so that dialog state carries from input to input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "careerbot/bot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static core_bot *bot;
static double clock_now;

static void setup(void)
{
    core_kb *kb;
    base_error err;
    if (core_kb_load(CAREERBOT_KNOWLEDGE_DIR, &kb, &err) != BASE_OK) {
        fprintf(stderr, "fuzz_matcher: %s\n", err.text);
        abort();
    }
    bot = core_bot_new(kb, NULL, &err);
    if (!bot) {
        fprintf(stderr, "fuzz_matcher: %s\n", err.text);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!bot)
        setup();
    char user[8];
    snprintf(user, sizeof user, "u%d", size ? data[0] % 4 : 0);
    clock_now += 1.0;
    core_request req = {"fuzz", "room", user, clock_now, (const char *)data, size, NULL, user[0] % 2, 0, NULL};
    core_reply reply;
    if (core_bot_reply(bot, &req, &reply) != BASE_OK)
        abort();
    /* Every reply is text without NUL bytes, so it can go on any wire. */
    if (!reply.text || strlen(reply.text) == 0)
        abort();
    core_reply_clear(&reply);
    return 0;
}
