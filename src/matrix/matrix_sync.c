/* Reading a /sync response into plain structs. Every field is checked for
 * its type before use; a malformed room, event or invite is skipped (and
 * counted) so one bad event never costs the rest of the batch. */
#include "matrix/matrix_sync.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ID 255            /* the spec's limit for room, event and user ids */
#define MAX_BATCH_TOKEN 4096
#define MAX_BODY 65536        /* a whole event is at most 64 KiB */
#define MAX_MESSAGES 2000     /* per batch; the filter asks for far fewer */
#define MAX_INVITES 500
#define MAX_ROOMS 20000
#define MAX_MENTIONS 100
#define MAX_NAME 256          /* a display name longer than this is not used */

/* What jansson spends on each kind of value (measured on 64-bit glibc,
 * rounded up), for matrix_json_cost. */
#define COST_OBJECT 240
#define COST_ARRAY 140
#define COST_STRING 64        /* plus its length */
#define COST_NUMBER 40
#define COST_MEMBER 48        /* each key in an object, plus its length */

typedef struct parser {
    matrix_sync *out;
    const char *own;
    int oom;
} parser;

static void skip(parser *p, const char *where, const char *why)
{
    if (p->out->skipped++ == 0)
        snprintf(p->out->first_skip, sizeof p->out->first_skip, "%.60s: %.90s", where, why);
}

static char *dup_str(parser *p, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        p->oom = 1;
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

static int push_str(parser *p, char ***list, size_t *n, const char *s)
{
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown) {
        p->oom = 1;
        return -1;
    }
    *list = grown;
    if (!(grown[*n] = dup_str(p, s)))
        return -1;
    (*n)++;
    return 0;
}

/* A Matrix identifier: its sigil, then printable ASCII without spaces (so it
 * is safe in a log line and a URL once escaped), at most 255 bytes. */
static int id_ok(const char *s, char sigil)
{
    if (!s || s[0] != sigil || !s[1])
        return 0;
    size_t i = 0;
    for (; s[i] && i <= MAX_ID; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return i <= MAX_ID;
}

/* The string at obj[key], or NULL when absent, not a string or too long. */
static const char *str_at(const json_t *obj, const char *key, size_t max)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) > max)
        return NULL;
    return json_string_value(v);
}

static int str_is(const json_t *obj, const char *key, const char *want)
{
    const char *v = str_at(obj, key, 256);
    return v && strcmp(v, want) == 0;
}

/* The events array at obj[key].events, or NULL (skipping a wrong type). */
static json_t *events_at(parser *p, const json_t *obj, const char *key, const char *where)
{
    json_t *section = json_object_get(obj, key);
    if (!section)
        return NULL;
    json_t *events = json_object_get(section, "events");
    if (!json_is_object(section) || (events && !json_is_array(events))) {
        skip(p, where, "not an object with an events list");
        return NULL;
    }
    return events;
}

static void message_free(matrix_message *m)
{
    free(m->room_id);
    free(m->event_id);
    free(m->sender);
    free(m->msgtype);
    free(m->body);
    free(m->formatted_body);
    for (size_t i = 0; i < m->n_mentions; i++)
        free(m->mentions[i]);
    free(m->mentions);
    free(m->thread_root);
    free(m->sender_name);
}

static void read_relation(const json_t *content, matrix_message *m, parser *p)
{
    const json_t *rel = json_object_get(content, "m.relates_to");
    if (json_object_get(content, "m.new_content"))
        m->is_edit = 1;
    if (!json_is_object(rel))
        return;
    const char *type = str_at(rel, "rel_type", 256);
    if (type && strcmp(type, "m.replace") == 0)
        m->is_edit = 1;
    const char *root = str_at(rel, "event_id", MAX_ID);
    if (type && strcmp(type, "m.thread") == 0 && id_ok(root, '$'))
        m->thread_root = dup_str(p, root);
}

static void read_mentions(const json_t *content, matrix_message *m, parser *p)
{
    const json_t *mentions = json_object_get(content, "m.mentions");
    const json_t *users = json_object_get(mentions, "user_ids");
    m->has_mentions = json_is_object(mentions);
    if (!json_is_array(users))
        return;
    size_t i;
    const json_t *u;
    json_array_foreach(users, i, u) {
        const char *id = json_string_value(u);
        if (m->n_mentions < MAX_MENTIONS && id_ok(id, '@'))
            push_str(p, &m->mentions, &m->n_mentions, id);
    }
}

