"""careerbot on Matrix: each test starts a fake homeserver (fake_homeserver.py)
on a free loopback port, starts the real careerbot binary (CAREERBOT_BIN,
default build/careerbot) with a [matrix.NAME] config for it, and plays the
users: questions in rooms, commands, invites to direct chats, mentions,
encrypted rooms, rate limits, restarts, dropped connections, bad tokens and
malformed sync responses.

Run: cd tests/integration && CAREERBOT_BIN=../../build/careerbot python3 -m unittest -v test_matrix
Set CAREERBOT_IT_KEEP=1 to keep the temporary folders (configs, state, logs)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_homeserver import FakeHomeserver  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
KNOWLEDGE = os.path.join(REPO, "knowledge")
PAY = "$34,970"  # the median salary in the article
PAY_Q = "what does a medical coder earn?"
BOT_TOKEN = "syt_careerbot_token_1234567890"
WAIT = 15.0      # the longest any single wait may take


def careerbot_bin():
    return os.environ.get("CAREERBOT_BIN") or os.path.join(REPO, "build", "careerbot")


def wait_until(predicate, timeout=WAIT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


class Bot:
    """The careerbot process with a config file, its log, and a clean stop."""

    def __init__(self, folder, sections, name="bot"):
        self.folder = folder
        self.config = os.path.join(folder, name + ".ini")
        self.log_path = os.path.join(folder, name + ".log")
        with open(self.config, "w") as f:
            f.write("[bot]\nknowledge = %s\nstate_dir = %s\n\n%s" % (KNOWLEDGE, os.path.join(folder, "state"),
                                                                     sections))
        self.proc = None
        self.log_file = None

    def start(self):
        self.log_file = open(self.log_path, "ab")
        env = dict(os.environ, CAREERBOT_DEBUG="1")
        self.proc = subprocess.Popen([careerbot_bin(), "--config", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=self.log_file, env=env)
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=WAIT):
        return wait_until(lambda: text in self.log(), timeout, "log line %r" % text)

    def stop(self, sig=signal.SIGTERM):
        """Stops the process and returns its exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            status = self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)
            raise AssertionError("careerbot did not stop within %.0f s of %s" % (WAIT, sig))
        finally:
            self.log_file.close()
            self.proc = None
        return status


def matrix_section(hs, name="test", token=BOT_TOKEN, extra=""):
    return ("[matrix.%s]\nhomeserver = %s\nuser_id = @careerbot:localhost\naccess_token = %s\n"
            "sync_timeout = 5\n%s\n" % (name, hs.url, token, extra))


class MatrixTestCase(unittest.TestCase):
    def setUp(self):
        if not os.access(careerbot_bin(), os.X_OK):
            self.skipTest("no careerbot binary at %s; build it or set CAREERBOT_BIN" % careerbot_bin())
        self.folder = tempfile.mkdtemp(prefix="careerbot-matrix-")
        self.hs = FakeHomeserver().start()
        self.me = self.hs.add_user("careerbot", password="bot-password", token=BOT_TOKEN, device_id="BOTDEVICE")
        self.alice = self.hs.add_user("alice")
        self.bob = self.hs.add_user("bob")
        self.bots = []

    def tearDown(self):
        statuses = [bot.stop() for bot in self.bots if bot.proc]
        logs = "".join(bot.log() for bot in self.bots)
        self.hs.stop()
        if os.environ.get("CAREERBOT_IT_KEEP"):
            print("kept", self.folder)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
        # Whatever happened, the token never went into a URL or a log line.
        self.assertEqual(self.hs.token_in_url, [])
        self.assertNotIn(BOT_TOKEN, logs)
        self.assertNotIn("bot-password", logs)
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, logs)
        for method, path, authorized in self.hs.requests:
            self.assertTrue(authorized, "%s %s had no Authorization header" % (method, path))
        self.assertEqual(statuses, [0] * len(statuses), "exit status after SIGTERM")

    def start_bot(self, sections=None, name="bot"):
        bot = Bot(self.folder, sections if sections is not None else matrix_section(self.hs), name).start()
        self.bots.append(bot)
        return bot

    def started(self, bot):
        """Waits for the bot's first sync, after which new messages are answered."""
        wait_until(lambda: self.hs.sync_count > 0 and "first sync" in bot.log() or "answering new" in bot.log(),
                   what="the first sync")
        # The long-poll that follows is the one that carries the next message.
        wait_until(lambda: self.hs.sync_count >= 2, what="the second sync")

    def replies(self, room=None):
        return self.hs.messages_from(self.me, room)

    def wait_replies(self, count, room=None):
        return wait_until(lambda: len(self.replies(room)) >= count and self.replies(room),
                          what="%d repl%s from the bot" % (count, "y" if count == 1 else "ies"))

    def assert_quiet(self, count, room=None, seconds=1.5):
        """No more than count replies arrive within seconds."""
        time.sleep(seconds)
        self.assertEqual(len(self.replies(room)), count, [r["content"].get("body") for r in self.replies(room)])

    def room_with_bot(self, **kw):
        return self.hs.create_room([self.alice, self.bob, self.me], **kw)


