/* Keyword scoring over an inverted index (term -> phrases starting with it),
 * so the cost of a question grows with its words, not with the topics. */
#include "core/matcher.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lexer.h"
#include "core/text.h"

#define MAX_PHRASE_TERMS 8
#define MAX_HITS 256
#define PASSAGE_MIN_WORDS 2 /* shared words a passage needs when no domain word backs it */

typedef struct phrase {
    int keyword;          /* index into keywords */
    int n_terms;
    int terms[MAX_PHRASE_TERMS];
} phrase;

typedef struct keyword_ref {
    int topic;
    double weight;
    const char *label;    /* the keyword's main phrase, for /why */
} keyword_ref;

/* Compressed lists: for term t, items start[t] .. start[t + 1] - 1. */
typedef struct postings {
    int *start;
    int *items;
    float *weights;       /* passage postings only */
} postings;

typedef struct hit {
    int keyword;
    uint64_t positions;   /* bit i: question word i (mod 64) was used */
} hit;

/* Phrases that say something about the question rather than its topic:
 * follow-ups, off-topic phrases, and the words a conversation leans on. */
typedef enum signal_kind {
    SIGNAL_NEXT,
    SIGNAL_MORE,
    SIGNAL_OFFTOPIC,     /* multi-word off-topic phrases ("health insurance") */
    SIGNAL_ANAPHOR,      /* "it", "that": counts anywhere */
    SIGNAL_CONTINUATION, /* "and", "what about": only at the start */
    SIGNAL_QUESTION,     /* "what", "can": only at the start */
    SIGNAL_ORDINAL,      /* "second": value is the position */
    SIGNAL_LAST,
    SIGNAL_BOTH,
    SIGNAL_COMPARE,
    SIGNAL_SOCIAL,       /* small talk: value is the kind's index in the bot texts */
    SIGNAL_FILLER,       /* "please": nothing of its own */
    SIGNAL_PERSON,       /* "did you ...": only at the start */
} signal_kind;

typedef struct signal_phrase {
    signal_kind kind;
    int value;
    int n_terms;
    int terms[MAX_PHRASE_TERMS];
} signal_phrase;

/* A phrase that asks for a facet: a cue of a lexicon kind (topic -1), or
 * one of a topic's own facet cues. */
typedef struct cue_phrase {
    int kind;   /* lexicon facet kind, or -1 */
    int topic;  /* with kind -1: the topic and facet it belongs to */
    int facet;
    int n_terms;
    int terms[MAX_PHRASE_TERMS];
} cue_phrase;

struct core_matcher {
    const core_kb *kb;
    core_lexer *lex;
    keyword_ref *keywords;
    size_t n_keywords;
    phrase *phrases;
    size_t n_phrases;
    postings by_first_term; /* term -> phrases */
    postings signals_by_first_term; /* term -> signals */
    postings cues_by_first_term;    /* term -> cues */
    postings passages;      /* term -> topics whose texts use it, weight = idf */
    signal_phrase *signals;
    size_t n_signals;
    cue_phrase *cues;
    size_t n_cues;
    size_t n_terms;
    /* per-question scratch, reused */
    uint32_t stamp;
    uint32_t *keyword_stamp;
    uint32_t *topic_stamp;
    double *score;
    uint64_t *positions;
    int *touched;
    size_t n_touched;
    hit hits[MAX_HITS];
    size_t n_hits;
    uint64_t *signals_found; /* signal << 32 | word: where signals occur in the question */
    core_words words;
    int word_term[CORE_MAX_WORDS];
    unsigned word_flags[CORE_MAX_WORDS];
};

/* ---- building ------------------------------------------------------------ */

/* Turns a phrase into terms with the question's own normalisation, so that
 * "what's" in a keyword and in a question end up the same. */
static int phrase_terms(core_matcher *m, const char *text, unsigned flags, int *terms, int max)
{
    core_words *w = &m->words;
    core_text_words(text, strlen(text), w);
    if (w->n == 1 && (flags & CORE_TERM_KEYWORD))
        flags |= CORE_TERM_WORD; /* a keyword of one word: it names or hints at a topic on its own */
    int n = 0;
    for (size_t i = 0; i < w->n && n < max; i++) {
        int t = core_lexer_define(m->lex, w->word[i], w->len[i], flags);
        if (t < 0)
            return -1;
        terms[n++] = t;
    }
    return n;
}