static void read_message(parser *p, const char *room_id, const json_t *ev)
{
    matrix_sync *out = p->out;
    const char *event_id = str_at(ev, "event_id", MAX_ID), *sender = str_at(ev, "sender", MAX_ID);
    const json_t *content = json_object_get(ev, "content");
    if (!id_ok(event_id, '$') || !id_ok(sender, '@') || !json_is_object(content)) {
        skip(p, room_id, "a message without a valid event_id, sender or content");
        return;
    }
    if (out->n_messages >= MAX_MESSAGES) {
        skip(p, room_id, "too many messages in one batch");
        return;
    }
    const json_t *body = json_object_get(content, "body");
    if (body && (!json_is_string(body) || json_string_length(body) > MAX_BODY)) {
        skip(p, event_id, "body is not a string of at most 64 KiB");
        return;
    }
    matrix_message *grown = realloc(out->messages, (out->n_messages + 1) * sizeof *grown);
    if (!grown) {
        p->oom = 1;
        return;
    }
    out->messages = grown;
    matrix_message *m = &grown[out->n_messages++];
    memset(m, 0, sizeof *m);
    m->room_id = dup_str(p, room_id);
    m->event_id = dup_str(p, event_id);
    m->sender = dup_str(p, sender);
    const char *msgtype = str_at(content, "msgtype", 256);
    if (msgtype)
        m->msgtype = dup_str(p, msgtype);
    if (body)
        m->body = dup_str(p, json_string_value(body));
    const char *formatted = str_at(content, "formatted_body", 2 * MAX_BODY);
    if (formatted && str_is(content, "format", "org.matrix.custom.html"))
        m->formatted_body = dup_str(p, formatted);
    const json_t *ts = json_object_get(ev, "origin_server_ts");
    if (json_is_number(ts))
        m->origin_server_ts = json_number_value(ts);
    const json_t *unsig = json_object_get(ev, "unsigned");
    m->redacted = json_object_size(content) == 0 || (json_is_object(unsig) && json_object_get(unsig, "redacted_because"));
    read_relation(content, m, p);
    read_mentions(content, m, p);
}

/* The bot's own join (not a later profile change, which is also "join"). */
static int is_own_join(parser *p, const json_t *ev)
{
    if (!str_is(ev, "type", "m.room.member") || !str_is(ev, "state_key", p->own))
        return 0;
    if (!str_is(json_object_get(ev, "content"), "membership", "join"))
        return 0;
    const json_t *prev = json_object_get(json_object_get(ev, "unsigned"), "prev_content");
    if (!prev)
        prev = json_object_get(ev, "prev_content");
    return !str_is(prev, "membership", "join");
}

/* The display name in user's latest m.room.member event among state, then
 * timeline (later events win). found says whether there was one at all. */
static const char *member_name(const json_t *state, const json_t *timeline, const char *user, int *found)
{
    const json_t *lists[2] = {state, timeline};
    const char *name = NULL;
    *found = 0;
    for (int l = 0; l < 2; l++) {
        size_t i;
        const json_t *ev;
        json_array_foreach(lists[l], i, ev) {
            if (!str_is(ev, "type", "m.room.member") || !str_is(ev, "state_key", user))
                continue;
            const json_t *content = json_object_get(ev, "content");
            if (!str_is(content, "membership", "join"))
                continue;
            *found = 1;
            name = str_at(content, "displayname", MAX_NAME);
            if (name && !*name)
                name = NULL;
        }
    }
    return name;
}

#define MAX_MEMBERS 5000 /* per batch: lazy loading sends only the senders' */

/* Every other member's display name in events (joins only). */
static void read_members(parser *p, const char *room_id, const json_t *events)
{
    matrix_sync *out = p->out;
    size_t i;
    const json_t *ev;
    json_array_foreach(events, i, ev) {
        const char *user = str_at(ev, "state_key", MAX_ID);
        const json_t *content = json_object_get(ev, "content");
        if (!str_is(ev, "type", "m.room.member") || !id_ok(user, '@') || strcmp(user, p->own) == 0 ||
            !str_is(content, "membership", "join") || out->n_members >= MAX_MEMBERS)
            continue;
        matrix_member *grown = realloc(out->members, (out->n_members + 1) * sizeof *grown);
        if (!grown) {
            p->oom = 1;
            return;
        }
        out->members = grown;
        const char *name = str_at(content, "displayname", MAX_NAME);
        matrix_member *m = &grown[out->n_members++];
        m->room_id = dup_str(p, room_id);
        m->user_id = dup_str(p, user);
        m->name = name && *name ? dup_str(p, name) : NULL;
    }
}

