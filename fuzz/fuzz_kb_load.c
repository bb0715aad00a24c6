/* Arbitrary bytes as a knowledge-base file: the loader must return an error
 * or a valid knowledge base, and a valid one must build a matcher that can
 * answer its own examples without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cb_kb *kb = NULL;
    cb_error err;
    if (cb_kb_load_string((const char *)data, size, "fuzz.json", &kb, &err) != CB_OK) {
        if (strlen(err.text) == 0)
            abort(); /* every failure explains itself */
        return 0;
    }
    cb_matcher *m = cb_matcher_new(kb, &err);
    if (m) {
        for (size_t i = 0; i < kb->n_topics; i++)
            for (size_t e = 0; e < kb->topics[i].n_examples; e++) {
                cb_match r;
                cb_matcher_match(m, kb->topics[i].examples[e], strlen(kb->topics[i].examples[e]), &r);
            }
        cb_matcher_free(m);
    }
    cb_kb_free(kb);
    return 0;
}
