/* What the knowledge-base files share, private to src/core/kb*.c:
 *   kb_json.c      one JSON document -> topics, lexicon and bot texts
 *   kb_validate.c  cross-topic checks and the id/command indexes
 *   kb_dir.c       listing and reading the *.json files of a directory
 *   kb.c           an empty base, finishing a loaded one, lookups, free
 * A base is built in three moves: core_kb_new_empty, then core_kb_read_json
 * once per document, then core_kb_finish. */
#ifndef CORE_KB_INTERNAL_H
#define CORE_KB_INTERNAL_H

#include <stddef.h>

#include "base/error.h"
#include "careerbot/kb.h"

/* A base with no topics and the lexicon's default numbers; NULL when out of
 * memory. Free it with core_kb_free. */
core_kb *core_kb_new_empty(void);

/* Reads one JSON document into kb, appending its topics and overriding the
 * lexicon and bot fields it sets. text must be NUL-terminated at text[len]
 * (the line of each topic's id is found by searching it). name is the file
 * named in messages. On error kb holds what was read before the problem. */
int core_kb_read_json(core_kb *kb, const char *name, const char *text, size_t len, base_error *err);

/* Checks what no single topic can check alone (ids and commands unique and
 * not built in, related topics and the default topic exist, steps numbered
 * 1..N without gaps) and builds the id and command indexes. where names the
 * whole base (a directory or a document) in messages. */
int core_kb_validate(core_kb *kb, const char *where, base_error *err);

/* core_kb_validate, then the bot texts the documents left unset get their
 * defaults. On error the caller still owns kb and frees it. */
int core_kb_finish(core_kb *kb, const char *where, base_error *err);

/* Records where an error is (file, line > 0, column > 0 when known) in
 * err's location fields, leaving its text as written; returns BASE_ERR, so a
 * failing reader can end with `return core_kb_locate(...)`. */
int core_kb_locate(base_error *err, const char *file, int line, int column);

/* Frees n facet kinds and the array. */
void core_kb_facet_kinds_free(core_facet_kind *kinds, size_t n);

/* Frees n kinds of small talk and the array. */
void core_kb_social_free(core_social *social, size_t n);

/* Frees a topic's strings and arrays and zeroes it. */
void core_kb_topic_free(core_topic *t);

#endif