static int add_keywords(core_matcher *m, base_error *err)
{
    const core_kb *kb = m->kb;
    size_t n_kw = 0, n_ph = 0;
    for (size_t i = 0; i < kb->n_topics; i++) {
        n_kw += kb->topics[i].n_keywords;
        for (size_t k = 0; k < kb->topics[i].n_keywords; k++)
            n_ph += kb->topics[i].keywords[k].n_phrases;
    }
    m->keywords = calloc(n_kw + 1, sizeof *m->keywords);
    m->phrases = calloc(n_ph + 1, sizeof *m->phrases);
    if (!m->keywords || !m->phrases)
        return base_error_set(err, "out of memory");
    for (size_t i = 0; i < kb->n_topics; i++) {
        const core_topic *t = &kb->topics[i];
        for (size_t k = 0; k < t->n_keywords; k++) {
            const core_keyword *kw = &t->keywords[k];
            keyword_ref *ref = &m->keywords[m->n_keywords];
            ref->topic = (int)i;
            ref->weight = kw->weight;
            ref->label = kw->phrases[0];
            for (size_t p = 0; p < kw->n_phrases; p++) {
                phrase *ph = &m->phrases[m->n_phrases];
                ph->keyword = (int)m->n_keywords;
                ph->n_terms = phrase_terms(m, kw->phrases[p], CORE_TERM_KEYWORD, ph->terms, MAX_PHRASE_TERMS);
                if (ph->n_terms < 0)
                    return base_error_set(err, "out of memory");
                for (int j = 0; j < ph->n_terms; j++)
                    if (core_lexer_note_topic(m->lex, ph->terms[j], (int)i) != 0)
                        return base_error_set(err, "out of memory");
                if (ph->n_terms > 0)
                    m->n_phrases++;
            }
            m->n_keywords++;
        }
    }
    return BASE_OK;
}

static int add_signal(core_matcher *m, const char *text, signal_kind kind, int value)
{
    if (kind == SIGNAL_OFFTOPIC && !strchr(text, ' '))
        return 0; /* single off-topic words are terms of their own */
    signal_phrase *grown = realloc(m->signals, (m->n_signals + 1) * sizeof *grown);
    if (!grown)
        return -1;
    m->signals = grown;
    signal_phrase *sp = &m->signals[m->n_signals];
    sp->kind = kind;
    sp->value = value;
    /* Follow-up phrases are ordinary words (a typo of "next" is corrected);
     * the conversation's little words are not typo targets. */
    unsigned flags = kind == SIGNAL_NEXT || kind == SIGNAL_MORE || kind == SIGNAL_OFFTOPIC ? 0 : CORE_TERM_SIGNAL;
    sp->n_terms = phrase_terms(m, text, flags, sp->terms, MAX_PHRASE_TERMS);
    if (sp->n_terms < 0)
        return -1;
    if (sp->n_terms > 0)
        m->n_signals++;
    return 0;
}

static int add_signals(core_matcher *m, const core_string_list *list, signal_kind kind)
{
    for (size_t i = 0; i < list->n; i++)
        if (add_signal(m, list->items[i], kind, 0) != 0)
            return -1;
    return 0;
}

static int add_all_signals(core_matcher *m, base_error *err)
{
    const core_lexicon *lx = &m->kb->lexicon;
    int rc = add_signals(m, &lx->follow_next, SIGNAL_NEXT) | add_signals(m, &lx->follow_more, SIGNAL_MORE) |
             add_signals(m, &lx->offtopic, SIGNAL_OFFTOPIC) | add_signals(m, &lx->anaphora, SIGNAL_ANAPHOR) |
             add_signals(m, &lx->continuations, SIGNAL_CONTINUATION) |
             add_signals(m, &lx->question_starts, SIGNAL_QUESTION) | add_signals(m, &lx->last, SIGNAL_LAST) |
             add_signals(m, &lx->both, SIGNAL_BOTH) | add_signals(m, &lx->compare, SIGNAL_COMPARE) |
             add_signals(m, &lx->fillers, SIGNAL_FILLER) | add_signals(m, &lx->person_talk, SIGNAL_PERSON);
    for (size_t i = 0; i < lx->n_ordinals; i++)
        for (size_t w = 0; w < lx->ordinals[i].n; w++)
            rc |= add_signal(m, lx->ordinals[i].words[w], SIGNAL_ORDINAL, (int)i + 1);
    const core_bot_texts *bt = &m->kb->texts;
    for (size_t i = 0; i < bt->n_social; i++)
        for (size_t w = 0; w < bt->social[i].n_phrases; w++)
            rc |= add_signal(m, bt->social[i].phrases[w], SIGNAL_SOCIAL, (int)i);
    return rc ? base_error_set(err, "out of memory") : BASE_OK;
}

static int add_cue(core_matcher *m, const char *text, int kind, int topic, int facet)
{
    cue_phrase *grown = realloc(m->cues, (m->n_cues + 1) * sizeof *grown);
    if (!grown)
        return -1;
    m->cues = grown;
    cue_phrase *c = &m->cues[m->n_cues];
    *c = (cue_phrase){kind, topic, facet, 0, {0}};
    c->n_terms = phrase_terms(m, text, 0, c->terms, MAX_PHRASE_TERMS);
    if (c->n_terms < 0)
        return -1;
    if (c->n_terms > 0)
        m->n_cues++;
    return 0;
}

