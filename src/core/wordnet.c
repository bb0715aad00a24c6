#include "core/wordnet.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strmap.h"

#ifndef CAREERBOT_WORDNET_DIR
#define CAREERBOT_WORDNET_DIR "/usr/share/wordnet"
#endif

const char *core_wordnet_dir(void)
{
    const char *dir = getenv("WNSEARCHDIR");
    return dir && *dir ? dir : CAREERBOT_WORDNET_DIR;
}

#ifdef CAREERBOT_HAVE_WORDNET

#define N_POS 4
#define MAX_WORD 40       /* longer lemmas are never question words */
#define CLOSE_TEXT 1024   /* bytes of members and definition given to is_close */
#define SCAN_BLOCK 65536  /* index files are read in blocks of this size; longer lines are skipped */
#define LINE_START 1024   /* first read of a data line; longer ones are read again whole */
#define LINE_MAX_LEN (1 << 20)
#define MARK_EVERY 32      /* index entries between two remembered ones */
#define FIND_STEP 4096      /* bytes read at a time when looking a word up */
#define BLOOM_BITS 65536
#define BLOOM_MASK (BLOOM_BITS - 1)

static const char *const pos_names[N_POS] = {"noun", "verb", "adj", "adv"};

/* A word that may be linked to a target through one synset; accepted once
 * the synset proves to be the word's own first sense. */
typedef struct candidate {
    char *word;
    int target;
    int next;          /* next candidate of the same word, or -1 */
    uint32_t offset;   /* the synset, in data.POS */
    uint32_t senses_most; /* the word's senses in its main part of speech */
    unsigned char pos; /* index into pos_names */
    unsigned char derived;
    unsigned char first_here; /* the synset is the word's first sense in pos */
    unsigned char main_pos;   /* the part of speech with the most senses; ties go to noun, verb, adj */
} candidate;

typedef struct sense {
    uint32_t n;        /* senses of a word in one part of speech; 0: none */
    uint32_t offset;   /* its first one */
} sense;

/* Every MARK_EVERY-th entry of an index file, for finding words again. */
typedef struct mark {
    uint64_t offset;   /* of its line */
    uint32_t name, len; /* its lemma, in the pool */
} mark;

typedef struct marks {
    mark *at;
    size_t n, cap;
    char *pool;
    size_t pool_len, pool_cap;
} marks;

typedef struct linker {
    const core_wordnet_query *q;
    const char *dir;
    base_strmap *targets;  /* target word -> index */
    base_strmap *by_word;  /* candidate word -> first candidate */
    candidate *cands;
    size_t n_cands, cap_cands;
    sense *first;          /* target * N_POS + pos -> its senses there */
    int index[N_POS], data[N_POS]; /* index.POS and data.POS, read with pread; -1 when not open */
    marks marks[N_POS];
    char *block;           /* SCAN_BLOCK bytes for the index files */
    uint64_t bloom[BLOOM_BITS / 64]; /* the words the current scan looks for */
    char *line, *line2;    /* a synset's line, and a synset it points to */
    size_t cap, cap2;
    base_error *err;
} linker;

static int open_file(const linker *l, const char *kind, int pos)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s.%s", l->dir, kind, pos_names[pos]) >= sizeof path)
        return -1;
    return open(path, O_RDONLY);
}

/* Next space-separated token of *p (up to end); NULL at the end. */
static const char *token(const char **p, const char *end, size_t *len)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\n' || *s == '\r'))
        s++;
    const char *t = s;
    while (s < end && *s != ' ' && *s != '\n' && *s != '\r')
        s++;
    *p = s;
    *len = (size_t)(s - t);
    return *len ? t : NULL;
}

static int is_plain_word(const char *w, size_t len)
{
    if (len < 3 || len > MAX_WORD)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (w[i] < 'a' || w[i] > 'z')
            return 0;
    return 1;
}

static int same_word(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        char c = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
        if (c != b[i])
            return 0;
    }
    return 1;
}

static int parse_uint(const char *t, size_t len, int base, unsigned long *out)
{
    if (!t || len == 0 || len > 10)
        return -1;
    char buf[11], *end;
    memcpy(buf, t, len);
    buf[len] = '\0';
    *out = strtoul(buf, &end, base);
    return *end == '\0' ? 0 : -1;
}

