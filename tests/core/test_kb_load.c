/* The knowledge-base loader (kb_json.c, kb_validate.c, kb_dir.c, kb.c): the
 * real knowledge directory, the kb-mini fixture, and one temporary directory
 * per broken case, each checked for "file:line: what". */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "careerbot/kb.h"
#include "test_util.h"

/* A topic on one line, with every required field. */
#define REQ(id)                                                                                      \
    ", \"title\": \"Title " id "\", \"keywords\": [{\"phrase\": \"" id "\", \"weight\": 1}], "     \
    "\"examples\": [\"" id "\"], \"answer\": \"Answer " id ".\", \"source\": \"S\""
#define GOOD(id) "{\"id\": \"" id "\"" REQ(id) "}"

/* ---- the real knowledge base ---------------------------------------------------- */

static int text_has(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

static int kb_mentions(const core_kb *kb, const char *needle)
{
    for (size_t i = 0; i < kb->n_topics; i++)
        if (text_has(kb->topics[i].answer, needle) || text_has(kb->topics[i].details, needle))
            return 1;
    return 0;
}

static void test_real_knowledge_loads(void **state)
{
    (void)state;
    core_kb *kb = NULL;
    base_error err = {0};
    if (core_kb_load(CAREERBOT_TEST_KB, &kb, &err) != BASE_OK) {
        /* The knowledge base is being written by someone else; a broken
         * state of it is theirs to fix, not a failure of the loader. */
        print_message("knowledge base does not load right now, skipping: %s\n", err.text);
        skip();
    }
    assert_true(kb->n_topics > 5);
    assert_int_equal(core_kb_step_count(kb), 5);
    for (int s = 1; s <= 5; s++) {
        const core_topic *t = core_kb_step(kb, s);
        assert_non_null(t);
        assert_int_equal(t->step, s);
    }
    assert_null(core_kb_step(kb, 6));
    /* Two stable facts of the article. */
    assert_true(kb_mentions(kb, "$34,970"));
    assert_true(kb_mentions(kb, "22%"));
    for (size_t i = 0; i < kb->n_topics; i++) {
        const core_topic *t = &kb->topics[i];
        assert_ptr_equal(core_kb_find(kb, t->id), t);
        assert_ptr_equal(core_kb_find_command(kb, t->command), t);
        assert_true(t->line > 0);
        assert_true(text_has(t->file, ".json"));
        assert_true(t->n_examples > 0 && t->n_keywords > 0);
    }
    assert_non_null(kb->texts.decline);
    assert_non_null(kb->texts.help);
    core_kb_free(kb);
}

/* ---- the fixture -------------------------------------------------------------------- */

static void test_fixture_loads(void **state)
{
    (void)state;
    core_kb *kb = tu_load(TU_MINI_KB);
    assert_int_equal(kb->n_topics, 5);
    assert_string_equal(kb->dir, TU_MINI_KB);

    const core_topic *salary = core_kb_find(kb, "salary");
    assert_non_null(salary);
    assert_string_equal(salary->title, "Pay");
    assert_string_equal(salary->command, "salary");
    assert_int_equal(salary->step, 0);
    assert_int_equal(salary->n_keywords, 3);
    assert_string_equal(salary->keywords[0].phrases[0], "salary");
    assert_true(salary->keywords[0].weight == 2.0);
    assert_int_equal(salary->keywords[2].n_phrases, 2);
    assert_string_equal(salary->keywords[2].phrases[0], "make");
    assert_string_equal(salary->keywords[2].phrases[1], "bring home");
    assert_true(salary->keywords[2].weight == 0.5);
    assert_int_equal(salary->n_examples, 2);
    assert_string_equal(salary->examples[1], "how much do coders make");
    assert_string_equal(salary->answer, "The median pay was $100 in the test year.");
    assert_string_equal(salary->details, "More about pay: it varies.");
    assert_int_equal(salary->n_related, 1);
    assert_string_equal(salary->related[0], "growth");
    assert_string_equal(salary->source, "Test bureau");
    assert_string_equal(salary->file, TU_MINI_KB "/topics.json");
    assert_int_equal(salary->line, 2);

    const core_topic *growth = core_kb_find(kb, "growth");
    assert_non_null(growth);
    assert_null(growth->details);
    assert_int_equal(growth->line, 8);
    assert_int_equal(core_kb_find(kb, "work")->line, 21);

    /* A topic without "command" is reached by its id. */
    assert_string_equal(core_kb_find(kb, "learn")->command, "learn");
    assert_ptr_equal(core_kb_find_command(kb, "learn"), core_kb_find(kb, "learn"));
    assert_ptr_equal(core_kb_find_command(kb, "growth"), growth);
    assert_null(core_kb_find_command(kb, "help"));
    assert_null(core_kb_find(kb, "nope"));
    assert_null(core_kb_find(kb, ""));

    assert_int_equal(core_kb_step_count(kb), 2);
    assert_string_equal(core_kb_step(kb, 1)->id, "learn");
    assert_string_equal(core_kb_step(kb, 2)->id, "work");
    assert_null(core_kb_step(kb, 0));
    assert_null(core_kb_step(kb, 3));
    assert_null(core_kb_step(kb, -1));

    const core_lexicon *lx = &kb->lexicon;
    assert_true(lx->threshold == 1.0);
    assert_true(lx->offtopic_penalty == 1.5);
    assert_true(lx->clarify_ratio == 0.9);
    assert_int_equal(lx->n_synonyms, 2);
    assert_int_equal(lx->synonyms[0].n, 5);
    assert_string_equal(lx->synonyms[0].words[0], "salary");
    assert_int_equal(lx->domain.n, 3);
    assert_int_equal(lx->offtopic.n, 4);
    assert_string_equal(lx->offtopic.items[3], "car insurance");
    assert_string_equal(lx->offtopic.items[2], "nurse");
    assert_int_equal(lx->follow_next.n, 3);
    assert_int_equal(lx->follow_more.n, 3);

    assert_string_equal(kb->texts.name, "test career");
    assert_string_equal(kb->texts.about, "A test bot.");
    assert_string_equal(kb->texts.sources, "Test sources.");
    core_kb_free(kb);
    core_kb_free(NULL);
}

/* ---- temporary directories ------------------------------------------------------------ */

typedef struct file_spec {
    const char *name;
    const char *text;
} file_spec;

/* Loads a directory made of files and checks that it fails with a message
 * that starts with "DIR/at_file:line:" (line 0: any line) and contains needle. */
static void expect_error(const file_spec *files, size_t n, const char *at_file, int line, const char *needle)
{
    char *dir = tu_mkdtemp();
    for (size_t i = 0; i < n; i++)
        tu_write(dir, files[i].name, files[i].text);
    core_kb *sentinel = (core_kb *)&sentinel, *kb = sentinel;
    base_error err = {0};
    int rc = core_kb_load(dir, &kb, &err);
    if (rc == BASE_OK) {
        core_kb_free(kb);
        tu_rmtree(dir);
        fail_msg("loaded, expected an error containing \"%s\"", needle);
    }
    assert_int_equal(rc, BASE_ERR);
    assert_ptr_equal(kb, sentinel); /* *out untouched */
    char prefix[1200];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s/%s:%d:", dir, at_file, line);
    else
        snprintf(prefix, sizeof prefix, "%s/%s:", dir, at_file);
    if (strncmp(err.text, prefix, strlen(prefix)) != 0 || !strstr(err.text, needle)) {
        char copy[sizeof err.text];
        memcpy(copy, err.text, sizeof copy);
        tu_rmtree(dir);
        fail_msg("message \"%s\"\n  expected to start with \"%s\" and contain \"%s\"", copy, prefix, needle);
    }
    tu_rmtree(dir);
}

/* topics.json with topic a on line 2 and the topic under test on line 3. */
static void expect_topic_error(const char *topic, int line, const char *needle)
{
    char text[4096];
    snprintf(text, sizeof text, "{\"topics\": [\n%s,\n%s\n]}\n", GOOD("a"), topic);
    file_spec files[] = {{"topics.json", text}};
    expect_error(files, 1, "topics.json", line, needle);
}

static void test_good_directory(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "b-topics.json", "{\"topics\": [\n" GOOD("b") "\n]}");
    tu_write(dir, "a-topics.json", "{\"topics\": [\n\n" GOOD("a") "\n]}");
    tu_write(dir, "README.md", "not json {");
    tu_write(dir, ".hidden.json", "not json {");
    tu_write(dir, "notes.json.txt", "not json {");
    core_kb *kb = tu_load(dir);
    /* Files are read in name order; others are ignored. */
    assert_int_equal(kb->n_topics, 2);
    assert_string_equal(kb->topics[0].id, "a");
    assert_string_equal(kb->topics[1].id, "b");
    assert_int_equal(kb->topics[0].line, 3);
    assert_int_equal(kb->topics[1].line, 2);
    assert_true(tu_contains(kb->topics[0].file, "a-topics.json"));
    /* No "bot" or "lexicon": defaults. */
    assert_true(kb->lexicon.threshold > 0);
    assert_true(kb->lexicon.clarify_ratio > 0 && kb->lexicon.clarify_ratio <= 1);
    assert_non_null(kb->texts.name);
    assert_non_null(kb->texts.decline);
    assert_non_null(kb->texts.help);
    assert_non_null(kb->texts.about);
    assert_non_null(kb->texts.sources);
    assert_int_equal(core_kb_step_count(kb), 0);
    core_kb_free(kb);
    tu_rmtree(dir);
}