static int add_cues(core_matcher *m, base_error *err)
{
    const core_lexicon *lx = &m->kb->lexicon;
    int rc = 0;
    for (size_t k = 0; k < lx->n_facet_kinds; k++)
        for (size_t c = 0; c < lx->facet_kinds[k].n_cues; c++)
            rc |= add_cue(m, lx->facet_kinds[k].cues[c], (int)k, -1, -1);
    for (size_t t = 0; t < m->kb->n_topics; t++) {
        const core_topic *tp = &m->kb->topics[t];
        for (size_t f = 0; f < tp->n_facets; f++)
            for (size_t c = 0; c < tp->facets[f].n_cues; c++)
                rc |= add_cue(m, tp->facets[f].cues[c], -1, (int)t, (int)f);
    }
    return rc ? base_error_set(err, "out of memory") : BASE_OK;
}

/* Every content word of a topic's texts becomes a passage term. */
static int define_passage_words(core_matcher *m, const char *text)
{
    if (!text)
        return 0;
    core_words *w = &m->words;
    core_text_words(text, strlen(text), w);
    for (size_t i = 0; i < w->n; i++)
        if (!core_lexer_is_stopword(m->lex, w->word[i], w->len[i]) &&
            core_lexer_define(m->lex, w->word[i], w->len[i], CORE_TERM_PASSAGE) < 0)
            return -1;
    return 0;
}

static int define_passages(core_matcher *m, base_error *err)
{
    for (size_t i = 0; i < m->kb->n_topics; i++) {
        const core_topic *t = &m->kb->topics[i];
        int rc = define_passage_words(m, t->title) | define_passage_words(m, t->answer) |
                 define_passage_words(m, t->details);
        for (size_t e = 0; e < t->n_examples; e++)
            rc |= define_passage_words(m, t->examples[e]);
        if (rc != 0)
            return base_error_set(err, "out of memory");
    }
    return BASE_OK;
}

/* Terms used by one topic's texts, each once. */
typedef struct term_set {
    uint32_t *seen; /* term -> stamp of the topic that last added it */
    uint32_t stamp;
    int *list;
    size_t n, cap;
} term_set;

static int collect_text_terms(core_matcher *m, const char *text, term_set *set)
{
    if (!text)
        return 0;
    core_words *w = &m->words;
    core_text_words(text, strlen(text), w);
    for (size_t i = 0; i < w->n; i++) {
        unsigned wf;
        int t = core_lexer_lookup(m->lex, w->word[i], w->len[i], &wf);
        if (t < 0 || (wf & CORE_WORD_STOP) || set->seen[t] == set->stamp)
            continue;
        if (set->n == set->cap) {
            size_t cap = set->cap ? set->cap * 2 : 256;
            int *grown = realloc(set->list, cap * sizeof *grown);
            if (!grown)
                return -1;
            set->list = grown;
            set->cap = cap;
        }
        set->seen[t] = set->stamp;
        set->list[set->n++] = t;
    }
    return 0;
}

static int collect_topic_terms(core_matcher *m, const core_topic *t, term_set *set, uint32_t stamp)
{
    set->stamp = stamp;
    set->n = 0;
    int rc = collect_text_terms(m, t->title, set) | collect_text_terms(m, t->answer, set) |
             collect_text_terms(m, t->details, set);
    for (size_t e = 0; e < t->n_examples; e++)
        rc |= collect_text_terms(m, t->examples[e], set);
    return rc;
}

static int build_passages(core_matcher *m, base_error *err)
{
    size_t nt = m->n_terms, n_topics = m->kb->n_topics;
    term_set set = {calloc(nt + 1, sizeof(uint32_t)), 0, NULL, 0, 0};
    int *df = calloc(nt + 1, sizeof *df);
    int *fill = calloc(nt + 1, sizeof *fill);
    size_t *first = calloc(n_topics + 1, sizeof *first); /* topic -> its slice of terms */
    int *terms = NULL;
    size_t n_all = 0, cap_all = 0;
    postings *p = &m->passages;
    p->start = calloc(nt + 2, sizeof *p->start);
    int ok = set.seen && df && fill && first && p->start;
    /* Collect each topic's terms once; count the topics of each term. */
    for (size_t i = 0; ok && i < n_topics; i++) {
        ok = collect_topic_terms(m, &m->kb->topics[i], &set, (uint32_t)i + 1) == 0;
        if (ok && n_all + set.n > cap_all) {
            size_t cap = (cap_all + set.n) * 2;
            int *grown = realloc(terms, cap * sizeof *grown);
            ok = grown != NULL;
            if (ok) {
                terms = grown;
                cap_all = cap;
            }
        }
        first[i] = n_all;
        for (size_t j = 0; ok && j < set.n; j++) {
            df[set.list[j]]++;
            terms[n_all++] = set.list[j];
        }
    }
    first[n_topics] = n_all;
    if (ok) {
        for (size_t t = 0; t < nt; t++)
            p->start[t + 1] = p->start[t] + df[t];
        p->items = malloc(((size_t)p->start[nt] + 1) * sizeof *p->items);
        p->weights = malloc(((size_t)p->start[nt] + 1) * sizeof *p->weights);
        ok = p->items && p->weights;
    }
    for (size_t i = 0; ok && i < n_topics; i++) {
        for (size_t j = first[i]; j < first[i + 1]; j++) {
            int t = terms[j];
            int at = p->start[t] + fill[t]++;
            p->items[at] = (int)i;
            p->weights[at] = (float)log(1.0 + (double)n_topics / df[t]);
        }
    }
    free(set.seen);
    free(set.list);
    free(df);
    free(fill);
    free(first);
    free(terms);
    return ok ? BASE_OK : base_error_set(err, "out of memory");
}