class RoomTests(MatrixTestCase):
    def test_question_in_a_room(self):
        room = self.room_with_bot()
        self.hs.send_message(room, self.alice, "careerbot: " + PAY_Q)  # old history: never answered
        bot = self.start_bot()
        self.started(bot)
        question = self.hs.send_message(room, self.alice, "careerbot: " + PAY_Q)
        reply = self.wait_replies(1, room)[0]
        content = reply["content"]
        self.assertEqual(content["msgtype"], "m.notice")
        self.assertIn(PAY, content["body"])
        self.assertEqual(content["format"], "org.matrix.custom.html")
        self.assertIn(PAY, content["formatted_body"])
        self.assertEqual(content["m.relates_to"]["m.in_reply_to"]["event_id"], question)
        self.assertEqual(content["m.mentions"]["user_ids"], [self.alice])
        self.assert_quiet(1, room)
        # The filter the bot made keeps syncs small.
        filt = list(self.hs.filters.values())[0]
        self.assertTrue(filt["room"]["timeline"]["limit"] <= 50)
        self.assertTrue(filt["room"]["state"]["lazy_load_members"])
        self.assertEqual(filt["presence"]["not_types"], ["*"])

    def test_command_and_unaddressed_talk(self):
        room = self.room_with_bot()
        bot = self.start_bot()
        self.started(bot)
        self.hs.send_message(room, self.alice, "what does a medical coder earn?")  # not for the bot
        self.hs.send_message(room, self.bob, "/steps")  # "/" is not a Matrix prefix by default
        self.hs.send_message(room, self.bob, "!steps")
        reply = self.wait_replies(1, room)[0]["content"]
        self.assertIn("five steps", reply["body"])
        self.assertIn("!more for the rest", reply["body"])  # a group room gets the short form
        self.assert_quiet(1, room)
        self.hs.send_message(room, self.bob, "!more")
        reply = self.wait_replies(2, room)[1]["content"]
        self.assertIn("five steps", reply["body"])
        self.assertIn("<ol>", reply["formatted_body"])
        self.assertIn("<li>", reply["formatted_body"])
        self.assert_quiet(2, room)

    def test_mentions(self):
        room = self.room_with_bot()
        bot = self.start_bot(matrix_section(self.hs, extra="display_name = Career Bot"))
        self.started(bot)
        wait_until(lambda: self.hs.displaynames.get(self.me) == "Career Bot", what="the display name")
        pill = '<a href="https://matrix.to/#/%s">careerbot</a> how much do coders make?' % self.me
        self.hs.send_message(room, self.alice, "careerbot how much do coders make?", html=pill,
                             mentions=[self.me])
        self.wait_replies(1, room)
        self.hs.send_message(room, self.bob, "hey @careerbot:localhost, how much do coders make?")
        self.wait_replies(2, room)
        self.hs.send_message(room, self.bob, "Career Bot: how much do coders make?")
        self.wait_replies(3, room)
        # An edit, a notice and an image are never answered.
        self.hs.send_message(room, self.alice, "* careerbot: what is step 2?", relates_to={
            "rel_type": "m.replace", "event_id": "$whatever"}, extra={"m.new_content": {"body": "x"}})
        self.hs.send_message(room, self.alice, "careerbot: what is step 2?", msgtype="m.notice")
        self.hs.send_message(room, self.alice, "careerbot.png", msgtype="m.image")
        self.assert_quiet(3, room)
        for r in self.replies(room):
            self.assertIn(PAY, r["content"]["body"])

    def test_listen_room_answers_confident_questions_only(self):
        room = self.hs.create_room([self.alice, self.me], alias="#coders:localhost")
        bot = self.start_bot(matrix_section(self.hs, extra="listen = #coders:localhost"))
        self.started(bot)
        bot.wait_log("listen room #coders:localhost is")
        self.hs.send_message(room, self.alice, "nice weather today")
        self.hs.send_message(room, self.alice, "how much do medical coders make per year?")
        reply = self.wait_replies(1, room)[0]["content"]
        self.assertIn(PAY, reply["body"])
        self.assert_quiet(1, room)