/* An index line after its lemma ("lemma pos synset_cnt p_cnt [ptr_symbol...]
 * sense_cnt tagsense_cnt offset..."): the number of senses and the first
 * synset's offset. Offsets are in sense order, the most frequent first. */
static int parse_entry(const char *p, const char *end, uint32_t *n_senses, uint32_t *offset)
{
    size_t len;
    unsigned long n, n_ptrs, off;
    const char *t;
    if (!token(&p, end, &len)) /* pos */
        return -1;
    t = token(&p, end, &len);
    if (parse_uint(t, len, 10, &n) != 0 || n == 0 || n > 1000)
        return -1;
    t = token(&p, end, &len);
    if (parse_uint(t, len, 10, &n_ptrs) != 0 || n_ptrs > 100)
        return -1;
    for (unsigned long i = 0; i < n_ptrs + 2; i++) /* the symbols, sense_cnt, tagsense_cnt */
        if (!token(&p, end, &len))
            return -1;
    t = token(&p, end, &len);
    if (parse_uint(t, len, 10, &off) != 0 || off > UINT32_MAX)
        return -1;
    *n_senses = (uint32_t)n;
    *offset = (uint32_t)off;
    return 0;
}

typedef int (*entry_fn)(linker *l, int pos, int value, uint32_t n_senses, uint32_t first);

/* Calls fn(l, ctx, line, end, offset) for each line of fd from offset on,
 * reading step bytes at a time, until fn returns non-zero (1: stop, -1: an
 * error) or the file ends. */
typedef int (*line_fn)(linker *l, void *ctx, const char *line, const char *end, uint64_t offset);

static int each_line(linker *l, int fd, uint64_t from, size_t step, line_fn fn, void *ctx)
{
    size_t kept = 0; /* bytes of an unfinished line at the start of the block */
    uint64_t at = from; /* the file offset of block[0] */
    for (;;) {
        size_t room = SCAN_BLOCK - kept;
        ssize_t n = pread(fd, l->block + kept, step < room ? step : room, (off_t)(at + kept));
        if (n <= 0)
            return BASE_OK;
        const char *p = l->block, *end = l->block + kept + (size_t)n, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
            int rc = fn(l, ctx, p, nl, at + (uint64_t)(p - l->block));
            if (rc)
                return rc < 0 ? BASE_ERR : BASE_OK;
            p = nl + 1;
        }
        kept = (size_t)(end - p);
        if (kept == SCAN_BLOCK) /* a line longer than the block: no index file */
            return BASE_OK;
        at += (uint64_t)(p - l->block);
        memmove(l->block, p, kept);
    }
}

/* Compares a lemma with a word as the index files are sorted: bytewise. */
static int lemma_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static uint32_t hash_word(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* A Bloom filter of the targets: most index lines are passed over after one
 * hash and two bit tests. */
static void bloom_add(uint64_t *bloom, const char *w, size_t len)
{
    uint32_t h = hash_word(w, len), h2 = h >> 16;
    bloom[(h & BLOOM_MASK) >> 6] |= (uint64_t)1 << (h & 63);
    bloom[(h2 & BLOOM_MASK) >> 6] |= (uint64_t)1 << (h2 & 63);
}

static int bloom_has(const uint64_t *bloom, const char *w, size_t len)
{
    uint32_t h = hash_word(w, len), h2 = h >> 16;
    return (bloom[(h & BLOOM_MASK) >> 6] >> (h & 63) & 1) && (bloom[(h2 & BLOOM_MASK) >> 6] >> (h2 & 63) & 1);
}

typedef struct scan_ctx {
    int pos;
    const base_strmap *map;
    entry_fn fn;
    size_t lines;
} scan_ctx;

static int add_mark(linker *l, int pos, const char *lemma, size_t len, uint64_t offset)
{
    marks *m = &l->marks[pos];
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        mark *grown = realloc(m->at, cap * sizeof *grown);
        if (!grown)
            return -1;
        m->at = grown;
        m->cap = cap;
    }
    if (m->pool_len + len > m->pool_cap) {
        size_t cap = m->pool_cap ? m->pool_cap * 2 : 16384;
        while (cap < m->pool_len + len)
            cap *= 2;
        char *grown = realloc(m->pool, cap);
        if (!grown)
            return -1;
        m->pool = grown;
        m->pool_cap = cap;
    }
    memcpy(m->pool + m->pool_len, lemma, len);
    m->at[m->n++] = (mark){offset, (uint32_t)m->pool_len, (uint32_t)len};
    m->pool_len += len;
    return 0;
}

