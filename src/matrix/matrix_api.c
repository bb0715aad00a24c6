/* JSON bodies of the requests the bot sends. */
#include "matrix/matrix_api.h"

#include <jansson.h>
#include <stdlib.h>

#include "base/str.h"

static char *dump(json_t *v)
{
    char *out = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    return out;
}

char *matrix_filter_json(int timeline_limit)
{
    /* The bot's own m.room.member join tells old history from new in a room
     * it has just joined (and its display name there); m.room.encryption
     * and m.room.encrypted tell it a room is encrypted; m.room.tombstone
     * that a room was upgraded. Nothing else is read, so nothing else is fetched. */
    return dump(json_pack(
        "{s:{s:[s]}, s:{s:[s]}, s:{s:{s:i, s:[s,s,s,s,s], s:b}, s:{s:[s,s,s], s:b}, s:{s:[s]}, s:{s:[s]}}}",
        "presence", "not_types", "*",
        "account_data", "types", "m.direct",
        "room",
        "timeline", "limit", timeline_limit, "types", "m.room.message", "m.room.encrypted", "m.room.encryption",
        "m.room.member", "m.room.tombstone", "lazy_load_members", 1,
        "state", "types", "m.room.encryption", "m.room.member", "m.room.tombstone", "lazy_load_members", 1,
        "ephemeral", "not_types", "*",
        "account_data", "not_types", "*"));
}

char *matrix_login_body(const char *user_id, const char *password, const char *device_id, const char *device_name)
{
    json_t *body = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}", "type", "m.login.password", "identifier", "type",
                             "m.id.user", "user", user_id, "password", password, "initial_device_display_name",
                             device_name ? device_name : "careerbot");
    char *out = NULL;
    if (body && (!device_id || json_object_set_new(body, "device_id", json_string(device_id)) == 0))
        out = json_dumps(body, JSON_COMPACT);
    /* jansson's copy of the password is freed unwiped: wipe it first. */
    json_t *pw = json_object_get(body, "password");
    if (json_is_string(pw))
        base_secret_wipe((char *)json_string_value(pw), json_string_length(pw));
    json_decref(body);
    return out;
}