class DirectChatTests(MatrixTestCase):
    def test_invite_to_a_direct_chat(self):
        bot = self.start_bot()
        self.started(bot)
        dm = self.hs.create_room([self.alice])
        self.hs.fail_next("join", count=2, status=502)  # the join is retried with backoff
        self.hs.invite(dm, self.alice, self.me, is_direct=True)
        wait_until(lambda: self.hs.is_member(dm, self.me), what="the bot to join the direct chat")
        self.hs.send_message(dm, self.alice, "what does a medical coder earn?")  # no addressing needed
        reply = self.wait_replies(1, dm)[0]["content"]
        self.assertIn(PAY, reply["body"])
        self.assertNotIn("m.relates_to", reply)  # a direct chat needs no quote
        # Invites from servers that are not allowed are ignored.
        evil = self.hs.add_user("mallory")
        other = self.hs.create_room([evil])
        self.hs.rooms[other].members.discard(evil)
        mallory = "@mallory:evil.example"
        self.hs.rooms[other].members.add(mallory)
        self.hs.invite(other, mallory, self.me)
        bot.wait_log("not in allowed_inviters")
        self.assertFalse(self.hs.is_member(other, self.me))

    def test_m_direct_account_data(self):
        room = self.room_with_bot()
        self.hs.set_account_data(self.me, "m.direct", {self.alice: [room]})
        bot = self.start_bot()
        self.started(bot)
        self.hs.send_message(room, self.alice, "how much do coders make?")
        self.assertIn(PAY, self.wait_replies(1, room)[0]["content"]["body"])


class EncryptionTests(MatrixTestCase):
    def test_encrypted_room_is_told_once(self):
        room = self.room_with_bot()
        bot = self.start_bot()
        self.started(bot)
        self.hs.enable_encryption(room, self.alice)
        self.hs.send_encrypted(room, self.alice)
        notice = self.wait_replies(1, room)[0]["content"]
        self.assertEqual(notice["msgtype"], "m.notice")
        self.assertIn("encrypt", notice["body"])
        self.assertIn("Pantalaimon", notice["body"])
        self.assertNotIn("formatted_body", notice)
        self.hs.send_encrypted(room, self.alice)
        self.assert_quiet(1, room)
        # Remembered across a restart.
        self.assertEqual(bot.stop(), 0)
        bot = self.start_bot()
        bot.wait_log("starting as")
        wait_until(lambda: "sync" in bot.log() and self.hs.sync_count > 4, what="a sync after the restart")
        self.hs.send_encrypted(room, self.bob)
        self.assert_quiet(1, room, seconds=2)