static void push_room_text(parser *p, matrix_room_text **list, size_t *n, const char *room_id, const char *text)
{
    matrix_room_text *grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown) {
        p->oom = 1;
        return;
    }
    *list = grown;
    matrix_room_text *rt = &grown[(*n)++];
    rt->room_id = dup_str(p, room_id);
    rt->text = text ? dup_str(p, text) : NULL;
}

/* m.room.tombstone: the room has been upgraded; where to. */
static void read_tombstone(parser *p, const char *room_id, const json_t *ev)
{
    if (!str_is(ev, "type", "m.room.tombstone") || !str_is(ev, "state_key", ""))
        return;
    const char *to = str_at(json_object_get(ev, "content"), "replacement_room", MAX_ID);
    if (!id_ok(to, '!')) {
        skip(p, room_id, "a tombstone without a valid replacement_room");
        return;
    }
    if (p->out->n_tombstones < MAX_INVITES)
        push_room_text(p, &p->out->tombstones, &p->out->n_tombstones, room_id, to);
}

static void read_joined_room(parser *p, const char *room_id, const json_t *room)
{
    matrix_sync *out = p->out;
    if (!id_ok(room_id, '!') || !json_is_object(room)) {
        skip(p, "rooms.join", "a room with a bad id or not an object");
        return;
    }
    if (out->n_joined_rooms >= MAX_ROOMS) {
        skip(p, "rooms.join", "too many rooms");
        return;
    }
    push_str(p, &out->joined_rooms, &out->n_joined_rooms, room_id);
    int encrypted = 0;
    size_t i;
    const json_t *ev;
    json_t *state = events_at(p, room, "state", room_id);
    json_array_foreach(state, i, ev) {
        if (str_is(ev, "type", "m.room.encryption"))
            encrypted = 1;
        read_tombstone(p, room_id, ev);
    }
    const json_t *timeline = json_object_get(room, "timeline");
    json_t *events = events_at(p, room, "timeline", room_id);
    if (json_is_true(json_object_get(timeline, "limited")))
        push_str(p, &out->limited_rooms, &out->n_limited_rooms, room_id);
    size_t first = out->n_messages;
    json_array_foreach(events, i, ev) {
        const char *type = json_is_object(ev) ? str_at(ev, "type", 256) : NULL;
        if (!type) {
            skip(p, room_id, "an event that is not an object with a type");
            continue;
        }
        if (strcmp(type, "m.room.encryption") == 0)
            encrypted = 1;
        else if (strcmp(type, "m.room.encrypted") == 0 && !str_is(ev, "sender", p->own))
            encrypted = 1;
        else if (strcmp(type, "m.room.message") == 0)
            read_message(p, room_id, ev);
        else if (strcmp(type, "m.room.tombstone") == 0)
            read_tombstone(p, room_id, ev);
        else if (is_own_join(p, ev)) {
            for (size_t k = first; k < out->n_messages; k++)
                out->messages[k].before_own_join = 1;
            if (!out->n_own_join_rooms || strcmp(out->own_join_rooms[out->n_own_join_rooms - 1], room_id) != 0)
                push_str(p, &out->own_join_rooms, &out->n_own_join_rooms, room_id);
        }
        if (p->oom)
            return;
    }
    if (encrypted)
        push_str(p, &out->encrypted_rooms, &out->n_encrypted_rooms, room_id);
    read_members(p, room_id, state);
    read_members(p, room_id, events);
    int found;
    const char *own_name = member_name(state, events, p->own, &found);
    if (found)
        push_room_text(p, &out->own_names, &out->n_own_names, room_id, own_name);
    for (size_t k = first; k < out->n_messages && !p->oom; k++) {
        const char *name = member_name(state, events, out->messages[k].sender, &found);
        if (name)
            out->messages[k].sender_name = dup_str(p, name);
    }
}

