/* Reply contents: HTML escaping, lists and titles, relations and mentions,
 * text cleaning, and transaction ids that stay the same for the same answer. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix_format.h"

static void test_html_escape(void **state)
{
    (void)state;
    char *s = matrix_html_escape("<b>\"Tom\" & 'Jerry'</b>", 23);
    assert_string_equal(s, "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
    free(s);
}

static void test_reply_html(void **state)
{
    (void)state;
    char *html = matrix_reply_html("Here are the five steps:\n1. Finish high school.\n2. Train <well>.\n"
                                   "Say /step 1 to /step 5 for any step.");
    assert_string_equal(html, "<p><strong>Here are the five steps:</strong></p><ol><li>Finish high school.</li>"
                              "<li>Train &lt;well&gt;.</li></ol><p>Say /step 1 to /step 5 for any step.</p>");
    free(html);

    html = matrix_reply_html("Step 2: complete a training program.\nMore & more.");
    assert_string_equal(html, "<p><strong>Step 2:</strong> complete a training program.</p><p>More &amp; more.</p>");
    free(html);

    /* A list that does not start at 1 keeps its numbers; blank lines vanish. */
    html = matrix_reply_html("3. third\n\n4. fourth\n");
    assert_string_equal(html, "<ol start=\"3\"><li>third</li><li>fourth</li></ol>");
    free(html);

    /* A colon with no list after it is not a title. */
    html = matrix_reply_html("Note: pay varies.");
    assert_string_equal(html, "<p>Note: pay varies.</p>");
    free(html);

    html = matrix_reply_html("");
    assert_string_equal(html, "");
    free(html);
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (!v)
        fail_msg("not JSON: %s (%s)", err.text, text);
    return v;
}

static void test_reply_content_in_a_room(void **state)
{
    (void)state;
    char *text = matrix_reply_content("The median salary was $34,970 <in 2013>.", "$question", "@alice:example.org",
                                      "Alice <A>", NULL);
    assert_non_null(text);
    json_t *c = parse(text);
    assert_string_equal(json_string_value(json_object_get(c, "msgtype")), "m.notice");
    /* The asker is pinged as Element does: a pill in the HTML, the name in the body. */
    assert_string_equal(json_string_value(json_object_get(c, "body")),
                        "Alice <A>: The median salary was $34,970 <in 2013>.");
    assert_string_equal(json_string_value(json_object_get(c, "format")), "org.matrix.custom.html");
    assert_string_equal(json_string_value(json_object_get(c, "formatted_body")),
                        "<p><a href=\"https://matrix.to/#/@alice:example.org\">Alice &lt;A&gt;</a>: "
                        "The median salary was $34,970 &lt;in 2013&gt;.</p>");
    json_t *rel = json_object_get(c, "m.relates_to");
    assert_string_equal(json_string_value(json_object_get(json_object_get(rel, "m.in_reply_to"), "event_id")),
                        "$question");
    assert_null(json_object_get(rel, "rel_type"));
    json_t *users = json_object_get(json_object_get(c, "m.mentions"), "user_ids");
    assert_int_equal(json_array_size(users), 1);
    assert_string_equal(json_string_value(json_array_get(users, 0)), "@alice:example.org");
    json_decref(c);
    free(text);
}

static void test_reply_content_direct_and_thread(void **state)
{
    (void)state;
    char *text = matrix_reply_content("hi", NULL, NULL, NULL, NULL);
    json_t *c = parse(text);
    assert_null(json_object_get(c, "m.relates_to"));
    assert_int_equal(json_array_size(json_object_get(json_object_get(c, "m.mentions"), "user_ids")), 0);
    json_decref(c);
    free(text);

    text = matrix_reply_content("hi", "$q", "@a:b", NULL, "$root");
    c = parse(text);
    assert_string_equal(json_string_value(json_object_get(c, "body")), "a: hi"); /* no name known: the localpart */
    assert_string_equal(json_string_value(json_object_get(c, "formatted_body")),
                        "<p><a href=\"https://matrix.to/#/@a:b\">a</a>: hi</p>");
    json_t *rel = json_object_get(c, "m.relates_to");
    assert_string_equal(json_string_value(json_object_get(rel, "rel_type")), "m.thread");
    assert_string_equal(json_string_value(json_object_get(rel, "event_id")), "$root");
    assert_true(json_is_true(json_object_get(rel, "is_falling_back")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(rel, "m.in_reply_to"), "event_id")), "$q");
    json_decref(c);
    free(text);
}

