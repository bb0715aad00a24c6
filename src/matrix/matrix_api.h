/* Request bodies for the Matrix Client-Server API (v3) that the bot sends,
 * built as JSON text. Pure: no I/O. */
#ifndef MATRIX_API_H
#define MATRIX_API_H

/* The sync filter: only the event types the bot reads (messages, encryption,
 * its own membership), timeline_limit events per room, members lazy-loaded,
 * no presence, no ephemeral events, only m.direct from account data.
 * Caller frees; NULL on OOM. */
char *matrix_filter_json(int timeline_limit);

/* POST /login with m.login.password for user_id; device_id may be NULL (the
 * server picks one). Caller frees (it holds the password: wipe it). */
char *matrix_login_body(const char *user_id, const char *password, const char *device_id,
                        const char *device_name);

#endif