static void test_invalid_json(void **state)
{
    (void)state;
    file_spec files[] = {{"bot.json", "{\"bot\": {\"name\": \"x\"}}"},
                         {"topics.json", "{\"topics\": [\n" GOOD("a") ",\n  {\"id\": \"b\",, }\n]}"}};
    /* jansson's position: line 3, then a column. */
    expect_error(files, 2, "topics.json", 3, "");
    char *dir = tu_mkdtemp();
    tu_write(dir, "topics.json", "{\"topics\": [\n" GOOD("a") ",\n  {\"id\": \"b\",, }\n]}");
    core_kb *kb = NULL;
    base_error err;
    assert_int_equal(core_kb_load(dir, &kb, &err), BASE_ERR);
    int line = 0, col = 0;
    const char *after = strstr(err.text, "topics.json:");
    assert_non_null(after);
    assert_int_equal(sscanf(after, "topics.json:%d:%d:", &line, &col), 2);
    assert_int_equal(line, 3);
    assert_true(col > 0);
    tu_rmtree(dir);

    /* Truncated file, duplicate key in one object, not an object, empty file. */
    file_spec truncated[] = {{"t.json", "{\"topics\": [\n" GOOD("a")}};
    expect_error(truncated, 1, "t.json", 0, "");
    file_spec dupkey[] = {{"t.json", "{\"topics\": [\n{\"id\": \"a\", \"id\": \"b\"}]}"}};
    expect_error(dupkey, 1, "t.json", 2, "");
    file_spec array[] = {{"t.json", "[1, 2]"}};
    expect_error(array, 1, "t.json", 1, "one JSON object");
    file_spec empty[] = {{"t.json", ""}};
    expect_error(empty, 1, "t.json", 0, "");
}