class RateLimitTests(MatrixTestCase):
    def test_one_user_cannot_make_the_bot_spam(self):
        room = self.room_with_bot()
        bot = self.start_bot(matrix_section(self.hs, extra="user_burst = 2\nuser_rate = 0.01"))
        self.started(bot)
        for q in ["!salary", "!steps", "!source", "!about", "!help"]:
            self.hs.send_message(room, self.alice, q)
        # Two answers and one "give me a moment" notice, then silence.
        replies = self.wait_replies(3, room)
        self.assert_quiet(3, room)
        self.assertIn("please give me a moment", replies[2]["content"]["body"])
        self.assertIn("asking faster than I answer", bot.log())
        # Someone else in the room is still answered.
        self.hs.send_message(room, self.bob, "!salary")
        self.assertIn(PAY, self.wait_replies(4, room)[3]["content"]["body"])


class DeliveryTests(MatrixTestCase):
    def test_429_in_a_burst(self):
        room = self.room_with_bot()
        bot = self.start_bot()
        self.started(bot)
        self.hs.fail_next("send", count=3, status=429, retry_after_ms=400)
        questions = ["!salary", "!steps", "!source", "!about"]
        ids = [self.hs.send_message(room, self.alice, q) for q in questions]
        replies = wait_until(lambda: len(self.replies(room)) >= 4 and self.replies(room), what="4 replies")
        self.assert_quiet(4, room)
        # Every reply once, in the order of the questions.
        self.assertEqual([r["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] for r in replies], ids)
        # The retries kept their transaction ids.
        failed = [txn for txn, status in self.hs.send_attempts if status == 429]
        ok = [txn for txn, status in self.hs.send_attempts if status == 200]
        self.assertEqual(len(failed), 3)
        self.assertTrue(set(failed) <= set(ok))
        self.assertIn("M_LIMIT_EXCEEDED", bot.log())

    def test_restart_repeats_nothing_and_loses_nothing(self):
        room = self.room_with_bot()
        bot = self.start_bot()
        self.started(bot)
        self.hs.send_message(room, self.alice, "!salary")
        self.wait_replies(1, room)
        self.assertEqual(bot.stop(), 0)
        # While the bot is away.
        away = [self.hs.send_message(room, self.alice, q) for q in ("!steps", "careerbot: " + PAY_Q)]
        bot = self.start_bot()
        replies = self.wait_replies(3, room)
        self.assert_quiet(3, room)
        self.assertEqual([r["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] for r in replies[1:]], away)
        # A hard kill right after an answer: the restart neither repeats nor loses.
        self.hs.send_message(room, self.bob, "!source")
        self.wait_replies(4, room)
        bot.stop(signal.SIGKILL)
        self.hs.send_message(room, self.bob, "!about")
        bot = self.start_bot()
        self.wait_replies(5, room)
        self.assert_quiet(5, room)
        bodies = [r["content"]["body"] for r in self.replies(room)]
        self.assertEqual(len(bodies), len(set(json.dumps(r["content"]) for r in self.replies(room))))

    def test_replies_waiting_in_the_state_file_go_out_after_a_restart(self):
        room = self.room_with_bot()
        bot = self.start_bot()
        self.started(bot)
        self.hs.fail_next("send", count=1, status=429, retry_after_ms=60000)  # one long wait
        question = self.hs.send_message(room, self.alice, "!salary")
        wait_until(lambda: self.hs.send_attempts, what="a send attempt")
        self.assertEqual(bot.stop(), 0)  # the reply is still waiting
        self.assertEqual(self.replies(room), [])
        bot = self.start_bot()
        reply = self.wait_replies(1, room)[0]
        self.assertEqual(reply["content"]["m.relates_to"]["m.in_reply_to"]["event_id"], question)
        self.assert_quiet(1, room)
        txns = [t for t, _ in self.hs.send_attempts]
        self.assertEqual(len(set(txns)), 1)  # the same transaction id after the restart

    def test_dropped_long_poll_and_server_errors(self):
        room = self.room_with_bot()
        bot = self.start_bot()
        self.started(bot)
        self.hs.drop_next_long_poll()
        self.hs.fail_next("sync", count=1, status=502)
        self.hs.fail_next("send", count=1, status=500)
        wait_until(lambda: self.hs.drop_long_polls == 0, what="the dropped long-poll")
        self.hs.send_message(room, self.alice, "careerbot: " + PAY_Q)
        self.assertIn(PAY, self.wait_replies(1, room)[0]["content"]["body"])
        self.assert_quiet(1, room)
        self.assertIn("retrying", bot.log())

    def test_malformed_sync_responses(self):
        room = self.room_with_bot()
        bot = self.start_bot()
        self.started(bot)
        self.hs.answer_next_sync_with(b"{this is not json")
        # Valid JSON with the wrong shapes, and a real position (nothing is skipped by it).
        self.hs.answer_next_sync_with(json.dumps({"next_batch": "s%d" % len(self.hs.stream),
                                                  "rooms": {"join": []}, "account_data": {"events": "x"}}))
        self.hs.answer_next_sync_with(json.dumps({"rooms": {}}))  # no next_batch
        self.hs.answer_next_sync_with(b"[" * 5000 + b"]" * 5000)
        self.hs.send_message(room, self.bob, "wake up the long-poll")
        wait_until(lambda: not self.hs.raw_sync_bodies, what="the malformed responses to be fetched")
        self.hs.send_message(room, self.alice, "careerbot: " + PAY_Q)
        self.assertIn(PAY, self.wait_replies(1, room)[0]["content"]["body"])
        log = bot.log()
        self.assertIn("response skipped", log)
        self.assertIn("malformed", log)
        self.assertIsNone(bot.proc.poll())


class AuthTests(MatrixTestCase):
    def test_bad_token_stops_the_account(self):
        bot = self.start_bot(matrix_section(self.hs, token="syt_wrong"))
        status = wait_until(lambda: bot.proc.poll() is not None and [bot.proc.returncode], what="the bot to exit")
        bot.proc = None
        bot.log_file.close()
        self.assertEqual(status[0], 1)
        log = bot.log()
        self.assertIn("rejected the access token", log)
        self.assertIn("M_UNKNOWN_TOKEN", log)

    def test_bad_token_leaves_other_networks_running(self):
        room = self.room_with_bot()
        good = matrix_section(self.hs, name="good")
        bad = ("[matrix.bad]\nhomeserver = %s\nuser_id = @careerbot:localhost\naccess_token = syt_wrong\n"
               "state_dir = %s\n" % (self.hs.url, os.path.join(self.folder, "bad-state")))
        bot = self.start_bot(good + bad)
        bot.wait_log("matrix.bad: the homeserver rejected the access token")
        bot.wait_log("matrix.good: first sync")
        wait_until(lambda: self.hs.sync_count >= 2, what="the long-poll")
        self.hs.send_message(room, self.alice, "careerbot: " + PAY_Q)
        self.assertIn(PAY, self.wait_replies(1, room)[0]["content"]["body"])
        self.assertIsNone(bot.proc.poll())
        self.assertEqual(bot.stop(), 0)

    def test_password_login_and_relogin_after_soft_logout(self):
        room = self.room_with_bot()
        section = ("[matrix.test]\nhomeserver = %s\nuser_id = @careerbot:localhost\npassword = bot-password\n"
                   "sync_timeout = 5\n" % self.hs.url)
        bot = self.start_bot(section)
        self.started(bot)
        self.assertEqual(len(self.hs.logins), 1)
        device = self.hs.logins[0].get("device_id")
        self.hs.send_message(room, self.alice, "!salary")
        self.wait_replies(1, room)
        # The token dies (soft logout): the bot logs in again on the same device.
        token = next(t for t, (u, d) in self.hs.tokens.items() if u == self.me and t != BOT_TOKEN)
        self.hs.expire_token(token, soft_logout=True)
        self.hs.send_message(room, self.alice, "!steps")
        self.wait_replies(2, room)
        self.assertEqual(len(self.hs.logins), 2)
        with open(os.path.join(self.folder, "state", "matrix-test", "state.json")) as f:
            saved = json.load(f)
        self.assertEqual(self.hs.logins[1]["device_id"], saved["device_id"])
        self.assertTrue(device is None or device == saved["device_id"])
        self.assertIn("logging in again", bot.log())


if __name__ == "__main__":
    unittest.main()