/* One line of the first pass: every MARK_EVERY-th entry is remembered
 * for the lookups of the second, and the targets' entries go to fn. */
static int scan_line(linker *l, void *ctx, const char *p, const char *end, uint64_t offset)
{
    scan_ctx *c = ctx;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    size_t len = sp ? (size_t)(sp - p) : 0;
    int value;
    uint32_t n_senses, off;
    if (len == 0 || len > UINT16_MAX) /* the licence at the top starts with spaces */
        return 0;
    if (c->lines++ % MARK_EVERY == 0 && add_mark(l, c->pos, p, len, offset) != 0)
        return base_error_set(l->err, "out of memory");
    if (!bloom_has(l->bloom, p, len) || !base_strmap_get(c->map, p, len, &value) ||
        parse_entry(sp, end, &n_senses, &off) != 0)
        return 0;
    return c->fn(l, c->pos, value, n_senses, off) == BASE_OK ? 0 : -1;
}

/* Reads all of index.POS in blocks, line by line: a pass costs about a
 * millisecond a megabyte, where looking each word up would cost a binary
 * search through the file. */
static int scan_index(linker *l, int pos, const base_strmap *map, entry_fn fn)
{
    scan_ctx c = {pos, map, fn, 0};
    return each_line(l, l->index[pos], 0, SCAN_BLOCK, scan_line, &c);
}

typedef struct find_ctx {
    const char *word;
    size_t len;
    int value, pos;
    entry_fn fn;
    size_t lines;
} find_ctx;

static int find_line(linker *l, void *ctx, const char *p, const char *end, uint64_t offset)
{
    find_ctx *c = ctx;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    uint32_t n_senses, off;
    if (!sp || c->lines++ > MARK_EVERY)
        return 1;
    int cmp = lemma_cmp(p, (size_t)(sp - p), c->word, c->len);
    if (cmp > 0)
        return 1; /* past where it would be: not in this file */
    if (cmp < 0 || parse_entry(sp, end, &n_senses, &off) != 0)
        return cmp < 0 ? 0 : 1;
    return c->fn(l, c->pos, c->value, n_senses, off) == BASE_OK ? 1 : -1;
}

/* Looks word up in index.POS through the marks of the first pass: the
 * last mark at or before it, then the few lines after that mark. */
