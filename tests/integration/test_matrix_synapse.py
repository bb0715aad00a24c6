"""careerbot against Synapse, the reference Matrix homeserver.

Synapse (synapse_harness.py) runs on a free loopback port with a generated
config; the suite registers its users through the shared-secret admin API,
starts the real careerbot binary (CAREERBOT_BIN, default build/careerbot)
with a [matrix.NAME] section for it, and plays the people with a second
client that behaves as Element does: direct chats created with is_direct,
mentions with the display name in the body, a pill in formatted_body and
m.mentions, replies with and without a fallback, edits, threads, encrypted
rooms, kicks and invites, room upgrades, a token logged out behind the
bot's back, an account locked by the admin, restarts and kills in a burst,
and a burst that Synapse rate-limits (that class runs its own Synapse with
the default rate limits; the others raise them out of the way).

Synapse is installed by scripts/test into a virtual environment outside the
source tree. Without it the suite is skipped, unless CAREERBOT_REQUIRE_SYNAPSE
is set (scripts/test sets it), when it fails.

What Synapse cannot be made to do on demand stays with the fake homeserver
in test_matrix.py: 5xx answers, malformed JSON, a dropped long-poll, a
kept-alive connection closed right after an answer, huge bodies, a 429 whose
Retry-After and retry_after_ms disagree, a sync position the server forgets,
and a server that offers no password login.

Run: cd tests/integration && CAREERBOT_BIN=../../build/careerbot python3 -m unittest -v test_matrix_synapse
"""

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from synapse_harness import MatrixError, Synapse, q, synapse_python  # noqa: E402
from test_matrix import PAY, PAY_Q, Bot, careerbot_bin, wait_until  # noqa: E402

WAIT = 20.0
SERVER = None       # the Synapse with raised rate limits, shared by the classes below
COUNTER = [0]


def setUpModule():
    global SERVER
    if not os.access(synapse_python(), os.X_OK):
        if os.environ.get("CAREERBOT_REQUIRE_SYNAPSE"):
            raise RuntimeError("no Synapse at %s (scripts/test installs it)" % synapse_python())
        raise unittest.SkipTest("no Synapse at %s; scripts/test installs it" % synapse_python())
    SERVER = Synapse(raised=True).start()


def tearDownModule():
    if SERVER:
        SERVER.stop()


def unique(name):
    COUNTER[0] += 1
    return "%s%d" % (name, COUNTER[0])


class SynapseCase(unittest.TestCase):
    """One bot account and two people, fresh for each test."""

    server = None
    bot_display = "Career Bot"

    def setUp(self):
        if not os.access(careerbot_bin(), os.X_OK):
            self.skipTest("no careerbot binary at %s" % careerbot_bin())
        self.hs = self.server or SERVER
        self.folder = tempfile.mkdtemp(prefix="careerbot-synapse-")
        self.bot_password = "pw-" + unique("bot")
        self.me = self.hs.register(unique("careerbot"), password=self.bot_password, displayname=self.bot_display)
        self.alice = self.hs.register(unique("alice"), displayname="Alice Smith")
        self.bob = self.hs.register(unique("bob"), displayname="Bob")
        for person in (self.alice, self.bob):
            self.hs.unlimited(person)
            person.watch()
        self.bots = []
        self.expect_status = 0

    def tearDown(self):
        statuses = [bot.stop() for bot in self.bots if bot.proc]
        logs = "".join(bot.log() for bot in self.bots)
        for person in (self.alice, self.bob):
            person.stop()
        if os.environ.get("CAREERBOT_IT_KEEP"):
            print("kept", self.folder, self.hs.dir)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.assertNotIn(self.me.token, logs)
        self.assertNotIn(self.bot_password, logs)
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, logs)
        self.assertEqual(statuses, [self.expect_status] * len(statuses), "exit status after SIGTERM")

    # ---- the bot --------------------------------------------------------------------------

    def section(self, token=True, password=False, extra=""):
        text = "[matrix.syn]\nhomeserver = %s\nuser_id = %s\nsync_timeout = 5\n" % (self.hs.url, self.me.user_id)
        if token:
            text += "access_token = %s\n" % self.me.token
        if password:
            text += "password = %s\n" % self.bot_password
        return text + extra

    def start_bot(self, section=None, name="bot"):
        bot = Bot(self.folder, section or self.section(), name).start()
        self.bots.append(bot)
        # A first run says so after its first sync; a restart syncs live at once.
        wait_until(lambda: "first sync" in bot.log() or "access token checked" in bot.log()
                   or "logged in as" in bot.log() or bot.proc.poll() is not None, WAIT, "the bot to start")
        time.sleep(0.5)
        return bot

    def bot_joins(self, room, bot=None):
        wait_until(lambda: self.alice.members(room).get(self.me.user_id) == "join", WAIT, "the bot to join")
        # Its next sync carries the room: after it, new messages are live.
        time.sleep(1.0)

    def group_room(self, bot, **kw):
        room = self.alice.create_room(invite=[self.me.user_id, self.bob.user_id], name="coders", **kw)
        self.bob.join(room)
        self.bot_joins(room, bot)
        return room

    def replies(self, person, room):
        return person.messages(room, self.me.user_id)

    def wait_replies(self, person, room, count, timeout=WAIT):
        return wait_until(lambda: len(self.replies(person, room)) >= count and self.replies(person, room),
                          timeout, "%d repl%s from the bot" % (count, "y" if count == 1 else "ies"))

    def assert_quiet(self, person, room, count, seconds=2.0):
        time.sleep(seconds)
        got = self.replies(person, room)
        self.assertEqual(len(got), count, [r["content"].get("body") for r in got])

    def answered(self, reply):
        return reply["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")


