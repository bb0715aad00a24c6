/* The unanswered log, for knowledge maintainers: every question the bot
 * declined or was unsure of, one JSON line each (time, network kind, the
 * question in normalised words, what was said of it and the closest
 * topics; who asked only when asked to). Opt-in ([bot] unanswered_log): it
 * stores what users wrote. --report-unanswered groups the lines by shared
 * words, so a maintainer sees what to add first. */
#ifndef APP_UNANSWERED_H
#define APP_UNANSWERED_H

#include <stdio.h>

#include "base/error.h"
#include "careerbot/bot.h"

/* The file stops growing at this size (one warning on stderr says so). */
#define APP_UNANSWERED_MAX_BYTES ((long)64 * 1024 * 1024)

typedef struct app_unanswered_log app_unanswered_log;

/* Opens path for appending (created with mode 0600). with_users: record the
 * nick or user id too. NULL on failure, with the reason in err. */
app_unanswered_log *app_unanswered_open(const char *path, int with_users, base_error *err);
void app_unanswered_close(app_unanswered_log *log);

/* A core_unanswered_cb: appends one line (ctx is the log). */
void app_unanswered_record(void *ctx, const core_unanswered *u);

/* Reads the log at path and prints its questions grouped by the word they
 * share most, biggest group first, to out. Words in stopwords (may be NULL)
 * do not group. Returns a process exit status (problems go to err). */
int app_unanswered_report(const char *path, const core_kb *stopwords_from, FILE *out, FILE *err);

#endif
