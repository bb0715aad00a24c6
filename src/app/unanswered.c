#include "app/unanswered.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/str.h"
#include "base/strmap.h"
#include "careerbot/kb.h"
#include "core/lexer.h"
#include "core/text.h"

#define REPORT_EXAMPLES 3
#define REPORT_LINE_MAX (64 * 1024)

struct app_unanswered_log {
    FILE *file;
    int with_users;
    int full; /* the file reached APP_UNANSWERED_MAX_BYTES */
};

app_unanswered_log *app_unanswered_open(const char *path, int with_users, base_error *err)
{
    /* 0600: the file holds what people wrote. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        base_error_set(err, "%s: cannot open the unanswered log: %s", path, strerror(errno));
        return NULL;
    }
    app_unanswered_log *log = calloc(1, sizeof *log);
    FILE *f = fdopen(fd, "a");
    if (!log || !f) {
        if (f)
            fclose(f);
        else
            close(fd);
        free(log);
        base_error_set(err, "%s: out of memory", path);
        return NULL;
    }
    log->file = f;
    log->with_users = with_users;
    return log;
}

void app_unanswered_close(app_unanswered_log *log)
{
    if (!log)
        return;
    fclose(log->file);
    free(log);
}

/* The question as the matcher reads it: lower-case words, one space apart. */
static char *normalised(const char *text, size_t len)
{
    core_words w;
    core_text_words(text, len, &w);
    char *out = malloc(w.n * (CORE_MAX_WORD_LEN + 1) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < w.n; i++) {
        if (n)
            out[n++] = ' ';
        memcpy(out + n, w.word[i], w.len[i]);
        n += w.len[i];
    }
    out[n] = '\0';
    return out;
}

void app_unanswered_record(void *ctx, const core_unanswered *u)
{
    app_unanswered_log *log = ctx;
    if (log->full)
        return;
    if (ftell(log->file) >= APP_UNANSWERED_MAX_BYTES) {
        log->full = 1;
        fprintf(stderr, "careerbot: the unanswered log is full (%ld bytes); no more questions are recorded\n",
                APP_UNANSWERED_MAX_BYTES);
        return;
    }
    const core_request *q = u->request;
    const core_reply *r = u->reply;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *question = normalised(q->text, q->len);
    json_t *line = json_object();
    json_t *candidates = json_array();
    if (!question || !line || !candidates) {
        free(question);
        json_decref(line);
        json_decref(candidates);
        return;
    }
    json_object_set_new(line, "time", json_string(stamp));
    json_object_set_new(line, "network", json_string(q->network_kind ? q->network_kind : "chat"));
    json_object_set_new(line, "kind", json_string(r->fallback ? "unsure" : core_reply_kind_name(r->kind)));
    json_object_set_new(line, "question", json_string(question));
    for (size_t i = 0; i < r->n_candidates; i++)
        json_array_append_new(candidates,
                              json_pack("{s:s, s:f}", "topic", r->candidates[i], "score", r->candidate_scores[i]));
    json_object_set_new(line, "candidates", candidates);
    json_t *user = log->with_users && q->user ? json_string(q->user) : NULL; /* NULL too when not UTF-8 */
    if (user)
        json_object_set_new(line, "user", user);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
    if (text) {
        fprintf(log->file, "%s\n", text);
        fflush(log->file);
    }
    free(text);
    free(question);
    json_decref(line);
}

/* ---- the report ------------------------------------------------------------ */

typedef struct entry {
    char *question;
    char *closest; /* best candidate topic, or NULL */
    const char *key; /* the word it is grouped by (owned by the words table) */
} entry;

typedef struct group {
    const char *key;
    size_t n;
    const char *examples[REPORT_EXAMPLES]; /* its first questions */
    const char *closest;  /* the topic that came closest most often */
    int closest_n;
} group;

static int is_stopword(const base_strmap *stop, const char *w, size_t n)
{
    int v;
    return stop && base_strmap_get(stop, w, n, &v);
}

/* Calls fn for every word of question that groups (not a stop word). */
typedef void (*word_cb)(void *ctx, const char *key, size_t n, const char *word, size_t word_len);

/* Words group by their stem ("pharmacist" and "pharmacists" together)
 * when the knowledge base's lexer is at hand. */
static void each_word(const char *question, const base_strmap *stop, core_lexer *lex, word_cb fn, void *ctx)
{
    for (const char *p = question; *p;) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t n = (size_t)(p - w);
        if (n == 0 || is_stopword(stop, w, n))
            continue;
        char stem[CORE_MAX_WORD_LEN + 1];
        if (lex && n <= CORE_MAX_WORD_LEN)
            fn(ctx, stem, core_lexer_stem(lex, w, n, stem, sizeof stem), w, n);
        else
            fn(ctx, w, n, w, n);
    }
}