static void test_missing_field(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"examples\": [\"b\"], \"source\": \"S\"}",
                       3, "missing field \"answer\"");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"answer\": \"A\", \"source\": \"S\"}",
                       3, "missing field \"examples\"");
    expect_topic_error("{\"id\": \"b\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "missing field \"title\"");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\"}",
                       3, "missing field \"source\"");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "\"keywords\"");
    /* Without an id there is no line to point at, but the topic's number. */
    expect_topic_error("{\"title\": \"T\"}", 0, "topic #2: missing field \"id\"");
    /* Required strings and lists must not be empty. */
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"title\": \"\"}", 0, "");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"examples\": [], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "\"examples\" must not be empty");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "\"keywords\" must be a non-empty array");
}

static void test_wrong_type(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\", \"title\": 5, \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "field \"title\" must be a string");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"examples\": \"b\", \"answer\": \"A\", \"source\": \"S\"}",
                       3, "field \"examples\" must be an array of strings");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
                       "\"examples\": [\"b\", 7], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "\"examples\" must hold non-empty strings only");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [\"b\"], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "each keyword must be an object");
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"step\": \"one\"}", 3, "\"step\" must be a whole number");
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"step\": 1.5}", 3, "\"step\" must be a whole number");
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"step\": 0}", 3, "\"step\" must be a whole number");
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"step\": 100}", 3, "\"step\" must be a whole number");
    expect_topic_error("{\"id\": 12" REQ("b") "}", 0, "missing field \"id\"");
    expect_topic_error("\"just a string\"", 0, "topic #2 must be an object");
    file_spec not_array[] = {{"t.json", "{\"topics\": {}}"}};
    expect_error(not_array, 1, "t.json", 1, "\"topics\" must be an array");
    file_spec lexicon[] = {{"l.json", "{\"lexicon\": {\"domain\": \"coder\"}}"}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    expect_error(lexicon, 2, "l.json", 0, "\"domain\" must be an array of strings");
    file_spec bot[] = {{"b.json", "{\"bot\": {\"name\": 1}}"}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    expect_error(bot, 2, "b.json", 0, "field \"name\" must be a string");
    file_spec synonyms[] = {{"l.json", "{\"lexicon\": {\"synonyms\": [\"pay\", \"salary\"]}}"},
                            {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    expect_error(synonyms, 2, "l.json", 0, "synonyms");
}

static void test_unknown_field(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"colour\": \"red\"}", 3, "unknown field \"colour\"");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1, \"wieght\": 2}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "unknown field \"wieght\" in keyword");
    file_spec root[] = {{"t.json", "{\"topic\": [" GOOD("a") "]}"}};
    expect_error(root, 1, "t.json", 1, "unknown field \"topic\"");
    file_spec lexicon[] = {{"l.json", "{\"lexicon\": {\"treshold\": 1}}"}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    expect_error(lexicon, 2, "l.json", 0, "unknown field \"treshold\"");
    file_spec bot[] = {{"b.json", "{\"bot\": {\"nmae\": \"x\"}}"}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    expect_error(bot, 2, "b.json", 0, "unknown field \"nmae\"");
}

static void test_duplicate_id_across_files(void **state)
{
    (void)state;
    file_spec files[] = {{"a.json", "{\"topics\": [\n" GOOD("x") "\n]}"},
                         {"b.json", "{\"topics\": [\n" GOOD("y") ",\n" GOOD("x") "\n]}"}};
    expect_error(files, 2, "b.json", 3, "topic \"x\": duplicate id (first defined in ");
    expect_error(files, 2, "b.json", 3, "a.json)");
}

static void test_duplicate_id_same_file(void **state)
{
    (void)state;
    file_spec files[] = {{"t.json", "{\"topics\": [\n" GOOD("x") ",\n" GOOD("y") ",\n" GOOD("x") "\n]}"}};
    expect_error(files, 1, "t.json", 4, "topic \"x\": duplicate id");
}

/* Regression (reported, fixed): when the same id appears in two topics one right
 * after the other, the repeat is reported at the line of the first one (the
 * id search resumes at the previous topic's own "id"). */
static void test_duplicate_id_adjacent_line(void **state)
{
    (void)state;
    file_spec files[] = {{"t.json", "{\"topics\": [\n" GOOD("x") ",\n" GOOD("x") "\n]}"}};
    expect_error(files, 1, "t.json", 3, "topic \"x\": duplicate id");
}

static void test_duplicate_command(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"command\": \"a\"}", 3, "command \"a\" is used by another topic");
    file_spec files[] = {{"a.json", "{\"topics\": [\n{\"id\": \"p\"" REQ("p") ", \"command\": \"pay\"}\n]}"},
                         {"b.json", "{\"topics\": [\n\n{\"id\": \"q\"" REQ("q") ", \"command\": \"pay\"}\n]}"}};
    expect_error(files, 2, "b.json", 3, "topic \"q\": command \"pay\" is used by another topic");
}

static void test_builtin_command_clash(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"command\": \"help\"}", 3, "command \"help\" is a built-in command");
    /* The id is the command when none is given. */
    expect_topic_error("{\"id\": \"about\"" REQ("about") "}", 3, "command \"about\" is a built-in command");
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"command\": \"why\"}", 3, "built-in");
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"command\": \"step\"}", 3, "built-in");
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"command\": \"next\"}", 3, "built-in");
}

