/* The operator command parser and the runtime state file on any bytes: the
 * first byte picks IRC or Matrix names and the prefixes; the rest is read
 * as a command and as the state file's JSON. Nothing may crash, read past
 * the input or leak, and what is accepted must be well formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat/operator.h"
#include "chat/runtime_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t pick = size ? data[0] : 0;
    const char *text = (const char *)data + (size ? 1 : 0);
    size_t len = size ? size - 1 : 0;
    chat_op op;
    chat_op_kind kind = chat_op_parse(text, len, pick & 1 ? "!" : NULL, pick & 2 ? CHAT_OP_MATRIX : CHAT_OP_IRC, &op);
    if (kind != CHAT_OP_NONE && !op.error) {
        /* Accepted names are one word and fit; !say text is one line. */
        if (strlen(op.target) >= sizeof op.target || strpbrk(op.target, " \r\n") || strpbrk(op.text, "\r\n"))
            abort();
    }
    chat_runtime rt;
    chat_runtime_init(&rt, CHAT_CASE_RFC1459, pick & 4);
    if (chat_runtime_from_json(&rt, text, len, NULL) == 0) {
        if (rt.n_joined > CHAT_RUNTIME_MAX || rt.n_ignored > CHAT_RUNTIME_MAX)
            abort();
        char *again = chat_runtime_to_json(&rt);
        chat_runtime back;
        chat_runtime_init(&back, CHAT_CASE_RFC1459, pick & 4);
        if (again && chat_runtime_from_json(&back, again, strlen(again), NULL) != 0)
            abort(); /* what it writes it reads back */
        chat_runtime_free(&back);
        free(again);
    }
    chat_runtime_free(&rt);
    return 0;
}