/* Phrases by their first term, so a question looks only at the phrases that
 * can start at one of its words: first[i] is phrase i's first term. */
static int index_by_first_term(postings *p, size_t n_terms, const int *first, size_t n)
{
    p->start = calloc(n_terms + 2, sizeof *p->start);
    p->items = malloc((n + 1) * sizeof *p->items);
    int *fill = calloc(n_terms + 1, sizeof *fill);
    if (!p->start || !p->items || !fill) {
        free(fill);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        p->start[first[i] + 1]++;
    for (size_t t = 0; t < n_terms; t++)
        p->start[t + 1] += p->start[t];
    for (size_t i = 0; i < n; i++)
        p->items[p->start[first[i]] + fill[first[i]]++] = (int)i;
    free(fill);
    return 0;
}

static int build_phrase_indexes(core_matcher *m, base_error *err)
{
    size_t most = m->n_phrases > m->n_signals ? m->n_phrases : m->n_signals;
    if (m->n_cues > most)
        most = m->n_cues;
    int *first = malloc((most + 1) * sizeof *first);
    int rc = first ? 0 : -1;
    for (size_t i = 0; !rc && i < m->n_phrases; i++)
        first[i] = m->phrases[i].terms[0];
    rc = rc ? rc : index_by_first_term(&m->by_first_term, m->n_terms, first, m->n_phrases);
    for (size_t i = 0; !rc && i < m->n_signals; i++)
        first[i] = m->signals[i].terms[0];
    rc = rc ? rc : index_by_first_term(&m->signals_by_first_term, m->n_terms, first, m->n_signals);
    for (size_t i = 0; !rc && i < m->n_cues; i++)
        first[i] = m->cues[i].terms[0];
    rc = rc ? rc : index_by_first_term(&m->cues_by_first_term, m->n_terms, first, m->n_cues);
    free(first);
    return rc ? base_error_set(err, "out of memory") : BASE_OK;
}

static int alloc_scratch(core_matcher *m, base_error *err)
{
    size_t nt = m->kb->n_topics;
    m->keyword_stamp = calloc(m->n_keywords + 1, sizeof *m->keyword_stamp);
    m->topic_stamp = calloc(nt, sizeof *m->topic_stamp);
    m->score = calloc(nt, sizeof *m->score);
    m->positions = calloc(nt, sizeof *m->positions);
    m->touched = calloc(nt, sizeof *m->touched);
    /* At most every signal that starts with a word's term, at every word. */
    size_t most = 0;
    for (size_t t = 0; t < m->n_terms; t++) {
        size_t n = (size_t)(m->signals_by_first_term.start[t + 1] - m->signals_by_first_term.start[t]);
        most = n > most ? n : most;
    }
    m->signals_found = malloc((CORE_MAX_WORDS * most + 1) * sizeof *m->signals_found);
    if (!m->keyword_stamp || !m->topic_stamp || !m->score || !m->positions || !m->touched || !m->signals_found)
        return base_error_set(err, "out of memory");
    return BASE_OK;
}

core_matcher *core_matcher_new(const core_kb *kb, base_error *err)
{
    core_matcher *m = calloc(1, sizeof *m);
    if (!m) {
        base_error_set(err, "out of memory");
        return NULL;
    }
    m->kb = kb;
    m->lex = core_lexer_new(&kb->lexicon, err);
    int ok = m->lex && add_keywords(m, err) == BASE_OK && add_all_signals(m, err) == BASE_OK &&
             add_cues(m, err) == BASE_OK && define_passages(m, err) == BASE_OK &&
             core_lexer_freeze(m->lex, err) == BASE_OK;
    if (ok) {
        m->n_terms = core_lexer_term_count(m->lex);
        ok = build_phrase_indexes(m, err) == BASE_OK && build_passages(m, err) == BASE_OK &&
             alloc_scratch(m, err) == BASE_OK;
    }
    if (!ok) {
        core_matcher_free(m);
        return NULL;
    }
    return m;
}

void core_matcher_free(core_matcher *m)
{
    if (!m)
        return;
    core_lexer_free(m->lex);
    free(m->keywords);
    free(m->phrases);
    free(m->by_first_term.start);
    free(m->by_first_term.items);
    free(m->signals_by_first_term.start);
    free(m->signals_by_first_term.items);
    free(m->cues_by_first_term.start);
    free(m->cues_by_first_term.items);
    free(m->passages.start);
    free(m->passages.items);
    free(m->passages.weights);
    free(m->signals);
    free(m->cues);
    free(m->keyword_stamp);
    free(m->topic_stamp);
    free(m->score);
    free(m->positions);
    free(m->touched);
    free(m->signals_found);
    free(m);
}

const core_kb *core_matcher_kb(const core_matcher *m)
{
    return m->kb;
}

/* ---- matching ------------------------------------------------------------- */

static int phrase_at(const core_matcher *m, const int *terms, int n_terms, size_t at)
{
    if (at + (size_t)n_terms > m->words.n)
        return 0;
    for (int j = 0; j < n_terms; j++)
        if (m->word_term[at + j] != terms[j])
            return 0;
    return 1;
}

/* Word i is the first of the question with its term (a known one). */
static int first_of_term(const core_matcher *m, size_t i)
{
    if (m->word_term[i] < 0)
        return 0;
    for (size_t j = 0; j < i; j++)
        if (m->word_term[j] == m->word_term[i])
            return 0;
    return 1;
}

static uint64_t span_bits(size_t at, int n)
{
    uint64_t bits = 0;
    for (int j = 0; j < n; j++)
        bits |= (uint64_t)1 << ((at + (size_t)j) % 64);
    return bits;
}

static void touch(core_matcher *m, int topic)
{
    if (m->topic_stamp[topic] == m->stamp)
        return;
    m->topic_stamp[topic] = m->stamp;
    m->score[topic] = 0;
    m->positions[topic] = 0;
    m->touched[m->n_touched++] = topic;
}

static void score_keywords(core_matcher *m)
{
    const postings *p = &m->by_first_term;
    for (size_t i = 0; i < m->words.n; i++) {
        int t = m->word_term[i];
        if (t < 0)
            continue;
        for (int at = p->start[t]; at < p->start[t + 1]; at++) {
            const phrase *ph = &m->phrases[p->items[at]];
            if (!phrase_at(m, ph->terms, ph->n_terms, i))
                continue;
            uint64_t bits = span_bits(i, ph->n_terms);
            const keyword_ref *kw = &m->keywords[ph->keyword];
            touch(m, kw->topic);
            m->positions[kw->topic] |= bits;
            if (m->keyword_stamp[ph->keyword] == m->stamp)
                continue; /* a keyword counts once however often it occurs */
            m->keyword_stamp[ph->keyword] = m->stamp;
            m->score[kw->topic] += kw->weight;
            if (m->n_hits < MAX_HITS)
                m->hits[m->n_hits++] = (hit){ph->keyword, bits};
        }
    }
}

/* Score of topic from keywords that used no word of the `taken` positions. */
static double own_score(const core_matcher *m, int topic, uint64_t taken)
{
    double s = 0;
    for (size_t i = 0; i < m->n_hits; i++)
        if (m->keywords[m->hits[i].keyword].topic == topic && !(m->hits[i].positions & taken))
            s += m->keywords[m->hits[i].keyword].weight;
    return s;
}

/* The three best-scoring topics of the question (score > 0), best first. */
static void keep_candidates(const core_matcher *m, core_match *out)
{
    out->n_candidates = 0;
    for (size_t i = 0; i < m->n_touched; i++) {
        int t = m->touched[i];
        double sc = m->score[t];
        if (sc <= 0)
            continue;
        size_t at = out->n_candidates < 3 ? out->n_candidates++ : 3;
        while (at > 0 && out->candidate_scores[at - 1] < sc) {
            if (at < 3) {
                out->candidates[at] = out->candidates[at - 1];
                out->candidate_scores[at] = out->candidate_scores[at - 1];
            }
            at--;
        }
        if (at < 3) {
            out->candidates[at] = &m->kb->topics[t];
            out->candidate_scores[at] = sc;
        }
    }
}

static void best_two(const core_matcher *m, int *best, int *second)
{
    *best = *second = -1;
    for (size_t i = 0; i < m->n_touched; i++) {
        int t = m->touched[i];
        if (*best < 0 || m->score[t] > m->score[*best] || (m->score[t] == m->score[*best] && t < *best)) {
            *second = *best;
            *best = t;
        } else if (*second < 0 || m->score[t] > m->score[*second] ||
                   (m->score[t] == m->score[*second] && t < *second)) {
            *second = t;
        }
    }
}

/* The topic whose texts share the most (idf-weighted) words with the
 * question; *hits is how many distinct question words it shares. */
static int passage_best(core_matcher *m, double *score, uint64_t *hits)
{
    /* Reuses the keyword scratch: passage scores replace keyword scores. */
    m->stamp++;
    m->n_touched = 0;
    for (size_t i = 0; i < m->words.n; i++) {
        int t = m->word_term[i];
        if (!first_of_term(m, i) || (core_lexer_term_flags(m->lex, t) & CORE_TERM_DOMAIN))
            continue;
        for (int at = m->passages.start[t]; at < m->passages.start[t + 1]; at++) {
            int topic = m->passages.items[at];
            touch(m, topic);
            m->score[topic] += m->passages.weights[at];
            m->positions[topic]++; /* not needed for passages: counts shared words instead */
        }
    }
    int best, second;
    best_two(m, &best, &second);
    *score = best >= 0 ? m->score[best] : 0;
    *hits = best >= 0 ? m->positions[best] : 0;
    return best;
}

static void record_signal(const signal_phrase *sp, size_t at, core_match *out)
{
    uint64_t bits = span_bits(at, sp->n_terms);
    switch (sp->kind) {
    case SIGNAL_NEXT:
    case SIGNAL_MORE:
        if (out->follow == CORE_FOLLOW_NONE)
            out->follow = sp->kind == SIGNAL_NEXT ? CORE_FOLLOW_NEXT : CORE_FOLLOW_MORE;
        out->signal_positions |= bits;
        break;
    case SIGNAL_OFFTOPIC:
        out->n_offtopic++;
        out->offtopic_positions |= bits;
        break;
    case SIGNAL_ANAPHOR:
        out->anaphor = 1;
        out->signal_positions |= bits;
        break;
    case SIGNAL_CONTINUATION:
        if (at == 0) {
            out->continuation = 1;
            out->signal_positions |= bits;
        }
        break;
    case SIGNAL_QUESTION:
        if (at == 0)
            out->question = 1;
        break;
    case SIGNAL_ORDINAL:
        /* "the 4th one": the one that is not "one" wins */
        if (out->ordinal <= 1)
            out->ordinal = sp->value;
        out->signal_positions |= bits;
        break;
    case SIGNAL_LAST:
        out->last = 1;
        out->signal_positions |= bits;
        break;
    case SIGNAL_BOTH:
        out->both = 1;
        out->signal_positions |= bits;
        break;
    case SIGNAL_COMPARE:
        out->compare = 1;
        break;
    case SIGNAL_FILLER:
        out->signal_positions |= bits;
        break;
    case SIGNAL_PERSON:
        if (at == 0)
            out->personal = 1;
        break;
    case SIGNAL_SOCIAL:
        out->social_positions |= bits; /* which kind it is, find_signals decides */
        break;
    }
}

/* "did you ever get certified, jess?": a comma, then one word and the end of
 * the line, calls someone by name. */
static int ends_with_a_name(const char *text, size_t len)
{
    while (len > 0 && strchr(" \t\r\n?!.", text[len - 1]))
        len--;
    size_t end = len;
    while (len > 0 && text[len - 1] != ' ' && text[len - 1] != ',')
        len--;
    if (len == end)
        return 0;
    size_t start = len;
    while (len > 0 && text[len - 1] == ' ')
        len--;
    return len > 0 && text[len - 1] == ',' && end - start <= 20;
}

/* Content words that are neither stop words nor part of a signal. */
static size_t free_words(const core_matcher *m, const core_match *out)
{
    size_t n = 0;
    for (size_t i = 0; i < m->words.n; i++) {
        if (i < 64 && (out->signal_positions & ((uint64_t)1 << i)))
            continue;
        if (!(m->word_flags[i] & CORE_WORD_STOP))
            n++;
    }
    return n;
}

/* Small talk only: every word is part of a small-talk phrase or a stop word. */
static int only_social(const core_matcher *m, const core_match *out)
{
    if (out->social < 0 || m->words.n > 64)
        return 0;
    for (size_t i = 0; i < m->words.n; i++) {
        if (out->social_positions & ((uint64_t)1 << i))
            continue;
        if (!(m->word_flags[i] & CORE_WORD_STOP))
            return 0;
    }
    return 1;
}

size_t core_matcher_residual(const core_matcher *m, const core_match *match, char *buf, size_t cap)
{
    size_t n = 0, from = 0;
    if (cap == 0)
        return 0;
    /* Only the small talk in front goes ("ok, and the pay?"): at the end and
     * in the middle the same words often belong to the question ("is the
     * pay good"). */
    while (from < m->words.n && from < 64 && (match->social_positions & ((uint64_t)1 << from)))
        from++;
    for (size_t i = from; i < m->words.n; i++) {
        size_t len = m->words.len[i];
        if (n + len + 2 > cap)
            break;
        if (n)
            buf[n++] = ' ';
        memcpy(buf + n, m->words.word[i], len);
        n += len;
    }
    buf[n] = '\0';
    return n;
}

static int bit_count(uint64_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* Small talk of several kinds: the kind whose phrases cover the most words
 * wins ("thanks, that helps" is thanks, not a call for help; "thanks, can
 * you help me?" is); on a tie the kind listed first ("ok bye" is a goodbye). */
#define SOCIAL_KINDS_MAX 32

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void find_signals(core_matcher *m, core_match *out)
{
    uint64_t social_bits[SOCIAL_KINDS_MAX] = {0};
    out->social = -1;
    /* Only the signals that start with a word's term are tried there. What
     * they found is recorded in the lexicon's order of signals, then of
     * words: the first follow-up or ordinal found wins. */
    const postings *p = &m->signals_by_first_term;
    size_t n_found = 0;
    for (size_t i = 0; i < m->words.n; i++) {
        int t = m->word_term[i];
        for (int at = t < 0 ? 0 : p->start[t]; t >= 0 && at < p->start[t + 1]; at++) {
            const signal_phrase *sp = &m->signals[p->items[at]];
            if (phrase_at(m, sp->terms, sp->n_terms, i))
                m->signals_found[n_found++] = (uint64_t)p->items[at] << 32 | i;
        }
    }
    qsort(m->signals_found, n_found, sizeof *m->signals_found, compare_u64);
    for (size_t k = 0; k < n_found; k++) {
        size_t f = (size_t)(m->signals_found[k] >> 32), i = (size_t)(m->signals_found[k] & 0xffffffffu);
        const signal_phrase *sp = &m->signals[f];
        /* each off-topic phrase counts once */
        if (sp->kind == SIGNAL_OFFTOPIC && k > 0 && m->signals_found[k - 1] >> 32 == f)
            continue;
        record_signal(sp, i, out);
        if (sp->kind == SIGNAL_SOCIAL && sp->value < SOCIAL_KINDS_MAX)
            social_bits[sp->value] |= span_bits(i, sp->n_terms);
    }
    int best = 0;
    for (int k = 0; k < SOCIAL_KINDS_MAX; k++) {
        int covered = bit_count(social_bits[k]);
        if (covered > best) {
            best = covered;
            out->social = k;
        }
    }
}

static void write_evidence(const core_matcher *m, int topic, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m->n_hits; i++) {
        const keyword_ref *kw = &m->keywords[m->hits[i].keyword];
        if (kw->topic != topic)
            continue;
        size_t need = strlen(kw->label) + (used ? 2 : 0);
        if (used + need + 1 > cap)
            break;
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", kw->label);
    }
}

static void read_words(core_matcher *m, const char *text, size_t len, core_match *out)
{
    core_text_words(text, len, &m->words);
    out->n_words = m->words.n;
    for (size_t i = 0; i < m->words.n; i++) {
        unsigned wf;
        int t = core_lexer_lookup(m->lex, m->words.word[i], m->words.len[i], &wf);
        m->word_term[i] = t;
        m->word_flags[i] = wf;
        unsigned tf = core_lexer_term_flags(m->lex, t);
        if (tf & CORE_TERM_DOMAIN)
            out->has_domain = 1;
        if (tf & CORE_TERM_OFFTOPIC) {
            out->n_offtopic++;
            if (i < 64)
                out->offtopic_positions |= (uint64_t)1 << i;
        }
        if (t < 0 && !(wf & CORE_WORD_KNOWN))
            out->n_unknown++;
        if (!(wf & CORE_WORD_STOP))
            out->n_content++;
    }
}

void core_matcher_match(core_matcher *m, const char *text, size_t len, core_match *out)
{
    const core_lexicon *lx = &m->kb->lexicon;
    memset(out, 0, sizeof *out);
    m->stamp++;
    m->n_touched = 0;
    m->n_hits = 0;
    read_words(m, text ? text : "", text ? len : 0, out);
    find_signals(m, out);
    out->social_only = only_social(m, out);
    out->n_free = free_words(m, out);
    out->personal |= ends_with_a_name(text, text ? len : 0);
    /* A line that ends with a question mark asks something, whatever its first word. */
    for (size_t i = text ? len : 0; i > 0 && !out->question; i--) {
        char c = text[i - 1];
        if (c == '?')
            out->question = 1;
        else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '!' && c != '.')
            break;
    }
    score_keywords(m);
    keep_candidates(m, out); /* before the penalties: what the words point at */
    /* What the question would be about without its off-topic words: "what
     * does a pharmacist earn?" asks about pay, so "and a coder?" can follow. */
    if (out->n_offtopic > 0) {
        int raw, raw_second;
        best_two(m, &raw, &raw_second);
        if (raw >= 0 && m->score[raw] >= lx->threshold * 0.5)
            out->aside = &m->kb->topics[raw];
    }
    /* Words the knowledge base has never seen ("coffee", "dentist") suggest the
     * question is about something else, unless a domain word says otherwise. */
    double penalty = out->n_offtopic * lx->offtopic_penalty +
                     (out->has_domain ? 0 : out->n_unknown * lx->unknown_penalty);
    for (size_t i = 0; i < m->n_touched; i++)
        m->score[m->touched[i]] -= penalty;

    int best, second;
    best_two(m, &best, &second);
    double top = best >= 0 ? m->score[best] : 0;
    double next = second >= 0 ? m->score[second] : 0;
    if (best >= 0 && top > 0) {
        out->candidate = &m->kb->topics[best];
        out->candidate_score = top;
    }
    /* A domain word backs a weak keyword: "coder pay?" is clear enough. */
    double needed = out->has_domain ? lx->threshold * 0.5 : lx->threshold;
    if (best >= 0 && top >= needed) {
        out->kind = CORE_MATCH_TOPIC;
        out->topic = &m->kb->topics[best];
        out->score = top;
        write_evidence(m, best, out->evidence, sizeof out->evidence);
        if (second >= 0 && next >= needed) {
            double own_second = own_score(m, second, m->positions[best]);
            double own_best = own_score(m, best, m->positions[second]);
            if (own_second >= lx->threshold && own_best >= lx->threshold)
                out->kind = CORE_MATCH_TWO;
            else if (next >= lx->clarify_ratio * top && own_second < lx->threshold)
                out->kind = CORE_MATCH_CLARIFY;
            if (out->kind != CORE_MATCH_TOPIC) {
                out->second = &m->kb->topics[second];
                out->second_score = next;
            }
        }
        return;
    }
    if (out->n_offtopic == 0) {
        double score;
        uint64_t hits;
        int passage = passage_best(m, &score, &hits);
        /* Without a domain word, two shared words are needed: one alone is
         * too often a coincidence ("best", "work"). */
        if (passage >= 0 && score > 0 && (out->has_domain || hits >= PASSAGE_MIN_WORDS)) {
            out->kind = CORE_MATCH_PASSAGE;
            out->topic = &m->kb->topics[passage];
            out->score = score;
            snprintf(out->evidence, sizeof out->evidence, "words of its text");
            return;
        }
        /* About the career, but about nothing in particular: "coders?" */
        const core_topic *fallback = lx->default_topic ? core_kb_find(m->kb, lx->default_topic) : NULL;
        if (fallback && out->has_domain) {
            out->kind = CORE_MATCH_PASSAGE;
            out->topic = fallback;
            out->score = lx->threshold * 0.5;
            snprintf(out->evidence, sizeof out->evidence, "a question about the career in general");
            return;
        }
    }
    out->kind = CORE_MATCH_NONE;
    out->score = top > 0 ? top : 0;
}

void core_matcher_pick_facet(const core_matcher *m, const core_topic *topic, core_facet_pick *out)
{
    out->facet = out->kind = -1;
    out->strength = out->clear = 0;
    out->positions = 0;
    size_t ti = (size_t)(topic - m->kb->topics);
    size_t n_kinds = m->kb->lexicon.n_facet_kinds;
    int kind_strength[64] = {0}, kind_longest[64] = {0};
    uint64_t kind_bits[64] = {0};
    int own_strength[64] = {0};
    uint64_t own_bits[64] = {0};
    if (ti >= m->kb->n_topics)
        return;
    /* Longer cues count more: "how long" is a clearer ask than "long". Each
     * cue counts once, where it first occurs; only the cues that start with
     * a term of the question are tried. */
    const postings *p = &m->cues_by_first_term;
    for (size_t first = 0; first < m->words.n; first++) {
        if (!first_of_term(m, first))
            continue;
        for (int at = p->start[m->word_term[first]]; at < p->start[m->word_term[first] + 1]; at++) {
            const cue_phrase *cp = &m->cues[p->items[at]];
            int mine = cp->kind < 0 && cp->topic == (int)ti && cp->facet < 64;
            if (!mine && (cp->kind < 0 || cp->kind >= 64))
                continue;
            for (size_t i = first; i < m->words.n; i++) {
                if (!phrase_at(m, cp->terms, cp->n_terms, i))
                    continue;
                uint64_t bits = span_bits(i, cp->n_terms);
                if (mine) {
                    own_strength[cp->facet] += cp->n_terms;
                    own_bits[cp->facet] |= bits;
                } else {
                    kind_strength[cp->kind] += cp->n_terms;
                    kind_bits[cp->kind] |= bits;
                    if (cp->n_terms > kind_longest[cp->kind])
                        kind_longest[cp->kind] = cp->n_terms;
                }
                break;
            }
        }
    }
    for (size_t f = 0; f < topic->n_facets && f < 64; f++) {
        const core_facet *fc = &topic->facets[f];
        int strength = own_strength[f];
        uint64_t bits = own_bits[f];
        if (fc->kind >= 0 && fc->kind < 64) {
            strength += kind_strength[fc->kind];
            bits |= kind_bits[fc->kind];
        }
        /* A topic's own cues outweigh a kind's general words. */
        if (own_strength[f])
            strength += 2;
        if (strength > out->strength) {
            out->strength = strength;
            out->facet = (int)f;
            out->kind = fc->kind;
            out->positions = bits;
            out->clear = own_strength[f] > 0 || (fc->kind >= 0 && fc->kind < 64 && kind_longest[fc->kind] >= 2);
        }
    }
    if (out->facet >= 0)
        return;
    for (size_t k = 0; k < n_kinds && k < 64; k++)
        if (kind_strength[k] > out->strength) {
            out->strength = kind_strength[k];
            out->kind = (int)k;
            out->positions = kind_bits[k];
        }
}

double core_matcher_score_without(const core_matcher *m, const core_topic *topic, uint64_t positions)
{
    size_t i = (size_t)(topic - m->kb->topics);
    if (i >= m->kb->n_topics || m->topic_stamp[i] != m->stamp)
        return 0;
    /* The keywords' own weights minus what the penalties took from every topic. */
    return own_score(m, (int)i, positions) - (own_score(m, (int)i, 0) - m->score[i]);
}

double core_matcher_last_score(const core_matcher *m, const core_topic *topic)
{
    size_t i = (size_t)(topic - m->kb->topics);
    if (i >= m->kb->n_topics || m->topic_stamp[i] != m->stamp)
        return 0;
    return m->score[i];
}