/* Regression (reported, fixed): "/sources" is a built-in alias of /source in
 * commands.c, but the loader accepted a topic command "sources", which then
 * could never be reached. */
static void test_builtin_alias_sources(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"command\": \"sources\"}", 3, "built-in");
}

static void test_related_missing(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\"" REQ("b") ", \"related\": [\"a\", \"nope\"]}", 3,
                       "topic \"b\": related topic \"nope\" does not exist");
    /* Related topics may live in another file. */
    char *dir = tu_mkdtemp();
    tu_write(dir, "a.json", "{\"topics\": [{\"id\": \"a\"" REQ("a") ", \"related\": [\"b\"]}]}");
    tu_write(dir, "b.json", "{\"topics\": [" GOOD("b") "]}");
    core_kb *kb = tu_load(dir);
    assert_string_equal(core_kb_find(kb, "a")->related[0], "b");
    core_kb_free(kb);
    tu_rmtree(dir);
}

static void test_steps(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    /* Steps may come in any order and from several files. */
    tu_write(dir, "a.json", "{\"topics\": [{\"id\": \"s2\"" REQ("s2") ", \"step\": 2}, " GOOD("x") "]}");
    tu_write(dir, "b.json", "{\"topics\": [{\"id\": \"s3\"" REQ("s3") ", \"step\": 3}, {\"id\": \"s1\"" REQ("s1") ", \"step\": 1}]}");
    core_kb *kb = tu_load(dir);
    assert_int_equal(core_kb_step_count(kb), 3);
    assert_string_equal(core_kb_step(kb, 1)->id, "s1");
    assert_string_equal(core_kb_step(kb, 3)->id, "s3");
    core_kb_free(kb);
    tu_rmtree(dir);

    /* A gap. */
    file_spec gap[] = {{"t.json", "{\"topics\": [\n{\"id\": \"s1\"" REQ("s1") ", \"step\": 1},\n"
                                  "{\"id\": \"s3\"" REQ("s3") ", \"step\": 3}\n]}"}};
    char *gdir = tu_mkdtemp();
    tu_write(gdir, gap[0].name, gap[0].text);
    core_kb *out = NULL;
    base_error err;
    assert_int_equal(core_kb_load(gdir, &out, &err), BASE_ERR);
    assert_null(out);
    assert_true(tu_contains(err.text, "step 2 is missing"));
    assert_true(tu_contains(err.text, "1 to 3"));
    tu_rmtree(gdir);

    /* The same step twice. */
    file_spec twice[] = {{"t.json", "{\"topics\": [\n{\"id\": \"s1\"" REQ("s1") ", \"step\": 1},\n"
                                    "{\"id\": \"t1\"" REQ("t1") ", \"step\": 1}\n]}"}};
    expect_error(twice, 1, "t.json", 3, "topic \"t1\": step: another topic has the same step number");
}