static int find_entry(linker *l, int pos, const char *word, size_t len, int value, entry_fn fn)
{
    const marks *m = &l->marks[pos];
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lemma_cmp(m->pool + m->at[mid].name, m->at[mid].len, word, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return BASE_OK; /* before the first entry */
    find_ctx c = {word, len, value, pos, fn, 0};
    return each_line(l, l->index[pos], m->at[lo - 1].offset, FIND_STEP, find_line, &c);
}

static int note_first_sense(linker *l, int pos, int target, uint32_t n_senses, uint32_t first)
{
    sense *s = &l->first[(size_t)target * N_POS + (size_t)pos];
    s->n = n_senses;
    s->offset = first;
    return BASE_OK;
}

/* A word's main part of speech is the one in which WordNet gives it the
 * most senses ("permit" is mostly a verb): a candidate counts when its
 * synset is the word's first sense there. */
static int check_first_sense(linker *l, int pos, int head, uint32_t n_senses, uint32_t first)
{
    for (int c = head; c >= 0; c = l->cands[c].next) {
        candidate *k = &l->cands[c];
        if (k->pos == pos)
            k->first_here = k->offset == first;
        if (n_senses > k->senses_most) {
            k->senses_most = n_senses;
            k->main_pos = (unsigned char)pos; /* looked up noun first: a tie keeps the earlier */
        }
    }
    return BASE_OK;
}

/* A parsed data line: "offset lex_filenum ss_type w_cnt word lex_id ...
 * p_cnt [symbol offset pos source/target]... [frames] | gloss". Words point
 * into the line; pointers stay unparsed until walked. */
#define MAX_MEMBERS 64
typedef struct synset {
    size_t n_words;
    const char *word[MAX_MEMBERS];
    size_t len[MAX_MEMBERS];
    const char *ptrs, *end; /* the pointer list, and the end of the line */
    unsigned long n_ptrs;
    const char *gloss;
    size_t gloss_len;
} synset;

/* Reads the line at offset of data.POS into *buf. Returns its length, or -1. */
static ssize_t read_line(int fd, uint32_t offset, char **buf, size_t *cap)
{
    size_t want = LINE_START;
    for (;;) {
        if (*cap < want + 1) {
            char *grown = realloc(*buf, want + 1);
            if (!grown)
                return -1;
            *buf = grown;
            *cap = want + 1;
        }
        ssize_t n = pread(fd, *buf, want, (off_t)offset);
        if (n <= 0)
            return -1;
        char *nl = memchr(*buf, '\n', (size_t)n);
        if (nl)
            return nl - *buf;
        if ((size_t)n < want || want >= LINE_MAX_LEN)
            return -1; /* the end of the file, or no line at all */
        want *= 4;
    }
}

static int read_synset(linker *l, int pos, uint32_t offset, char **buf, size_t *cap, synset *s)
{
    ssize_t n = read_line(l->data[pos], offset, buf, cap);
    if (n <= 0)
        return -1;
    const char *p = *buf, *end = *buf + n, *t;
    size_t len;
    unsigned long off, n_words;
    t = token(&p, end, &len);
    if (parse_uint(t, len, 10, &off) != 0 || off != offset || !token(&p, end, &len) || !token(&p, end, &len))
        return -1;
    t = token(&p, end, &len);
    if (parse_uint(t, len, 16, &n_words) != 0)
        return -1;
    s->n_words = 0;
    for (unsigned long i = 0; i < n_words; i++) {
        size_t id_len;
        if (!(t = token(&p, end, &len)) || !token(&p, end, &id_len)) /* word, lex_id */
            return -1;
        const char *paren = memchr(t, '(', len); /* an adjective's "(a)", "(p)", "(ip)" */
        if (paren)
            len = (size_t)(paren - t);
        if (s->n_words < MAX_MEMBERS) {
            s->word[s->n_words] = t;
            s->len[s->n_words++] = len;
        }
    }
    t = token(&p, end, &len);
    if (parse_uint(t, len, 10, &s->n_ptrs) != 0)
        return -1;
    s->ptrs = p;
    s->end = end;
    const char *bar = memchr(p, '|', (size_t)(end - p));
    s->gloss = bar ? bar + 1 : end;
    /* The definition only: the quoted examples that follow it bring in
     * words of every subject. */
    const char *quote = memchr(s->gloss, '"', (size_t)(end - s->gloss));
    s->gloss_len = (size_t)((quote ? quote : end) - s->gloss);
    return 0;
}

static int add_candidate(linker *l, const char *word, size_t len, int target, int pos, uint32_t offset, int derived)
{
    if (!is_plain_word(word, len) || !l->q->is_free(l->q->ctx, word, len))
        return BASE_OK;
    int head = -1;
    if (base_strmap_get(l->by_word, word, len, &head))
        for (int c = head; c >= 0; c = l->cands[c].next)
            if (l->cands[c].target == target && l->cands[c].pos == pos && l->cands[c].offset == offset)
                return BASE_OK;
    if (l->n_cands == l->cap_cands) {
        size_t cap = l->cap_cands ? l->cap_cands * 2 : 256;
        candidate *grown = realloc(l->cands, cap * sizeof *grown);
        if (!grown)
            return base_error_set(l->err, "out of memory");
        l->cands = grown;
        l->cap_cands = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return base_error_set(l->err, "out of memory");
    memcpy(copy, word, len);
    copy[len] = '\0';
    l->cands[l->n_cands] = (candidate){copy, target, head, offset, 0, (unsigned char)pos, (unsigned char)derived, 0, 0};
    if (base_strmap_put(l->by_word, word, len, (int)l->n_cands) != 0) {
        free(copy);
        return base_error_set(l->err, "out of memory");
    }
    l->n_cands++;
    return BASE_OK;
}

/* The synset's other one-word members and its definition, for is_close. */
static size_t close_text(const synset *s, size_t self, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i <= s->n_words; i++) {
        const char *w = i < s->n_words ? s->word[i] : s->gloss;
        size_t len = i < s->n_words ? s->len[i] : s->gloss_len;
        if (i == self || (i < s->n_words && !is_plain_word(w, len)))
            continue;
        for (size_t j = 0; j < len && n + 1 < cap; j++)
            out[n++] = w[j];
        if (n + 1 < cap)
            out[n++] = ' ';
    }
    out[n] = '\0';
    return n;
}

static int pos_of_char(char c)
{
    switch (c) {
    case 'n': return 0;
    case 'v': return 1;
    case 'a': case 's': return 2;
    case 'r': return 3;
    default: return -1;
    }
}

/* Derivationally related forms of the target's own member (pointers "+"
 * whose source is that member): the word at the other end, if it is free. */
static int add_derivations(linker *l, const synset *s, size_t self, int target)
{
    const char *p = s->ptrs;
    for (unsigned long i = 0; i < s->n_ptrs; i++) {
        size_t l1, l2, l3, l4;
        const char *sym = token(&p, s->end, &l1), *off = token(&p, s->end, &l2);
        const char *pc = token(&p, s->end, &l3), *st = token(&p, s->end, &l4);
        unsigned long offset, source_target;
        if (!sym || !off || !pc || !st)
            return BASE_OK;
        if (l1 != 1 || sym[0] != '+' || l3 != 1 || parse_uint(st, l4, 16, &source_target) != 0 ||
            (source_target >> 8) != self + 1 || parse_uint(off, l2, 10, &offset) != 0 || offset > UINT32_MAX)
            continue;
        int pos = pos_of_char(pc[0]);
        size_t other = (source_target & 0xFF) - 1; /* 0 (a whole synset) wraps and is skipped */
        synset t;
        if (pos < 0 || other >= MAX_MEMBERS || read_synset(l, pos, (uint32_t)offset, &l->line2, &l->cap2, &t) != 0 || other >= t.n_words)
            continue;
        if (add_candidate(l, t.word[other], t.len[other], target, pos, (uint32_t)offset, 1) != BASE_OK)
            return BASE_ERR;
    }
    return BASE_OK;
}

/* The candidates of one target's first sense in one part of speech. */
static int collect(linker *l, int target, int pos, uint32_t offset)
{
    const char *name = l->q->targets[target];
    size_t name_len = strlen(name), self = SIZE_MAX;
    synset s;
    if (read_synset(l, pos, offset, &l->line, &l->cap, &s) != 0)
        return BASE_OK; /* a damaged line: no links from it */
    for (size_t i = 0; i < s.n_words; i++)
        if (same_word(s.word[i], s.len[i], name, name_len))
            self = i;
    char text[CLOSE_TEXT];
    size_t n = close_text(&s, self, text, sizeof text);
    if (self == SIZE_MAX || !l->q->is_close(l->q->ctx, name, text, n))
        return BASE_OK;
    for (size_t i = 0; i < s.n_words; i++)
        if (i != self && add_candidate(l, s.word[i], s.len[i], target, pos, offset, 0) != BASE_OK)
            return BASE_ERR;
    return add_derivations(l, &s, self, target);
}

static int accepted(const candidate *c)
{
    return c->first_here && c->pos == c->main_pos;
}

/* Each word's link: synonyms before derived forms, then the first target
 * (the caller lists its strongest words first). */
static int emit(linker *l, size_t *n_links)
{
    for (size_t i = 0; i < l->n_cands; i++) {
        const candidate *c = &l->cands[i];
        int head;
        if (!accepted(c) || !base_strmap_get(l->by_word, c->word, strlen(c->word), &head) || head < 0)
            continue;
        const candidate *best = NULL;
        for (int k = head; k >= 0; k = l->cands[k].next) {
            const candidate *o = &l->cands[k];
            if (accepted(o) && (!best || o->derived < best->derived ||
                                (o->derived == best->derived && o->target < best->target)))
                best = o;
        }
        base_strmap_put(l->by_word, c->word, strlen(c->word), -1); /* linked: skip its other candidates */
        if (l->q->link(l->q->ctx, best->word, strlen(best->word), l->q->targets[best->target], best->derived) != 0)
            return base_error_set(l->err, "out of memory");
        (*n_links)++;
    }
    return BASE_OK;
}

static int run(linker *l, size_t *n_links)
{
    const core_wordnet_query *q = l->q;
    for (size_t i = 0; i < q->n_targets; i++) {
        if (base_strmap_put(l->targets, q->targets[i], strlen(q->targets[i]), (int)i) != 0)
            return base_error_set(l->err, "out of memory");
        bloom_add(l->bloom, q->targets[i], strlen(q->targets[i]));
    }
    for (int pos = 0; pos < N_POS; pos++) {
        if ((l->index[pos] = open_file(l, "index", pos)) < 0 || (l->data[pos] = open_file(l, "data", pos)) < 0)
            return base_error_set(l->err, "no WordNet database (index.%s, data.%s) in %s", pos_names[pos],
                                  pos_names[pos], l->dir);
        if (scan_index(l, pos, l->targets, note_first_sense) != BASE_OK)
            return BASE_ERR;
    }
    for (size_t t = 0; t < q->n_targets; t++) {
        const sense *ts = &l->first[t * N_POS];
        int main_pos = 0; /* the target's main part of speech only; ties go to noun, verb, adj */
        for (int pos = 1; pos < N_POS; pos++)
            if (ts[pos].n > ts[main_pos].n)
                main_pos = pos;
        if (ts[main_pos].n && collect(l, (int)t, main_pos, ts[main_pos].offset) != BASE_OK)
            return BASE_ERR;
    }
    for (size_t i = 0; i < l->n_cands; i++) {
        const candidate *c = &l->cands[i];
        int head;
        size_t len = strlen(c->word);
        if (!base_strmap_get(l->by_word, c->word, len, &head) || head != (int)i)
            continue; /* a word's candidates are checked together, from its last one */
        for (int pos = 0; pos < N_POS; pos++)
            if (find_entry(l, pos, c->word, len, head, check_first_sense) != BASE_OK)
                return BASE_ERR;
    }
    return emit(l, n_links);
}

int core_wordnet_link(const char *dir, const core_wordnet_query *query, size_t *n_links, base_error *err)
{
    linker l = {.q = query, .dir = dir, .err = err};
    *n_links = 0;
    l.targets = base_strmap_new(query->n_targets + 1);
    l.by_word = base_strmap_new(1024);
    l.first = calloc(query->n_targets * N_POS + 1, sizeof *l.first);
    l.block = malloc(SCAN_BLOCK);
    for (int pos = 0; pos < N_POS; pos++)
        l.index[pos] = l.data[pos] = -1;
    int rc = l.targets && l.by_word && l.first && l.block ? run(&l, n_links) : base_error_set(err, "out of memory");
    for (int pos = 0; pos < N_POS; pos++) {
        if (l.index[pos] >= 0)
            close(l.index[pos]);
        if (l.data[pos] >= 0)
            close(l.data[pos]);
        free(l.marks[pos].at);
        free(l.marks[pos].pool);
    }
    for (size_t i = 0; i < l.n_cands; i++)
        free(l.cands[i].word);
    free(l.cands);
    free(l.first);
    free(l.line);
    free(l.line2);
    free(l.block);
    base_strmap_free(l.targets);
    base_strmap_free(l.by_word);
    return rc;
}

#else /* built without WordNet */

int core_wordnet_link(const char *dir, const core_wordnet_query *query, size_t *n_links, base_error *err)
{
    (void)dir;
    (void)query;
    *n_links = 0;
    return base_error_set(err, "built without WordNet");
}

#endif