static void read_invite(parser *p, const char *room_id, const json_t *room)
{
    matrix_sync *out = p->out;
    json_t *events = json_is_object(room) ? events_at(p, room, "invite_state", room_id) : NULL;
    if (!id_ok(room_id, '!') || !events) {
        skip(p, "rooms.invite", "an invite with a bad room id or no invite_state");
        return;
    }
    if (out->n_invites >= MAX_INVITES) {
        skip(p, "rooms.invite", "too many invites");
        return;
    }
    matrix_invite inv = {0};
    size_t i;
    const json_t *ev;
    const char *inviter = NULL;
    json_array_foreach(events, i, ev) {
        if (str_is(ev, "type", "m.room.encryption"))
            inv.encrypted = 1;
        const json_t *content = json_object_get(ev, "content");
        if (str_is(ev, "type", "m.room.member") && str_is(ev, "state_key", p->own) &&
            str_is(content, "membership", "invite") && id_ok(str_at(ev, "sender", MAX_ID), '@')) {
            inviter = str_at(ev, "sender", MAX_ID);
            inv.is_direct = json_is_true(json_object_get(content, "is_direct"));
        }
    }
    if (!inviter) {
        skip(p, room_id, "an invite without the m.room.member event that invites the bot");
        return;
    }
    matrix_invite *grown = realloc(out->invites, (out->n_invites + 1) * sizeof *grown);
    if (!grown) {
        p->oom = 1;
        return;
    }
    out->invites = grown;
    inv.room_id = dup_str(p, room_id);
    inv.inviter = dup_str(p, inviter);
    grown[out->n_invites++] = inv;
}

static void read_direct(parser *p, const json_t *content)
{
    matrix_sync *out = p->out;
    if (!json_is_object(content)) {
        skip(p, "m.direct", "content is not an object");
        return;
    }
    out->has_direct = 1;
    const char *user;
    const json_t *rooms;
    json_object_foreach((json_t *)content, user, rooms) {
        size_t i;
        const json_t *r;
        if (!json_is_array(rooms)) {
            skip(p, "m.direct", "a user's rooms are not a list");
            continue;
        }
        json_array_foreach(rooms, i, r) {
            const char *id = json_string_value(r);
            if (!id_ok(id, '!'))
                skip(p, "m.direct", "a room id that is not valid");
            else if (out->n_direct_rooms < MAX_ROOMS) /* duplicates are harmless: the reader keeps a set */
                push_str(p, &out->direct_rooms, &out->n_direct_rooms, id);
        }
    }
}

static void read_rooms(parser *p, const json_t *rooms)
{
    const char *id;
    json_t *room;
    if (!rooms)
        return;
    if (!json_is_object(rooms)) {
        skip(p, "rooms", "not an object");
        return;
    }
    static const char *const kinds[] = {"join", "invite", "leave"};
    for (int k = 0; k < 3; k++) {
        json_t *section = json_object_get(rooms, kinds[k]);
        if (section && !json_is_object(section)) {
            skip(p, kinds[k], "not an object");
            continue;
        }
        json_object_foreach(section, id, room) {
            if (k == 0)
                read_joined_room(p, id, room);
            else if (k == 1)
                read_invite(p, id, room);
            else if (id_ok(id, '!') && p->out->n_left_rooms < MAX_ROOMS)
                push_str(p, &p->out->left_rooms, &p->out->n_left_rooms, id);
            if (p->oom)
                return;
        }
    }
}

/* A string's length in bytes, from its opening quote at s[0]; the index past
 * its closing quote goes in *end (len when unterminated). */
static size_t string_span(const char *s, size_t len, size_t *end)
{
    size_t i = 1;
    while (i < len && s[i] != '"')
        i += s[i] == '\\' ? 2 : 1;
    *end = i < len ? i + 1 : len;
    return i - 1;
}