class DirectChatTests(SynapseCase):
    def test_direct_chat_conversation_with_follow_ups(self):
        bot = self.start_bot()
        dm = self.alice.create_room(invite=[self.me.user_id], direct=True)
        self.bot_joins(dm, bot)
        # The bot records the chat in its own m.direct, as Element would.
        wait_until(lambda: dm in self.me.call("GET", "/user/%s/account_data/m.direct" % q(self.me.user_id))
                   .get(self.alice.user_id, []), WAIT, "m.direct to hold the chat")
        turns = [(PAY_Q, PAY), ("is that per year?", "yearly"), ("how do I become one?", "five steps"),
                 ("what is next?", "Step 1"), ("and after that?", "Step 2")]
        for i, (question, expected) in enumerate(turns):
            event = self.alice.send(dm, question)
            reply = self.wait_replies(self.alice, dm, i + 1)[i]["content"]
            self.assertIn(expected, reply["body"], question)
            self.assertNotIn("m.relates_to", reply)  # a direct chat needs no quote
            self.assertEqual(reply["msgtype"], "m.notice")
            # Each question answered is marked read.
            wait_until(lambda: event in self.alice.receipts(dm, self.me.user_id), WAIT, "a read receipt")
        self.assert_quiet(self.alice, dm, len(turns))

    def test_invite_from_someone_not_allowed_is_rejected(self):
        bot = self.start_bot(self.section(extra="allowed_inviters = %s\n" % self.alice.user_id))
        room = self.bob.create_room(invite=[self.me.user_id])
        wait_until(lambda: self.bob.members(room).get(self.me.user_id) == "leave", WAIT, "the invite rejected")
        member = self.bob.member_event(room, self.me.user_id)
        self.assertTrue(member["content"].get("reason"))
        bot.wait_log("rejecting the invite to %s from %s" % (room, self.bob.user_id))