typedef struct counting {
    base_strmap *counts;
    int failed;
} counting;

static void count_word(void *ctx, const char *w, size_t n, const char *word, size_t word_len)
{
    counting *c = ctx;
    int v = 0;
    base_strmap_get(c->counts, w, n, &v);
    if (base_strmap_put(c->counts, w, n, v + 1) != 0)
        c->failed = 1;
}

typedef struct choosing {
    const base_strmap *counts;
    char best[CORE_MAX_WORD_LEN + 1];  /* the key (a stem) */
    char shown[CORE_MAX_WORD_LEN + 1]; /* the word as written, to show */
    int best_count;
} choosing;

static void copy_word(char *dst, const char *w, size_t n)
{
    if (n > CORE_MAX_WORD_LEN)
        n = CORE_MAX_WORD_LEN;
    memcpy(dst, w, n);
    dst[n] = '\0';
}

static void choose_word(void *ctx, const char *w, size_t n, const char *word, size_t word_len)
{
    choosing *c = ctx;
    int v = 0;
    base_strmap_get(c->counts, w, n, &v);
    char key[CORE_MAX_WORD_LEN + 1];
    copy_word(key, w, n);
    if (v > c->best_count || (v == c->best_count && strcmp(key, c->best) < 0)) {
        c->best_count = v;
        memcpy(c->best, key, sizeof key);
        copy_word(c->shown, word, word_len);
    }
}

static int by_size(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->key, y->key);
}

static base_strmap *stopword_set(const core_kb *kb)
{
    if (!kb)
        return NULL;
    base_strmap *m = base_strmap_new(kb->lexicon.stopwords.n + 1);
    for (size_t i = 0; m && i < kb->lexicon.stopwords.n; i++)
        base_strmap_put(m, kb->lexicon.stopwords.items[i], strlen(kb->lexicon.stopwords.items[i]), 1);
    return m;
}

/* Reads the log's lines; returns how many entries were kept, or -1. */
static long read_entries(FILE *f, entry **out, size_t *skipped)
{
    entry *items = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        json_t *o = got < REPORT_LINE_MAX ? json_loadb(line, (size_t)got, 0, NULL) : NULL;
        const char *q = json_string_value(json_object_get(o, "question"));
        json_t *first = json_array_get(json_object_get(o, "candidates"), 0);
        const char *closest = json_string_value(json_object_get(first, "topic"));
        if (!q || !*q) {
            (*skipped)++;
            json_decref(o);
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            entry *grown = realloc(items, ncap * sizeof *grown);
            if (!grown) {
                json_decref(o);
                break;
            }
            items = grown;
            cap = ncap;
        }
        items[n].question = base_strdup(q);
        items[n].closest = closest ? base_strdup(closest) : NULL;
        items[n].key = NULL;
        n++;
        json_decref(o);
    }
    free(line);
    *out = items;
    return (long)n;
}

