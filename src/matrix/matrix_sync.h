/* A /sync response, read into plain structs: JSON text in, lists out. Pure
 * (no I/O), so it is unit-tested and fuzzed. Anything malformed inside the
 * response (wrong types, missing fields, oversized values) is skipped and
 * counted; only a response that is not JSON at all, or has no next_batch,
 * fails as a whole. */
#ifndef MATRIX_SYNC_H
#define MATRIX_SYNC_H

#include <stddef.h>

#include "base/error.h"

/* One m.room.message event from a joined room's timeline. */
typedef struct matrix_message {
    char *room_id;
    char *event_id;
    char *sender;
    char *msgtype;          /* NULL when content.msgtype is missing or not a string */
    char *body;             /* NULL when missing (e.g. redacted) */
    char *formatted_body;   /* only with format org.matrix.custom.html, else NULL */
    char **mentions;        /* content["m.mentions"].user_ids */
    size_t n_mentions;
    int has_mentions;       /* content["m.mentions"] is there (an object): it alone says who is
                               mentioned, even when empty */
    char *sender_name;      /* the sender's display name in this room, when this batch has the
                               member event (lazy-loaded members come with the timeline), or NULL */
    char *thread_root;      /* m.relates_to with rel_type m.thread: the root's event id */
    int is_edit;            /* m.relates_to rel_type m.replace */
    int redacted;           /* unsigned.redacted_because, or empty content */
    int before_own_join;    /* earlier in this timeline than the bot's own join: old history */
    double origin_server_ts;
} matrix_message;

/* An invite to the bot (rooms.invite), read from its stripped state. */
typedef struct matrix_invite {
    char *room_id;
    char *inviter;   /* sender of the m.room.member invite event for the bot */
    int is_direct;   /* content.is_direct of that event */
    int encrypted;   /* m.room.encryption in the invite state */
} matrix_invite;

/* A room id with a string about it (the bot's own display name there, the
 * room a tombstone points to). */
typedef struct matrix_room_text {
    char *room_id;
    char *text;      /* NULL: the bot's member event there has no displayname */
} matrix_room_text;

/* The budget for one parsed /sync response: the filter the bot sends asks
 * for a few dozen events per room, so far less than this is ever needed. A
 * response is measured before it is parsed (what its JSON would cost in
 * memory once parsed, counted value by value) and refused whole past the
 * budget, so a hostile or broken server cannot make one response cost
 * gigabytes. */
#define MATRIX_SYNC_BODY_MAX ((size_t)16 * 1024 * 1024)  /* bytes of JSON */
#define MATRIX_SYNC_COST_MAX ((size_t)96 * 1024 * 1024)  /* bytes once parsed, estimated */

/* A display name from an m.room.member event (join) in a room. */
typedef struct matrix_member {
    char *room_id;
    char *user_id;
    char *name;      /* NULL: the member has none */
} matrix_member;

typedef struct matrix_sync {
    char *next_batch;
    matrix_message *messages;   /* in timeline order, room by room */
    size_t n_messages;
    matrix_invite *invites;
    size_t n_invites;
    char **encrypted_rooms;     /* joined rooms with m.room.encryption or an encrypted event from someone else */
    size_t n_encrypted_rooms;
    char **joined_rooms;        /* every room under rooms.join */
    size_t n_joined_rooms;
    char **left_rooms;          /* rooms under rooms.leave */
    size_t n_left_rooms;
    char **limited_rooms;       /* timeline.limited: messages were left out of this batch */
    size_t n_limited_rooms;
    char **own_join_rooms;      /* rooms whose timeline holds the bot's own join */
    size_t n_own_join_rooms;
    matrix_room_text *own_names;/* the bot's display name per room, from its member event there */
    size_t n_own_names;
    matrix_room_text *tombstones;/* m.room.tombstone: the room was upgraded to text */
    size_t n_tombstones;
    matrix_member *members;     /* other people's display names, from the member events (lazy-loaded
                                   members come once per room: the caller keeps them) */
    size_t n_members;
    int has_direct;             /* m.direct account data came with this batch */
    char **direct_rooms;        /* every room id in it */
    size_t n_direct_rooms;
    size_t skipped;             /* malformed parts left out */
    char first_skip[160];       /* why the first one was left out, for the log */
    int too_large;              /* (also on failure) the response is over the budget */
} matrix_sync;

/* What text would cost in memory once parsed by jansson, estimated from its
 * values (objects, arrays, strings, numbers) without parsing it; the scan
 * stops once the estimate passes limit. */
size_t matrix_json_cost(const char *json, size_t len, size_t limit);

/* Parses a /sync response. own_user_id tells the bot's own events and
 * invites apart. On failure (not JSON, no next_batch, over the budget, out
 * of memory) out is left empty but for too_large, and err says why. */
int matrix_sync_parse(const char *json, size_t len, const char *own_user_id, matrix_sync *out, base_error *err);
void matrix_sync_free(matrix_sync *s);

#endif
