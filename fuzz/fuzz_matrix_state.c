/* Arbitrary bytes as a Matrix account's state file: the loader must refuse
 * them with a reason or give a state that saves and loads again the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    matrix_state s;
    memset(&s, 0, sizeof s);
    base_error err;
    if (matrix_state_from_json((const char *)data, size, &s, &err) != BASE_OK) {
        if (!err.text[0])
            abort();
        return 0;
    }
    char *saved = matrix_state_to_json(&s);
    if (saved) {
        matrix_state again;
        memset(&again, 0, sizeof again);
        if (matrix_state_from_json(saved, strlen(saved), &again, &err) != BASE_OK)
            abort(); /* what the bot writes, it reads back */
        char *twice = matrix_state_to_json(&again);
        if (twice && strcmp(saved, twice) != 0)
            abort();
        free(twice);
        matrix_state_free(&again);
    }
    free(saved);
    matrix_state_free(&s);
    return 0;
}