static void test_reply_pill_before_a_list(void **state)
{
    (void)state;
    char *text = matrix_reply_content("1. one\n2. two", "$q", "@bob:x", "Bob\nB", NULL);
    json_t *c = parse(text);
    assert_string_equal(json_string_value(json_object_get(c, "formatted_body")),
                        "<p><a href=\"https://matrix.to/#/@bob:x\">Bob B</a>:</p><ol><li>one</li><li>two</li></ol>");
    json_decref(c);
    free(text);
}

static void test_notice_content(void **state)
{
    (void)state;
    char *text = matrix_notice_content("plain <text>");
    json_t *c = parse(text);
    assert_string_equal(json_string_value(json_object_get(c, "msgtype")), "m.notice");
    assert_string_equal(json_string_value(json_object_get(c, "body")), "plain <text>");
    assert_null(json_object_get(c, "formatted_body"));
    assert_int_equal(json_object_size(c), 2);
    json_decref(c);
    free(text);
}

static void test_clean_text(void **state)
{
    (void)state;
    /* Invalid UTF-8 (a cut sequence, an overlong form, a surrogate) becomes
     * U+FFFD; controls but '\n' go; a tab becomes a space. */
    const char in[] = "ok\xC3\xA9 \xC3 x\xC0\xAF y\xED\xA0\x80 z\tq\x01\r\nnext \xF0\x9F\x98\x80";
    char *out = matrix_clean_text(in, sizeof in - 1);
    assert_string_equal(out, "ok\xC3\xA9 \xEF\xBF\xBD x\xEF\xBF\xBD\xEF\xBF\xBD y\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                             " z q\nnext \xF0\x9F\x98\x80");
    free(out);
    /* So a reply cut in the middle of a character still makes valid JSON. */
    char *content = matrix_reply_content("caf\xC3", "$q", NULL, NULL, NULL);
    assert_non_null(content);
    free(content);
}

static void test_txn_ids(void **state)
{
    (void)state;
    char a[MATRIX_TXN_MAX], b[MATRIX_TXN_MAX], c[MATRIX_TXN_MAX], d[MATRIX_TXN_MAX];
    matrix_txn_id(a, 'r', "!room:x", "$event1");
    matrix_txn_id(b, 'r', "!room:x", "$event1");
    assert_string_equal(a, b); /* the same answer, the same id: a retry never double-posts */
    matrix_txn_id(c, 'r', "!room:x", "$event2");
    assert_string_not_equal(a, c);
    matrix_txn_id(d, 'b', "!room:x", "$event1");
    assert_string_not_equal(a, d);
    matrix_txn_id(d, 'r', "!room:y", "$event1");
    assert_string_not_equal(a, d);
    matrix_txn_id(d, 'e', "!room:x", NULL);
    assert_true(strlen(d) > 8);
    for (const char *p = a; *p; p++)
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
    assert_true(strlen(a) < MATRIX_TXN_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_reply_html),
        cmocka_unit_test(test_reply_content_in_a_room),
        cmocka_unit_test(test_reply_content_direct_and_thread),
        cmocka_unit_test(test_notice_content),
        cmocka_unit_test(test_reply_pill_before_a_list),
        cmocka_unit_test(test_clean_text),
        cmocka_unit_test(test_txn_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
