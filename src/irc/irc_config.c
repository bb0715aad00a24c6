/* [irc.NAME] sections: every key, its default and its check, in one table. */
#include "irc/irc_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "irc/irc_sasl.h"

/* "#name": a channel name of at most 64 bytes, no spaces, commas or colons. */
static const char *check_channel(const char *v)
{
    if (!strchr("#&+!", v[0]) || !v[1] || conf_check_word(v + 1) || strlen(v) > 64)
        return "must be a channel name such as #careers";
    return NULL;
}

static const char *check_mechanism(const char *v)
{
    if (irc_sasl_mech_from_name(v, strlen(v)) == IRC_SASL_NONE)
        return "each must be EXTERNAL, ECDSA-NIST256P-CHALLENGE, SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN";
    return NULL;
}

/* ---- the channel list: "#name" or "#name key", separated by commas ------- */

static void channels_release(const conf_key *k, void *obj)
{
    irc_network_config *o = obj;
    for (size_t i = 0; o->channels && i < o->n_channels; i++) {
        free((char *)o->channels[i].name);
        base_secret_free((char *)o->channels[i].key); /* a channel key is a password */
    }
    free(o->channels);
    o->channels = NULL;
    o->n_channels = 0;
}

typedef struct item_list {
    char **items;
    size_t n;
} item_list;

/* The items come from the shared list type, then each is cut into its name
 * and key; a value that is good as a whole replaces the old one. */
static const char *channels_parse(const conf_key *k, const conf_config *cfg, const char *value, void *obj,
                                  char *buf, size_t cap)
{
    item_list list = {NULL, 0};
    const conf_key as_list = {k->name, &conf_list, NULL, 0, 0, NULL, offsetof(item_list, items),
                              offsetof(item_list, n), 0, NULL};
    const char *why = conf_list.parse(&as_list, cfg, value, &list, buf, cap);
    if (why)
        return why;
    if (list.n > IRC_SESSION_MAX_CHANNELS) {
        /* The session keeps no more: past this, channels would be dropped unsaid. */
        for (size_t i = 0; i < list.n; i++)
            base_secret_free(list.items[i]);
        free(list.items);
        snprintf(buf, cap, "at most %d channels (not %zu)", IRC_SESSION_MAX_CHANNELS, list.n);
        return buf;
    }
    irc_channel_conf *channels = calloc(list.n ? list.n : 1, sizeof *channels);
    if (!channels)
        why = "out of memory";
    size_t n = 0;
    for (size_t i = 0; !why && i < list.n; i++) {
        char *name = list.items[i], *space = strpbrk(name, " \t"), *key = NULL;
        if (space) {
            *space = '\0';
            key = space + 1;
            while (*key == ' ' || *key == '\t')
                key++;
        }
        if (check_channel(name) || (key && conf_check_word(key))) {
            /* The key is a secret: only the name is shown. */
            snprintf(buf, cap, "each channel is \"#name\" or \"#name key\", separated by commas (not \"%.64s\")",
                     name);
            why = buf;
            break;
        }
        channels[n].name = base_strdup(name);
        channels[n].key = key ? base_strdup(key) : NULL;
        if (!channels[n].name || (key && !channels[n].key)) {
            free((char *)channels[n].name);
            why = "out of memory";
            break;
        }
        n++;
    }
    for (size_t i = 0; i < list.n; i++)
        base_secret_free(list.items[i]);
    free(list.items);
    irc_network_config tmp = {.channels = channels, .n_channels = n};
    if (why) {
        channels_release(k, &tmp);
        return why;
    }
    channels_release(k, obj);
    ((irc_network_config *)obj)->channels = channels;
    ((irc_network_config *)obj)->n_channels = n;
    return NULL;
}

static const conf_type irc_channel_list = {1, channels_parse, channels_release};

/* ---- the table ------------------------------------------------------------ */

#define F(field) offsetof(irc_network_config, field), 0
#define L(field) offsetof(irc_network_config, field), offsetof(irc_network_config, n_##field)