/* Regression (reported, fixed): a gap in the steps is reported as "DIR: steps must
 * be numbered 1 to 3, step 2 is missing", without the file:line of any
 * topic, unlike every other content error. */
static void test_step_gap_names_file_and_line(void **state)
{
    (void)state;
    file_spec gap[] = {{"t.json", "{\"topics\": [\n{\"id\": \"s1\"" REQ("s1") ", \"step\": 1},\n"
                                  "{\"id\": \"s3\"" REQ("s3") ", \"step\": 3}\n]}"}};
    expect_error(gap, 1, "t.json", 3, "step 2 is missing");
}

static void test_answer_line_length(void **state)
{
    (void)state;
    char topic[2048], line400[401], line401[402];
    memset(line400, 'x', 400);
    line400[400] = '\0';
    memset(line401, 'y', 401);
    line401[401] = '\0';
    snprintf(topic, sizeof topic, "{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1}], "
             "\"examples\": [\"b\"], \"answer\": \"%s\", \"source\": \"S\"}", line401);
    expect_topic_error(topic, 3, "topic \"b\": a line of \"answer\" is longer than 400 bytes");
    snprintf(topic, sizeof topic, "{\"id\": \"b\"" REQ("b") ", \"details\": \"short\\n%s\"}", line401);
    expect_topic_error(topic, 3, "a line of \"details\" is longer than 400 bytes");

    /* 400 bytes is fine, and so are many lines of 400. */
    char json[4096];
    snprintf(json, sizeof json, "{\"topics\": [{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", "
             "\"weight\": 1}], \"examples\": [\"b\"], \"answer\": \"%s\\n%s\\n%s\", \"source\": \"S\"}]}",
             line400, line400, line400);
    core_kb *kb = tu_load_string(json);
    assert_int_equal(strlen(kb->topics[0].answer), 3 * 400 + 2);
    core_kb_free(kb);
}