class GroupRoomTests(SynapseCase):
    def test_mentions_as_element_writes_them(self):
        bot = self.start_bot()  # no display_name configured: the account's own is used
        room = self.group_room(bot)
        question = self.alice.mention(room, self.me.user_id, "Career Bot", "what does a medical coder earn?")
        reply = self.wait_replies(self.alice, room, 1)[0]
        content = reply["content"]
        self.assertIn(PAY, content["body"])
        self.assertEqual(self.answered(reply), question)
        self.assertEqual(content["m.mentions"]["user_ids"], [self.alice.user_id])
        self.assertIn('<a href="https://matrix.to/#/%s">Alice Smith</a>' % self.alice.user_id,
                      content["formatted_body"])
        self.assertTrue(content["body"].startswith("Alice Smith: "))
        # Element always sends m.mentions: empty, it mentions nobody.
        self.alice.send(room, "what does a medical coder earn?")
        self.alice.send(room, "careerbot: what does a medical coder earn?")
        self.alice.send(room, "!frobnicate")  # an unknown command is left to other bots
        self.assert_quiet(self.alice, room, 1)
        self.bob.send(room, "!salary")
        self.assertIn(PAY, self.wait_replies(self.bob, room, 2)[1]["content"]["body"])
        # The bot's name in this room, as an older client writes it (no m.mentions).
        self.me.set_state(room, "m.room.member", self.me.user_id,
                          {"membership": "join", "displayname": "Coder Helper"})
        time.sleep(1.0)
        self.bob.send(room, "Coder Helper: how long does training take?", no_mentions=True)
        self.wait_replies(self.bob, room, 3)
        # A question in a thread is answered in the thread.
        root = self.alice.send(room, "thread root")
        threaded = self.alice.send(room, "Career Bot: what does a medical coder earn?", mentions=[self.me.user_id],
                                   relates_to={"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                                               "m.in_reply_to": {"event_id": root}})
        reply = self.wait_replies(self.alice, room, 4)[3]["content"]
        self.assertEqual(reply["m.relates_to"]["rel_type"], "m.thread")
        self.assertEqual(reply["m.relates_to"]["event_id"], root)
        self.assertEqual(reply["m.relates_to"]["m.in_reply_to"]["event_id"], threaded)
        self.assert_quiet(self.alice, room, 4)

    def test_listen_room_answers_confident_questions_only(self):
        alias = unique("coders")
        room = self.alice.create_room(invite=[self.me.user_id], alias=alias)
        bot = self.start_bot(self.section(extra="listen = #%s:localhost\n" % alias))
        self.bot_joins(room, bot)
        bot.wait_log("listen room #%s:localhost is %s" % (alias, room))
        self.alice.send(room, "nice weather today")
        self.alice.send(room, "how much do medical coders make per year?")
        self.assertIn(PAY, self.wait_replies(self.alice, room, 1)[0]["content"]["body"])
        self.assert_quiet(self.alice, room, 1)

    def test_one_person_cannot_make_the_bot_spam(self):
        bot = self.start_bot(self.section(extra="user_burst = 2\nuser_rate = 0.01\n"))
        room = self.group_room(bot)
        for command in ["!salary", "!steps", "!source", "!about", "!help"]:
            self.alice.send(room, command)
        # Two answers and one "give me a moment" notice, then silence.
        replies = self.wait_replies(self.alice, room, 3)
        self.assert_quiet(self.alice, room, 3)
        self.assertIn("please give me a moment", replies[2]["content"]["body"])
        self.bob.send(room, "!salary")  # someone else is still answered
        self.assertIn(PAY, self.wait_replies(self.alice, room, 4)[3]["content"]["body"])

    def test_unknown_commands_where_asked(self):
        alias = unique("helpdesk")
        room = self.alice.create_room(invite=[self.me.user_id], alias=alias)
        bot = self.start_bot(self.section(extra="answer_unknown_commands = #%s:localhost\n" % alias))
        self.bot_joins(room, bot)
        bot.wait_log("#%s:localhost is" % alias)
        self.alice.send(room, "!frobnicate")
        self.assertIn("!help", self.wait_replies(self.alice, room, 1)[0]["content"]["body"])

    def test_replies_and_edits(self):
        bot = self.start_bot()
        room = self.group_room(bot)
        self.alice.send(room, "!salary")
        answer = self.wait_replies(self.alice, room, 1)[0]
        # A reply to the bot's message (Element mentions the replied-to sender).
        self.alice.reply(room, answer["event_id"], "is that per year?", self.me.user_id)
        self.assertIn("yearly", self.wait_replies(self.alice, room, 2)[1]["content"]["body"])
        # With the reply fallback older clients write.
        self.bob.reply(room, answer["event_id"], "what does a medical coder earn?", self.me.user_id,
                       fallback=True, quoted=answer["content"]["body"][:60])
        self.assertIn(PAY, self.wait_replies(self.alice, room, 3)[2]["content"]["body"])
        # An edit is never answered, even of a question.
        question = self.alice.mention(room, self.me.user_id, "Career Bot", "what is step 2?")
        self.wait_replies(self.alice, room, 4)
        self.alice.edit(room, question, "Career Bot: what is step 3?")
        self.assert_quiet(self.alice, room, 4)

    def test_encrypted_room_is_told_once(self):
        bot = self.start_bot()
        room = self.group_room(bot, encrypted=True)
        self.alice.send_encrypted(room)
        notice = self.wait_replies(self.alice, room, 1)[0]["content"]
        self.assertEqual(notice["msgtype"], "m.notice")
        self.assertIn("encrypt", notice["body"])
        self.bob.send_encrypted(room)
        self.assert_quiet(self.alice, room, 1)

    def test_old_history_is_not_answered_after_a_join(self):
        bot = self.start_bot()
        room = self.alice.create_room(name="history")
        old = [self.alice.send(room, "!salary") for _ in range(3)]
        self.alice.invite(room, self.me.user_id)
        self.bot_joins(room, bot)
        self.alice.send(room, "!steps")
        replies = self.wait_replies(self.alice, room, 1)
        self.assert_quiet(self.alice, room, 1)
        self.assertNotIn(self.answered(replies[0]), old)
        self.assertIn("five steps", replies[0]["content"]["body"])

    def test_kicked_and_invited_again(self):
        bot = self.start_bot()
        room = self.group_room(bot)
        self.alice.send(room, "!salary")
        self.wait_replies(self.alice, room, 1)
        self.alice.kick(room, self.me.user_id)
        bot.wait_log("left %s" % room)
        while_out = self.alice.send(room, "!steps")
        self.alice.invite(room, self.me.user_id)
        self.bot_joins(room, bot)
        self.alice.send(room, "!source")
        replies = self.wait_replies(self.alice, room, 2)
        self.assert_quiet(self.alice, room, 2)
        self.assertNotEqual(self.answered(replies[1]), while_out)

    def test_room_upgrade_is_followed(self):
        bot = self.start_bot()
        room = self.group_room(bot, public=True)
        new_room = self.alice.upgrade(room)
        wait_until(lambda: self.alice.members(new_room).get(self.me.user_id) == "join", WAIT,
                   "the bot to follow the upgrade")
        bot.wait_log("%s was upgraded to %s" % (room, new_room))
        time.sleep(1.0)
        self.alice.mention(new_room, self.me.user_id, "Career Bot", "what does a medical coder earn?")
        self.assertIn(PAY, self.wait_replies(self.alice, new_room, 1)[0]["content"]["body"])

    def test_server_notice_is_logged(self):
        bot = self.start_bot()
        self.hs.admin_call("/v1/send_server_notice", "POST", {
            "user_id": self.me.user_id,
            "content": {"msgtype": "m.server_notice", "body": "Scheduled maintenance tonight",
                        "server_notice_type": "m.server_notice.maintenance"}})
        bot.wait_log("server notice from @notices:localhost: Scheduled maintenance tonight", WAIT)


class AccountTests(SynapseCase):
    def test_token_logged_out_then_password_login_on_the_same_device(self):
        bot = self.start_bot(self.section(password=True))
        room = self.group_room(bot)
        with open(os.path.join(self.folder, "state", "matrix-syn", "state.json")) as f:
            device = json.load(f)["device_id"]
        self.assertEqual(device, self.me.device_id)
        self.me.call("POST", "/logout", {})  # behind the bot's back
        self.alice.send(room, "!salary")
        self.assertIn(PAY, self.wait_replies(self.alice, room, 1)[0]["content"]["body"])
        self.assertIn("logging in again", bot.log())
        with open(os.path.join(self.folder, "state", "matrix-syn", "state.json")) as f:
            self.assertEqual(json.load(f)["device_id"], device)
        devices = self.hs.admin_call("/v2/users/%s/devices" % q(self.me.user_id))["devices"]
        self.assertEqual([d["device_id"] for d in devices], [device])

    def test_token_logged_out_without_a_password_stops_cleanly(self):
        bot = self.start_bot()
        self.me.call("POST", "/logout", {})
        wait_until(lambda: bot.proc.poll() is not None, WAIT, "the bot to stop")
        self.assertEqual(bot.proc.returncode, 1)  # its only network stopped
        bot.proc = None
        bot.log_file.close()
        log = bot.log()
        self.assertIn("rejected the access token", log)
        self.assertIn("M_UNKNOWN_TOKEN", log)

    def test_bad_token_leaves_other_networks_running(self):
        bad = ("[matrix.bad]\nhomeserver = %s\nuser_id = %s\naccess_token = syt_wrong\nstate_dir = %s\n"
               % (self.hs.url, self.bob.user_id, os.path.join(self.folder, "bad-state")))
        bot = self.start_bot(self.section() + "\n" + bad)
        bot.wait_log("matrix.bad: the homeserver rejected the access token")
        room = self.group_room(bot)
        self.alice.send(room, "!salary")
        self.assertIn(PAY, self.wait_replies(self.alice, room, 1)[0]["content"]["body"])
        self.assertIsNone(bot.proc.poll())

    def test_locked_account_waits_long(self):
        bot = self.start_bot()
        self.hs.admin_call("/v2/users/%s" % q(self.me.user_id), "PUT", {"locked": True})
        bot.wait_log("the homeserver refuses this account (M_USER_LOCKED", WAIT)
        time.sleep(4)
        log = bot.log()
        self.assertEqual(log.count("refuses this account"), 1)
        self.assertNotIn("still refused", log)  # the first wait is at least half a minute
        self.assertIsNone(bot.proc.poll())

    def test_restart_and_kill_in_a_burst(self):
        bot = self.start_bot()
        room = self.group_room(bot)
        questions = ["!salary", "!steps", "!source", "!about", "!help", "!step 2"]
        asked = [self.alice.send(room, questions[0])]
        self.wait_replies(self.alice, room, 1)
        asked += [self.alice.send(room, q_) for q_ in questions[1:4]]
        bot.stop(signal.SIGKILL)
        self.bots.remove(bot)
        asked += [self.alice.send(room, q_) for q_ in questions[4:]]
        bot = self.start_bot(name="bot2")
        self.wait_replies(self.alice, room, 4)
        self.assertEqual(bot.stop(), 0)  # a clean stop in the middle of the burst
        self.bots.remove(bot)
        asked.append(self.alice.send(room, "!more"))
        self.start_bot(name="bot3")
        self.wait_replies(self.alice, room, len(asked), timeout=30)
        self.assert_quiet(self.alice, room, len(asked))
        # Every question answered exactly once: Synapse's transaction ids are the judge.
        answered = [self.answered(r) for r in self.replies(self.alice, room)]
        self.assertEqual(sorted(answered), sorted(asked))


class OperatorTests(SynapseCase):
    """admins = alice's user id: her direct-chat commands run the bot; bob's
    get what any unknown command gets."""

    def operator_bot(self, name="bot"):
        return self.start_bot(self.section(extra="admins = %s\n" % self.alice.user_id), name=name)

    def direct_chat(self, person, bot):
        dm = person.create_room(invite=[self.me.user_id], direct=True)
        wait_until(lambda: person.members(dm).get(self.me.user_id) == "join", WAIT, "the bot in the direct chat")
        time.sleep(1.0)  # its next sync carries the room: after it, messages are live
        return dm

    def command(self, person, dm, text):
        """Sends text and returns the body of the bot's next reply."""
        before = len(self.replies(person, dm))
        person.send(dm, text)
        return self.wait_replies(person, dm, before + 1)[before]["content"]["body"]

    def test_admin_joins_says_parts_and_parted_rooms_stay_parted(self):
        bot = self.operator_bot()
        dm = self.direct_chat(self.alice, bot)
        alias_name = unique("ops")
        room = self.bob.create_room(public=True, name="ops", alias=alias_name)
        alias = "#%s:%s" % (alias_name, self.me.user_id.split(":", 1)[1])
        self.assertEqual(self.command(self.alice, dm, "!join " + alias), "Joining %s." % alias)
        wait_until(lambda: self.bob.members(room).get(self.me.user_id) == "join", WAIT, "the bot to join by alias")
        bot.wait_log("operator command from %s: join %s" % (self.alice.user_id, alias))
        time.sleep(1.0)  # the bot's next sync carries the room
        before = len(self.replies(self.bob, room))
        self.alice.send(dm, "!say %s good morning, coders" % room)
        said = self.wait_replies(self.bob, room, before + 1)[before]["content"]
        self.assertEqual((said["body"], said["msgtype"]), ("good morning, coders", "m.notice"))
        self.assertIn("I am not in", self.command(self.alice, dm, "!say !nowhere:example.org hi"))
        self.assertEqual(self.command(self.alice, dm, "!part %s" % room), "Left %s." % room)
        wait_until(lambda: self.bob.members(room).get(self.me.user_id) == "leave", WAIT, "the bot to leave")
        # Parted: an invite is declined until an admin joins it again.
        self.bob.invite(room, self.me.user_id)
        bot.wait_log("declining the invite to %s" % room)
        wait_until(lambda: self.bob.members(room).get(self.me.user_id) == "leave", WAIT, "the invite declined")
        self.assertEqual(self.command(self.alice, dm, "!join %s" % room), "Joining %s." % room)
        wait_until(lambda: self.bob.members(room).get(self.me.user_id) == "join", WAIT, "the bot to join again")

    def test_ignore_status_and_help(self):
        bot = self.operator_bot()
        dm = self.direct_chat(self.alice, bot)
        bob_dm = self.direct_chat(self.bob, bot)
        self.assertIn(PAY, self.command(self.bob, bob_dm, PAY_Q))
        self.assertEqual(self.command(self.alice, dm, "!ignore " + self.bob.user_id),
                         "Ignoring %s." % self.bob.user_id)
        self.bob.send(bob_dm, PAY_Q)
        self.assert_quiet(self.bob, bob_dm, 1)
        self.assertEqual(self.command(self.alice, dm, "!unignore " + self.bob.user_id),
                         "No longer ignoring %s." % self.bob.user_id)
        self.assertIn(PAY, self.command(self.bob, bob_dm, PAY_Q))
        status = self.command(self.alice, dm, "!status")
        self.assertIn("matrix.syn: connected since", status)
        self.assertIn("careerbot: 1 of 1 network connected", status)
        helped = self.command(self.alice, dm, "!help")
        self.assertIn("Commands:", helped)
        self.assertIn("Operator commands", helped)
        self.assertNotIn("Operator commands", self.command(self.bob, bob_dm, "!help"))
        self.assertIn("Reloaded: 1 kept", self.command(self.alice, dm, "!reload"))

    def test_non_admin_gets_the_ordinary_reply(self):
        bot = self.operator_bot()
        bob_dm = self.direct_chat(self.bob, bot)
        unknown = self.command(self.bob, bob_dm, "!frobnicate").replace("!frobnicate", "CMD")
        self.assertIn("don't know", unknown)
        for text in ("!join #x:localhost", "!status", "!ignore " + self.alice.user_id, "!reload"):
            self.assertEqual(self.command(self.bob, bob_dm, text).replace(text.split()[0], "CMD"), unknown)
        # An admin in a group room is no admin there.
        room = self.group_room(bot)
        self.alice.send(room, "!status")
        time.sleep(2)
        self.assertFalse(any("connected since" in r["content"].get("body", "")
                             for r in self.replies(self.alice, room)))
        self.assertNotIn("operator command from", bot.log())

    def test_restart_keeps_parts_and_ignores(self):
        bot = self.operator_bot()
        dm = self.direct_chat(self.alice, bot)
        room = self.group_room(bot)
        bob_dm = self.direct_chat(self.bob, bot)
        self.command(self.alice, dm, "!ignore " + self.bob.user_id)
        self.assertEqual(self.command(self.alice, dm, "!part %s" % room), "Left %s." % room)
        wait_until(lambda: self.alice.members(room).get(self.me.user_id) == "leave", WAIT, "the bot to leave")
        path = os.path.join(self.folder, "state", "matrix-syn", "runtime.json")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(bot.stop(), 0)
        self.bots.remove(bot)
        bot = self.operator_bot(name="bot2")
        self.alice.invite(room, self.me.user_id)
        bot.wait_log("declining the invite to %s" % room)
        self.bob.send(bob_dm, PAY_Q)
        self.assert_quiet(self.bob, bob_dm, 0)


class RateLimitTests(SynapseCase):
    """Synapse's default rate limits (0.2 messages a second after a burst of 10)."""

    @classmethod
    def setUpClass(cls):
        if not os.access(synapse_python(), os.X_OK):
            raise unittest.SkipTest("no Synapse")
        cls.server = Synapse(raised=False).start()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.stop()

    def test_burst_rate_limited_by_synapse(self):
        bot = self.start_bot(self.section(extra="user_burst = 50\nroom_burst = 50\n"))
        room = self.group_room(bot)
        asked = [self.alice.send(room, "!salary" if i % 2 else "!source") for i in range(12)]
        replies = self.wait_replies(self.alice, room, len(asked), timeout=60)
        self.assert_quiet(self.alice, room, len(asked), seconds=1)
        # Every reply arrives, once, in the order of the questions.
        self.assertEqual([self.answered(r) for r in replies], asked)
        self.assertIn("M_LIMIT_EXCEEDED", bot.log())
        # The bot showed as typing while its replies waited.
        self.assertTrue(self.alice.typing_seen(room, self.me.user_id))


if __name__ == "__main__":
    unittest.main()