static const conf_key irc_keys[] = {
    /* name, type, default, min, max, check, field, flags, help */
    {"host", &conf_string, NULL, 0, 0, conf_check_printable, F(host), CONF_REQUIRED,
     "the server's host name or address"},
    {"port", &conf_port, NULL, 0, 0, NULL, F(port), 0, "the server's port; default 6697 with tls, 6667 without"},
    {"tls", &conf_bool, "yes", 0, 0, NULL, F(tls), 0, "connect with TLS"},
    {"tls_verify", &conf_bool, "yes", 0, 0, NULL, F(tls_verify), 0,
     "verify the server's certificate and host name"},
    {"tls_ca_file", &conf_file, NULL, 0, 0, NULL, F(tls_ca_file), 0,
     "a CA file (PEM) to trust as well as the system's"},
    /* Its form (hex digits, colons or spaces, "sha256=") is net/tls.c's to check: --check-config asks it. */
    {"tls_fingerprint", &conf_string, NULL, 0, 0, NULL, F(tls_fingerprint), 0,
     "the server certificate's SHA-256 fingerprint to accept, whatever signed it"},
    {"tls_cert", &conf_file, NULL, 0, 0, NULL, F(tls_cert), 0,
     "a client certificate (PEM) for CertFP and SASL EXTERNAL; careerbot --print-certfp FILE shows its fingerprint"},
    {"tls_key", &conf_file, NULL, 0, 0, NULL, F(tls_key), 0, "the client certificate's key (PEM); default: in tls_cert"},
    {"nick", &conf_string, NULL, 0, 0, conf_check_nick, F(nick), 0, "the nick; default [bot] nick"},
    {"alt_nicks", &conf_list, NULL, 0, 0, conf_check_nick, L(alt_nicks), 0,
     "nicks to try in turn when the nick is taken"},
    {"username", &conf_string, NULL, 0, 0, conf_check_word, F(username), 0, "the user name; default the nick"},
    {"realname", &conf_string, NULL, 0, 0, conf_check_line, F(realname), 0,
     "the real name; default from the knowledge base"},
    {"password", &conf_string, NULL, 0, 0, NULL, F(password), CONF_SECRET, "the server password (PASS)"},
    {"sasl_user", &conf_string, NULL, 0, 0, NULL, F(sasl_user), 0,
     "the account for SASL (SCRAM, PLAIN, ECDSA-NIST256P-CHALLENGE)"},
    {"sasl_password", &conf_string, NULL, 0, 0, NULL, F(sasl_password), CONF_SECRET,
     "the password for SASL SCRAM and PLAIN"},
    {"sasl_ecdsa_key", &conf_file, NULL, 0, 0, NULL, F(sasl_ecdsa_key), 0,
     "a P-256 private key (PEM) for SASL ECDSA-NIST256P-CHALLENGE"},
    {"sasl_mechanisms", &conf_words, NULL, 0, 0, check_mechanism, L(sasl_mechanisms), 0,
     "SASL mechanisms in order of preference; default EXTERNAL (with tls_cert), ECDSA-NIST256P-CHALLENGE, "
     "SCRAM-SHA-512, SCRAM-SHA-256, PLAIN"},
    {"sasl_required", &conf_bool, "yes", 0, 0, NULL, F(sasl_required), 0,
     "leave a server where the SASL login failed"},
    {"allow_plaintext_credentials", &conf_bool, "no", 0, 0, NULL, F(allow_plaintext_credentials), 0,
     "allow passwords with tls = no (test servers only)"},
    {"ignore_sts", &conf_bool, "no", 0, 0, NULL, F(ignore_sts), 0,
     "ignore the servers' STS policies (test servers only)"},
    {"state_dir", &conf_dir, NULL, 0, 0, NULL, F(state_dir), 0,
     "where this network's STS policies are kept (irc-sts); default [bot] state_dir"},
    {"nickserv_password", &conf_string, NULL, 0, 0, NULL, F(nickserv_password), CONF_SECRET,
     "IDENTIFY to NickServ with it when SASL did not log in"},
    {"channels", &irc_channel_list, NULL, 0, 0, NULL, L(channels), 0,
     "channels to join (at most 64), each \"#name\" or \"#name key\""},
    {"listen", &conf_list, NULL, 0, 0, check_channel, L(listen), 0,
     "channels where confident unaddressed questions are answered"},
    {"answer_unknown_commands", &conf_list, NULL, 0, 0, check_channel, L(answer_unknown_commands), 0,
     "channels where an unknown !command gets a reply (elsewhere it is left to other bots)"},
    {"listen_min_score", &conf_number, "1.5", 0, 100, NULL, F(listen_min_score), 0,
     "the score an unaddressed question needs to be answered"},
    {"ignore", &conf_list, NULL, 0, 0, conf_check_word, L(ignore), 0, "nicks never answered (other bots)"},
    {"admins", &conf_words, NULL, 0, 0, conf_check_word, L(admins), 0,
     "services accounts (not nicks) that may give operator commands in a direct message"},
    {"command_prefixes", &conf_string, "!/", 0, 0, conf_check_prefixes, F(command_prefixes), 0,
     "characters that start a command; hints show the first (IRC clients swallow a leading /)"},
    {"flood_control", &conf_bool, "yes", 0, 0, NULL, F(flood_control), 0, "keep to the limits below"},
    {"flood_burst", &conf_number, "4", 1, 100, NULL, F(flood_burst), 0, "lines sent at once before pacing"},
    {"flood_rate", &conf_number, "1", 0.05, 1000, NULL, F(flood_rate), 0, "lines a second after the burst"},
    {"user_burst", &conf_number, "5", 1, 1000000, NULL, F(user_burst), 0,
     "questions one person may ask at once"},
    {"user_rate", &conf_number, "0.2", 0.001, 1000000, NULL, F(user_rate), 0,
     "questions a second one person may ask after the burst"},
    {"room_burst", &conf_number, "10", 1, 1000, NULL, F(room_burst), 0, "answers one channel may get at once"},
    {"room_rate", &conf_number, "0.5", 0.001, 1000, NULL, F(room_rate), 0,
     "answers a second one channel may get after the burst"},
    {"queue_max", &conf_whole, "60", 1, 100000, NULL, F(queue_max), 0, "lines waiting to be sent, at most"},
    {"ping_after", &conf_number, "60", 5, 3600, NULL, F(ping_after), 0, "seconds of silence before a PING"},
    {"ping_timeout", &conf_number, "60", 5, 3600, NULL, F(ping_timeout), 0,
     "seconds to wait for the PONG before reconnecting"},
    {"connect_timeout", &conf_number, "15", 1, 300, NULL, F(connect_timeout), 0,
     "seconds a connection may take to open"},
    {"reconnect_max", &conf_number, "300", 1, 86400, NULL, F(reconnect_max), 0,
     "the longest wait between reconnects, in seconds"},
    {"regain_interval", &conf_number, "60", 5, 86400, NULL, F(regain_interval), 0,
     "seconds between asks for the wanted nick while another client holds it"},
};