static void test_keyword_weight(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"pay\"}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "keyword \"pay\" needs a \"weight\" between 0 and 100");
    const char *bad[] = {"0", "-1", "100.5", "1e9", "\"2\"", "null", "true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char topic[512];
        snprintf(topic, sizeof topic, "{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"pay\", "
                 "\"weight\": %s}], \"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}", bad[i]);
        expect_topic_error(topic, 3, "needs a \"weight\"");
    }
    /* A keyword needs a phrase with words in it. */
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"weight\": 1}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "needs a \"phrase\"");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"?!\", \"weight\": 1}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "needs a \"phrase\"");
    /* Integer and fractional weights inside the range load. */
    core_kb *kb = tu_load_string("{\"topics\": [{\"id\": \"b\", \"title\": \"T\", \"keywords\": ["
                               "{\"phrase\": \"pay\", \"weight\": 100}, {\"phrase\": \"wage\", \"weight\": 0.01}],"
                               " \"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}]}");
    assert_true(kb->topics[0].keywords[0].weight == 100);
    assert_true(kb->topics[0].keywords[1].weight == 0.01);
    core_kb_free(kb);
}

/* Regression (reported, fixed): the loader counted every byte >= 0x80 as a
 * letter and did not check synonyms at all, so a keyword phrase of
 * punctuation ("\u2014", an emoji) or a synonym "?!" loaded silently and
 * could never match (it normalises to no words). */
static void test_keyword_without_words(void **state)
{
    (void)state;
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"\\u2014\", \"weight\": 1}], "
                       "\"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "needs a \"phrase\"");
    expect_topic_error("{\"id\": \"b\", \"title\": \"T\", \"keywords\": [{\"phrase\": \"b\", \"weight\": 1, "
                       "\"synonyms\": [\"?!\"]}], \"examples\": [\"b\"], \"answer\": \"A\", \"source\": \"S\"}",
                       3, "synonym");
}