int app_unanswered_report(const char *path, const core_kb *kb, FILE *out, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "careerbot: %s: %s\n", path, strerror(errno));
        return 1;
    }
    entry *items = NULL;
    size_t skipped = 0;
    long got = read_entries(f, &items, &skipped);
    fclose(f);
    size_t n = got > 0 ? (size_t)got : 0;
    base_strmap *stop = stopword_set(kb);
    core_lexer *lex = kb ? core_lexer_new(&kb->lexicon, NULL) : NULL;
    counting counts = {base_strmap_new(256), 0};
    base_strmap *keys = base_strmap_new(64); /* word -> group index */
    base_strmap *closest_counts = base_strmap_new(64); /* "word\x1ftopic" -> times */
    group *groups = calloc(n + 1, sizeof *groups);
    char **key_words = calloc(n + 1, sizeof *key_words);
    size_t n_groups = 0;
    int status = 0;
    if (!counts.counts || !keys || !closest_counts || !groups || !key_words) {
        fprintf(err, "careerbot: out of memory\n");
        status = 1;
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (items[i].question)
            each_word(items[i].question, stop, lex, count_word, &counts);
    /* Each question joins the group of its most shared word. */
    for (size_t i = 0; i < n; i++) {
        choosing c = {counts.counts, "", "", 0};
        if (items[i].question)
            each_word(items[i].question, stop, lex, choose_word, &c);
        const char *word = c.best_count ? c.best : "(no words)";
        int g;
        if (!base_strmap_get(keys, word, strlen(word), &g)) {
            g = (int)n_groups;
            key_words[n_groups] = base_strdup(c.best_count ? c.shown : word); /* shown as first written */
            groups[n_groups] = (group){.key = key_words[n_groups] ? key_words[n_groups] : "?"};
            n_groups++;
            base_strmap_put(keys, word, strlen(word), g);
        }
        group *gr = &groups[g];
        if (gr->n < REPORT_EXAMPLES)
            gr->examples[gr->n] = items[i].question;
        gr->n++;
        items[i].key = gr->key;
        /* Counted per group and topic, so the most frequent one is known in one pass. */
        if (items[i].closest) {
            char pair[2 * CORE_MAX_WORD_LEN + 200];
            int len = snprintf(pair, sizeof pair, "%s\x1f%s", gr->key, items[i].closest);
            int v = 0;
            if (len > 0 && (size_t)len < sizeof pair) {
                base_strmap_get(closest_counts, pair, (size_t)len, &v);
                base_strmap_put(closest_counts, pair, (size_t)len, ++v);
                if (v > gr->closest_n) {
                    gr->closest_n = v;
                    gr->closest = items[i].closest;
                }
            }
        }
    }
    qsort(groups, n_groups, sizeof *groups, by_size);
    fprintf(out, "%s: %zu question%s in %zu group%s%s\n", path, n, n == 1 ? "" : "s", n_groups,
            n_groups == 1 ? "" : "s", skipped ? " (some lines were not questions and were left out)" : "");
    for (size_t g = 0; g < n_groups; g++) {
        fprintf(out, "%5zu  %s:", groups[g].n, groups[g].key);
        for (size_t e = 0; e < REPORT_EXAMPLES && e < groups[g].n; e++)
            fprintf(out, "%s \"%s\"", e ? "," : "", groups[g].examples[e]);
        if (groups[g].closest)
            fprintf(out, "; closest topic: %s", groups[g].closest);
        fprintf(out, "\n");
    }
    for (size_t i = 0; i < n_groups; i++)
        free(key_words[i]);
    free(key_words);
    free(groups);
    for (size_t i = 0; i < (got > 0 ? (size_t)got : 0); i++) {
        free(items[i].question);
        free(items[i].closest);
    }
    free(items);
    base_strmap_free(counts.counts);
    base_strmap_free(keys);
    base_strmap_free(closest_counts);
    base_strmap_free(stop);
    core_lexer_free(lex);
    return status;
}