#undef F
#undef L

static int begin(const conf_config *cfg, const conf_section *s, void *obj)
{
    irc_network_config *o = obj;
    o->nick = base_strdup(cfg->nick);
    o->state_dir = cfg->state_dir ? base_strdup(cfg->state_dir) : NULL;
    return o->nick && (!cfg->state_dir || o->state_dir) ? BASE_OK : BASE_ERR;
}

/* Checks across keys, by what the section says (a key given with a bad value
 * is reported once, as bad, not again as missing). */
static int finish(const conf_config *cfg, const conf_section *s, void *obj, conf_problems *p)
{
    irc_network_config *o = obj;
    int rc = BASE_OK;
    int user = conf_find(s, "sasl_user") != NULL, pass = conf_find(s, "sasl_password") != NULL;
    int key = conf_find(s, "sasl_ecdsa_key") != NULL;
    if (user ? !pass && !key : pass)
        rc = conf_key_problem(p, cfg, s, user ? "sasl_user" : "sasl_password",
                              "sasl_user and sasl_password go together (or sasl_user and sasl_ecdsa_key)");
    if (key && !user)
        rc = conf_key_problem(p, cfg, s, "sasl_ecdsa_key", "needs sasl_user, the account it logs in to");
    static const char *const tls_only[] = {"tls_ca_file", "tls_fingerprint", "tls_cert", "tls_key"};
    for (size_t i = 0; i < sizeof tls_only / sizeof *tls_only; i++)
        if (!o->tls && conf_find(s, tls_only[i]))
            rc = conf_key_problem(p, cfg, s, tls_only[i], "needs tls = yes");
    if (conf_find(s, "tls_key") && !conf_find(s, "tls_cert"))
        rc = conf_key_problem(p, cfg, s, "tls_key", "needs tls_cert, the certificate it belongs to");
    /* A password over plaintext can be read by anyone on the path. */
    static const char *const secrets[] = {"password", "sasl_password", "nickserv_password"};
    for (size_t i = 0; !o->tls && !o->allow_plaintext_credentials && i < sizeof secrets / sizeof *secrets; i++)
        if (conf_find(s, secrets[i])) {
            rc = conf_key_problem(p, cfg, s, secrets[i],
                                  "would be sent in the clear with tls = no; use tls = yes (or, for a test "
                                  "server only, allow_plaintext_credentials = yes)");
            break;
        }
    if (o->port == 0)
        o->port = o->tls ? 6697 : 6667;
    return rc;
}

const conf_schema irc_network_schema = {"irc", irc_keys, sizeof irc_keys / sizeof *irc_keys,
                                        sizeof(irc_network_config), offsetof(irc_network_config, name), begin,
                                        finish};

int irc_network_config_read(const conf_config *cfg, const conf_section *s, irc_network_config *o,
                            base_error *err)
{
    return conf_section_load(cfg, s, &irc_network_schema, o, err);
}

void irc_network_config_free(irc_network_config *o)
{
    conf_section_free(&irc_network_schema, o);
    memset(o, 0, sizeof *o);
}