static void test_lexicon_values(void **state)
{
    (void)state;
    const char *bad[] = {"\"threshold\": 0", "\"threshold\": \"1\"", "\"clarify_ratio\": 1.5",
                         "\"clarify_ratio\": 0", "\"offtopic_penalty\": -1", "\"unknown_penalty\": -1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char lex[256];
        snprintf(lex, sizeof lex, "{\"lexicon\": {%s}}", bad[i]);
        file_spec files[] = {{"l.json", lex}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
        expect_error(files, 2, "l.json", 0, "must be a number from");
    }
    file_spec exact[] = {{"l.json", "{\"lexicon\": {\"exact\": [\"certificate\"]}}"}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    expect_error(exact, 2, "l.json", 0, "\"exact\"");
    file_spec deflt[] = {{"l.json", "{\"lexicon\": {\"default_topic\": \"nope\"}}"}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    char *dir = tu_mkdtemp();
    tu_write(dir, deflt[0].name, deflt[0].text);
    tu_write(dir, deflt[1].name, deflt[1].text);
    core_kb *out = NULL;
    base_error err;
    assert_int_equal(core_kb_load(dir, &out, &err), BASE_ERR);
    assert_true(tu_contains(err.text, "\"default_topic\" names topic \"nope\", which does not exist"));
    tu_rmtree(dir);
    core_kb *kb = tu_load_string("{\"lexicon\": {\"threshold\": 2.5, \"offtopic_penalty\": 0, \"clarify_ratio\": 1,"
                               " \"follow_next\": [\"then what\"]}, \"topics\": [" GOOD("a") "]}");
    assert_true(kb->lexicon.threshold == 2.5);
    assert_true(kb->lexicon.offtopic_penalty == 0);
    assert_true(kb->lexicon.clarify_ratio == 1);
    assert_string_equal(kb->lexicon.follow_next.items[0], "then what");
    core_kb_free(kb);
}

/* The language resources' switches: off unless turned on, true or false only. */
static void test_lexicon_resource_switches(void **state)
{
    (void)state;
    core_kb *kb = tu_load_string("{\"topics\": [" GOOD("a") "]}");
    assert_false(kb->lexicon.wordnet);
    assert_false(kb->lexicon.hunspell);
    assert_int_equal(kb->lexicon.hunspell_dictionaries.n, 0);
    core_kb_free(kb);
    kb = tu_load_string("{\"lexicon\": {\"wordnet\": true, \"hunspell\": true, \"hunspell_dictionaries\": "
                        "[\"en_US\", \"en_med_glut\"]}, \"topics\": [" GOOD("a") "]}");
    assert_true(kb->lexicon.wordnet);
    assert_true(kb->lexicon.hunspell);
    assert_int_equal(kb->lexicon.hunspell_dictionaries.n, 2);
    assert_string_equal(kb->lexicon.hunspell_dictionaries.items[1], "en_med_glut");
    core_kb_free(kb);
    const char *bad[] = {"\"wordnet\": \"yes\"", "\"hunspell\": 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char lex[256];
        snprintf(lex, sizeof lex, "{\"lexicon\": {%s}}", bad[i]);
        file_spec files[] = {{"l.json", lex}, {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
        expect_error(files, 2, "l.json", 0, "must be true or false");
    }
    file_spec list[] = {{"l.json", "{\"lexicon\": {\"hunspell_dictionaries\": \"en_US\"}}"},
                        {"t.json", "{\"topics\": [" GOOD("a") "]}"}};
    expect_error(list, 2, "l.json", 0, "\"hunspell_dictionaries\" must be an array of strings");
}

static void test_empty_and_missing_directory(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    core_kb *kb = NULL;
    base_error err = {0};
    assert_int_equal(core_kb_load(dir, &kb, &err), BASE_ERR);
    assert_null(kb);
    assert_true(tu_contains(err.text, dir));
    assert_true(tu_contains(err.text, "no .json files"));

    /* JSON files without any topic. */
    tu_write(dir, "bot.json", "{\"bot\": {\"name\": \"x\"}}");
    assert_int_equal(core_kb_load(dir, &kb, &err), BASE_ERR);
    assert_null(kb);
    assert_true(tu_contains(err.text, "no topics found"));

    char missing[1100];
    snprintf(missing, sizeof missing, "%s/does-not-exist", dir);
    assert_int_equal(core_kb_load(missing, &kb, &err), BASE_ERR);
    assert_null(kb);
    assert_true(tu_contains(err.text, missing));
    assert_true(tu_contains(err.text, "cannot open knowledge directory"));
    tu_rmtree(dir);

    /* A NULL error pointer is allowed. */
    assert_int_equal(core_kb_load("/nonexistent/careerbot/kb", &kb, NULL), BASE_ERR);
    assert_null(kb);
}

static void test_load_string(void **state)
{
    (void)state;
    const char *json = "{\"bot\": {\"name\": \"inline career\"},\n"
                       " \"lexicon\": {\"threshold\": 1.5, \"synonyms\": [[\"pay\", \"wage\"]]},\n"
                       " \"topics\": [\n" GOOD("a") ",\n{\"id\": \"b\"" REQ("b") ", \"step\": 1}]}";
    core_kb *kb = tu_load_string(json);
    assert_string_equal(kb->texts.name, "inline career");
    assert_true(kb->lexicon.threshold == 1.5);
    assert_int_equal(kb->n_topics, 2);
    assert_int_equal(core_kb_find(kb, "a")->line, 4);
    assert_int_equal(core_kb_find(kb, "b")->line, 5);
    assert_string_equal(core_kb_find(kb, "b")->file, "inline.json");
    assert_int_equal(core_kb_step_count(kb), 1);
    core_kb_free(kb);

    /* Only len bytes are read: the buffer need not be NUL-terminated. */
    char buf[512];
    const char *doc = "{\"topics\": [" GOOD("a") "]}";
    size_t len = strlen(doc);
    memcpy(buf, doc, len);
    memset(buf + len, '}', sizeof buf - len);
    base_error err = {0};
    kb = NULL;
    assert_int_equal(core_kb_load_string(buf, len, "buf", &kb, &err), BASE_OK);
    assert_non_null(kb);
    core_kb_free(kb);

    /* Errors name the given name and the line. */
    kb = NULL;
    const char *broken = "{\"topics\": [\n" GOOD("a") ",\n{\"id\": \"b\"" REQ("b") ", \"related\": [\"zz\"]}]}";
    assert_int_equal(core_kb_load_string(broken, strlen(broken), "mem.json", &kb, &err), BASE_ERR);
    assert_null(kb);
    assert_true(strncmp(err.text, "mem.json:3: ", 12) == 0);
    assert_true(tu_contains(err.text, "related topic \"zz\" does not exist"));
    const char *syntax = "{\"topics\": [\n  oops ]}";
    assert_int_equal(core_kb_load_string(syntax, strlen(syntax), "mem.json", &kb, &err), BASE_ERR);
    assert_true(strncmp(err.text, "mem.json:2:", 11) == 0);
    assert_int_equal(core_kb_load_string("", 0, "empty", &kb, &err), BASE_ERR);
    assert_true(strncmp(err.text, "empty:", 6) == 0);
    assert_null(kb);
}

/* The location of an error is also in the error's fields, not only in its
 * text: the syntax error with jansson's column, a topic's problem at the line
 * of its id, and no location for a problem of the whole base. */
static void test_error_location_fields(void **state)
{
    (void)state;
    core_kb *kb = NULL;
    base_error err;
    const char *syntax = "{\"topics\": [\n  oops ]}";
    assert_int_equal(core_kb_load_string(syntax, strlen(syntax), "mem.json", &kb, &err), BASE_ERR);
    assert_string_equal(err.file, "mem.json");
    assert_int_equal(err.line, 2);
    assert_true(err.column > 0);

    const char *bad_topic = "{\"topics\": [\n" GOOD("a") ",\n{\"id\": \"b\", \"title\": 3}]}";
    assert_int_equal(core_kb_load_string(bad_topic, strlen(bad_topic), "mem.json", &kb, &err), BASE_ERR);
    assert_string_equal(err.file, "mem.json");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 0);
    assert_true(strncmp(err.text, "mem.json:3: ", 12) == 0);

    const char *gap = "{\"topics\": [\n" GOOD("a") ",\n{\"id\": \"b\"" REQ("b") ", \"step\": 2}]}";
    assert_int_equal(core_kb_load_string(gap, strlen(gap), "mem.json", &kb, &err), BASE_ERR);
    assert_int_equal(err.line, 3); /* the step after the gap */
    assert_true(tu_contains(err.text, "step 1 is missing"));

    const char *none = "{\"bot\": {}}";
    assert_int_equal(core_kb_load_string(none, strlen(none), "mem.json", &kb, &err), BASE_ERR);
    assert_string_equal(err.text, "mem.json: no topics found");
    assert_string_equal(err.file, "");
    assert_int_equal(err.line, 0);
    assert_null(kb);
}

static void test_topic_lines_with_same_id_prefix(void **state)
{
    (void)state;
    /* Ids that are prefixes of one another, and an id mentioned in a related
     * list before its own topic, still point at the right lines. */
    const char *json = "{\"topics\": [\n"
                       "{\"id\": \"pay-range\"" REQ("pay-range") ", \"related\": [\"pay\"]},\n"
                       "\n"
                       "{\"id\": \"pay\"" REQ("pay") "},\n"
                       "{\"id\"  :\n  \"payday\"" REQ("payday") "}]}";
    core_kb *kb = tu_load_string(json);
    assert_int_equal(core_kb_find(kb, "pay-range")->line, 2);
    assert_int_equal(core_kb_find(kb, "pay")->line, 4);
    assert_int_equal(core_kb_find(kb, "payday")->line, 5);
    core_kb_free(kb);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_knowledge_loads),
        cmocka_unit_test(test_fixture_loads),
        cmocka_unit_test(test_good_directory),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_missing_field),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_unknown_field),
        cmocka_unit_test(test_duplicate_id_across_files),
        cmocka_unit_test(test_duplicate_id_same_file),
        cmocka_unit_test(test_duplicate_command),
        cmocka_unit_test(test_builtin_command_clash),
        cmocka_unit_test(test_related_missing),
        cmocka_unit_test(test_keyword_without_words),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_answer_line_length),
        cmocka_unit_test(test_keyword_weight),
        cmocka_unit_test(test_lexicon_values),
        cmocka_unit_test(test_lexicon_resource_switches),
        cmocka_unit_test(test_empty_and_missing_directory),
        cmocka_unit_test(test_load_string),
        cmocka_unit_test(test_topic_lines_with_same_id_prefix),
        cmocka_unit_test(test_duplicate_id_adjacent_line),
        cmocka_unit_test(test_builtin_alias_sources),
        cmocka_unit_test(test_step_gap_names_file_and_line),
        cmocka_unit_test(test_error_location_fields),
    };
    (void)argc;
    (void)argv;
    return cmocka_run_group_tests_name("kb_load", tests, NULL, NULL);
}