size_t matrix_json_cost(const char *json, size_t len, size_t limit)
{
    size_t cost = 0, i = 0;
    /* Whether the string that comes next is an object's key: after '{' or
     * after a ',' inside an object. A small stack of the open containers
     * says which; past its depth jansson refuses the text anyway. */
    char open[64];
    size_t depth = 0;
    int want_key = 0;
    while (i < len && cost <= limit) {
        char c = json[i];
        size_t end;
        switch (c) {
        case '{':
        case '[':
            cost += c == '{' ? COST_OBJECT : COST_ARRAY;
            if (depth < sizeof open)
                open[depth] = c;
            depth++;
            want_key = c == '{';
            i++;
            break;
        case '}':
        case ']':
            if (depth)
                depth--;
            want_key = 0;
            i++;
            break;
        case ',':
            want_key = depth && depth <= sizeof open && open[depth - 1] == '{';
            i++;
            break;
        case '"': {
            size_t n = string_span(json + i, len - i, &end);
            cost += (want_key ? COST_MEMBER : COST_STRING) + n;
            want_key = 0;
            i += end;
            break;
        }
        case ':':
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            i++;
            break;
        default:
            /* a number or a literal: one value, whatever its length */
            if (c != 't' && c != 'f' && c != 'n')
                cost += COST_NUMBER;
            /* At least one byte, whatever it is (a NUL too: strchr would
             * find the terminator and never move on). */
            do
                i++;
            while (i < len && json[i] && !strchr(",:]} \t\r\n", json[i]));
        }
    }
    return cost;
}

int matrix_sync_parse(const char *json, size_t len, const char *own_user_id, matrix_sync *out, base_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > MATRIX_SYNC_BODY_MAX || matrix_json_cost(json, len, MATRIX_SYNC_COST_MAX) > MATRIX_SYNC_COST_MAX) {
        out->too_large = 1;
        return base_error_set(err, "the response is larger than any batch this filter asks for (%zu KiB of JSON, "
                              "over %zu MiB once parsed)", len / 1024, MATRIX_SYNC_COST_MAX / (1024 * 1024));
    }
    json_error_t jerr;
    /* Integers as reals: a huge number is then a value, not a parse error
     * that would sink the whole batch. NUL inside strings is allowed for the
     * same reason (C strings simply end there). */
    json_t *root = json_loadb(json, len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return base_error_set(err, "not JSON (line %d, column %d: %s)", jerr.line, jerr.column, jerr.text);
    parser p = {out, own_user_id ? own_user_id : "", 0};
    const char *next = json_is_object(root) ? str_at(root, "next_batch", MAX_BATCH_TOKEN) : NULL;
    if (!next || !*next) {
        json_decref(root);
        return base_error_set(err, "no next_batch string in the response");
    }
    out->next_batch = dup_str(&p, next);
    read_rooms(&p, json_object_get(root, "rooms"));
    size_t i;
    const json_t *ev;
    json_t *account = events_at(&p, root, "account_data", "account_data");
    json_array_foreach(account, i, ev)
        if (!p.oom && str_is(ev, "type", "m.direct"))
            read_direct(&p, json_object_get(ev, "content"));
    json_decref(root);
    if (p.oom) {
        matrix_sync_free(out);
        return base_error_set(err, "out of memory reading a sync response");
    }
    return BASE_OK;
}

static void free_list(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

void matrix_sync_free(matrix_sync *s)
{
    free(s->next_batch);
    for (size_t i = 0; i < s->n_messages; i++)
        message_free(&s->messages[i]);
    free(s->messages);
    for (size_t i = 0; i < s->n_invites; i++) {
        free(s->invites[i].room_id);
        free(s->invites[i].inviter);
    }
    free(s->invites);
    free_list(s->encrypted_rooms, s->n_encrypted_rooms);
    free_list(s->joined_rooms, s->n_joined_rooms);
    free_list(s->left_rooms, s->n_left_rooms);
    free_list(s->limited_rooms, s->n_limited_rooms);
    free_list(s->direct_rooms, s->n_direct_rooms);
    free_list(s->own_join_rooms, s->n_own_join_rooms);
    for (size_t i = 0; i < s->n_own_names; i++) {
        free(s->own_names[i].room_id);
        free(s->own_names[i].text);
    }
    free(s->own_names);
    for (size_t i = 0; i < s->n_tombstones; i++) {
        free(s->tombstones[i].room_id);
        free(s->tombstones[i].text);
    }
    free(s->tombstones);
    for (size_t i = 0; i < s->n_members; i++) {
        free(s->members[i].room_id);
        free(s->members[i].user_id);
        free(s->members[i].name);
    }
    free(s->members);
    memset(s, 0, sizeof *s);
}
