/* Arbitrary bytes as a knowledge-base file: the loader must return an error
 * or a valid knowledge base, and a valid one must build a matcher that can
 * answer its own examples without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "careerbot/kb.h"
#include "core/matcher.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    core_kb *kb = NULL;
    base_error err;
    if (core_kb_load_string((const char *)data, size, "fuzz.json", &kb, &err) != BASE_OK) {
        if (strlen(err.text) == 0)
            abort(); /* every failure explains itself */
        return 0;
    }
    core_matcher *m = core_matcher_new(kb, &err);
    if (m) {
        for (size_t i = 0; i < kb->n_topics; i++)
            for (size_t e = 0; e < kb->topics[i].n_examples; e++) {
                core_match r;
                core_matcher_match(m, kb->topics[i].examples[e], strlen(kb->topics[i].examples[e]), &r);
            }
        core_matcher_free(m);
    }
    core_kb_free(kb);
    return 0;
}
