/* Matcher throughput and knowledge-base load time.
 *
 *   bench_matcher shipped QUESTIONS.tsv [DIR]   the shipped knowledge base (or DIR)
 *   bench_matcher generated N             a generated base of N topics
 *
 * Prints questions per second, microseconds per question, load time and the
 * process's peak resident memory. One thread: the figures are per core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "careerbot/bot.h"
#include "careerbot/kb.h"
#include "core/matcher.h"

#define MAX_QUESTIONS 4096
#define MIN_SECONDS 1.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* Questions from a questions.tsv (kind TAB question TAB regex) or plain lines. */
static size_t read_questions(const char *path, char **out, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    char line[4096];
    size_t n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *q = line, *tab = strchr(line, '\t');
        if (tab) {
            q = tab + 1;
            char *tab2 = strchr(q, '\t');
            if (tab2)
                *tab2 = '\0';
        }
        out[n++] = strdup(q);
    }
    fclose(f);
    return n;
}

static core_kb *load_timed(const char *dir, int rounds, double *ms)
{
    core_kb *kb = NULL;
    base_error err;
    double best = 1e9;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        if (core_kb_load(dir, &kb, &err) != BASE_OK) {
            fprintf(stderr, "%s\n", err.text);
            exit(1);
        }
        core_matcher *m = core_matcher_new(kb, &err); /* loading includes building the index */
        double t = (now() - t0) * 1000;
        if (!m) {
            fprintf(stderr, "%s\n", err.text);
            exit(1);
        }
        core_matcher_free(m);
        if (t < best)
            best = t;
        if (r + 1 < rounds)
            core_kb_free(kb);
    }
    *ms = best;
    return kb;
}

static void run(const char *label, core_kb *kb, char **questions, size_t n, double load_ms)
{
    base_error err;
    core_matcher *m = core_matcher_new(kb, &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.text);
        exit(1);
    }
    core_match r;
    size_t done = 0, matched = 0;
    for (size_t i = 0; i < n; i++) /* warm the word cache like a running bot */
        core_matcher_match(m, questions[i], strlen(questions[i]), &r);
    double t0 = now(), elapsed;
    do {
        for (size_t i = 0; i < n; i++) {
            core_matcher_match(m, questions[i], strlen(questions[i]), &r);
            matched += r.kind != CORE_MATCH_NONE;
        }
        done += n;
        elapsed = now() - t0;
    } while (elapsed < MIN_SECONDS);
    printf("%s: %zu topics, %zu distinct questions, %zu matched per round\n", label, kb->n_topics, n,
           matched * n / done);
    printf("  %.0f questions/s, %.2f us/question, load+index %.2f ms, peak RSS %ld kB\n", done / elapsed,
           elapsed * 1e6 / done, load_ms, peak_rss_kb());
    core_matcher_free(m);
}

/* A pseudo-word from an index: syllables, so the stemmer sees real-ish text. */
static void make_word(unsigned v, char *out)
{
    static const char *syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "bar",
                                "den", "fil", "gor", "hun", "jas", "kel", "lum", "mor", "nis", "pra"};
    out[0] = '\0';
    for (int i = 0; i < 4; i++) {
        strcat(out, syl[v % 20]);
        v /= 20;
    }
}

static char *generate_kb(int topics, unsigned seed)
{
    static char dir[] = "/tmp/careerbot-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/topics.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    srand(seed);
    fprintf(f, "{\"lexicon\": {\"domain\": [\"coder\"]}, \"topics\": [\n");
    char w[4][64];
    for (int t = 0; t < topics; t++) {
        for (int k = 0; k < 4; k++)
            make_word((unsigned)rand() % 160000u, w[k]);
        fprintf(f,
                "%s{\"id\": \"t%d\", \"title\": \"Topic %d %s\", \"keywords\": ["
                "{\"phrase\": \"%s\", \"weight\": 1.5}, {\"phrase\": \"%s %s\", \"weight\": 1.0, "
                "\"synonyms\": [\"%s\"]}],\n \"examples\": [\"what about %s\"], "
                "\"answer\": \"About %s and %s: %s %s.\", \"source\": \"generated\"}\n",
                t ? "," : "", t, t, w[0], w[0], w[1], w[2], w[3], w[0], w[0], w[1], w[2], w[3]);
    }
    fprintf(f, "]}\n");
    fclose(f);
    return dir;
}

static void remove_kb(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/topics.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    static char *questions[MAX_QUESTIONS];
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "shipped") == 0) {
        size_t n = read_questions(argv[2], questions, MAX_QUESTIONS);
        double ms;
        core_kb *kb = load_timed(argc == 4 ? argv[3] : CAREERBOT_KNOWLEDGE_DIR, 20, &ms);
        run("shipped knowledge base", kb, questions, n, ms);
        core_kb_free(kb);
    } else if (argc == 3 && strcmp(argv[1], "generated") == 0) {
        int topics = atoi(argv[2]);
        if (topics < 1 || topics > 1000000) {
            fprintf(stderr, "topics must be 1..1000000\n");
            return 2;
        }
        char *dir = generate_kb(topics, 42);
        double ms;
        core_kb *kb = load_timed(dir, 3, &ms);
        /* Questions: a topic's words among filler, some misspelt, some unknown. */
        char w[64], w2[64], q[512];
        size_t n = 0;
        srand(7);
        for (; n < 1000; n++) {
            const core_topic *t = &kb->topics[rand() % topics];
            make_word((unsigned)rand() % 160000u, w2);
            snprintf(w, sizeof w, "%s", t->keywords[n % 2].phrases[0]);
            if (n % 5 == 0 && strlen(w) > 4)
                w[2] = 'q'; /* a typo */
            snprintf(q, sizeof q, "hey coder, what do you know about %s and maybe %s?", w, w2);
            questions[n] = strdup(q);
        }
        run("generated knowledge base", kb, questions, n, ms);
        core_kb_free(kb);
        remove_kb(dir);
    } else {
        fprintf(stderr, "usage: bench_matcher shipped QUESTIONS.tsv [DIR] | generated N\n");
        return 2;
    }
    for (size_t i = 0; i < MAX_QUESTIONS; i++)
        free(questions[i]);
    return 0;
}
