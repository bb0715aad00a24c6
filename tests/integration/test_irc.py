"""careerbot on a real IRC server: each test class starts a private ngircd on
a free loopback port (config and certificates written by the test), starts
the careerbot binary (CAREERBOT_BIN, default build/careerbot) with a config
for it, and talks to it through raw IRC client connections.

Run: cd tests/integration && CAREERBOT_BIN=../../build/careerbot python3 -m unittest -v test_irc
Set CAREERBOT_IT_KEEP=1 to keep the temporary folders (configs, logs)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ircharness import (REPO, Bot, IrcClient, Ngircd, ScriptedServer, careerbot_bin,  # noqa: E402
                        make_certs, wait_until)

BOT = "careerbot"
KNOWLEDGE = os.path.join(REPO, "knowledge")
PAY = "$34,970"     # the median salary in the article
GROWTH = "22%"      # the projected job growth

PAY_Q = "how much do medical coders make?"
GROWTH_Q = "how fast is the field growing?"


def cli_reply(question):
    """What `careerbot --ask` answers, to compare with what arrives over IRC:
    with IRC's prefixes, so hints show "!" as they do there."""
    with tempfile.TemporaryDirectory() as tmp:
        ini = os.path.join(tmp, "cli.ini")
        with open(ini, "w") as f:
            f.write("[bot]\ncommand_prefixes = !/\n")
        out = subprocess.run([careerbot_bin(), "--config", ini, "--knowledge", KNOWLEDGE, "--ask", question,
                              "--format", "json"], capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)["reply"]


def settle(client):
    """Lets the rest of an earlier multi-line answer arrive before a test marks its start."""
    client.sync()
    time.sleep(0.3)


def words(text):
    return " ".join(text.split())


class IrcTestCase(unittest.TestCase):
    """Owns a temporary folder per class, and stops whatever a test started."""

    @classmethod
    def setUpClass(cls):
        if not os.access(careerbot_bin(), os.X_OK):
            raise unittest.SkipTest("no careerbot binary at %s; build it or set CAREERBOT_BIN"
                                    % careerbot_bin())
        if not os.access("/usr/sbin/ngircd", os.X_OK) and "NGIRCD" not in os.environ:
            raise unittest.SkipTest("ngircd is not installed (apt-get install ngircd)")
        cls.workdir = tempfile.mkdtemp(prefix="careerbot-it-")
        os.chmod(cls.workdir, 0o755)  # ngircd runs as nobody and writes its pid file here
        if not os.environ.get("CAREERBOT_IT_KEEP"):
            cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        else:
            print("\nkeeping", cls.workdir, file=sys.stderr)

    # Class-wide resources (stopped after the class) ...
    @classmethod
    def class_server(cls, **kw):
        s = Ngircd(cls.workdir, **kw)
        cls.addClassCleanup(s.stop)
        return s.start()

    @classmethod
    def class_bot(cls, port, **kw):
        b = Bot(cls.workdir, port, **kw)
        cls.addClassCleanup(b.stop)
        return b.start()

    @classmethod
    def class_client(cls, port, nick, **kw):
        c = IrcClient(port, nick, **kw)
        cls.addClassCleanup(c.close)
        return c

    # ... and per-test ones (stopped after the test).
    def server(self, **kw):
        s = Ngircd(self.workdir, **kw)
        self.addCleanup(s.stop)
        return s.start()

    def bot(self, port, **kw):
        b = Bot(self.workdir, port, **kw)
        self.addCleanup(b.stop)
        return b.start()

    def client(self, port, nick, **kw):
        c = IrcClient(port, nick, **kw)
        self.addCleanup(c.close)
        return c

    def assert_silent(self, watchers, prober, bot_nick=BOT, marks=None):
        """Checks that the bot sent nothing to any watcher since its mark: the
        prober asks the bot a direct question (answered by every working bot)
        after everything before has reached it, and the bot, which answers in
        order, must not have said anything to the watchers first."""
        for w in watchers:
            w.sync()
        reply = prober.ask(bot_nick, "!about", bot_nick, timeout=10)
        time.sleep(0.3)  # lines to other connections were written before the probe's answer
        for w, mark in zip(watchers, marks):
            said = [m for m in w.since(mark)
                    if m.nick.lower() == bot_nick.lower() and m.verb in ("PRIVMSG", "NOTICE")
                    and m is not reply and not (w is prober and m.time >= reply.time)]
            self.assertEqual(said, [], "the bot should have stayed silent")


# ---------------------------------------------------------------------------


LONG_CHANNEL = "#" + ("careerbot-line-limit-test-" * 3)[:49]   # 50 bytes: ngircd's CHANNELLEN
LONG_NICK = "a_rather_long_nickname_for_it1"                   # 30 bytes: the server's NICKLEN
LONG_HOST = ("a-long-cloaked-host-name." * 3)[:55] + ".example"  # 63 bytes, every client's host


class ConversationTests(IrcTestCase):
    """Who gets answered and what the answers contain. One server and one bot
    for the class; generous rate limits so the tests do not wait on them (the
    defaults have FloodTests)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.class_server(penalties=False, cloak_host=LONG_HOST)
        cls.b = cls.class_bot(cls.srv.port, channels="#careers, #listen, " + LONG_CHANNEL, irc={
            "listen": "#listen",
            "ignore": "otherbot, spambot",
            "flood_burst": "100", "flood_rate": "100",
            "user_burst": "1000", "user_rate": "1000", "room_burst": "1000", "room_rate": "1000",
        })
        for chan in ("#careers", "#listen", LONG_CHANNEL):
            cls.b.wait_log(r"joined %s\b" % re.escape(chan), timeout=15)
        cls.alice = cls.class_client(cls.srv.port, "alice")
        cls.alice.join("#careers")
        cls.alice.join("#listen")

    def setUp(self):
        # Let the tail of the previous test's answer arrive before this test marks its start.
        settle(self.alice)

    def test_addressed_question_in_channel(self):
        a = self.alice
        mark = a.mark()
        m = a.ask("#careers", "careerbot: " + PAY_Q, BOT, contains=PAY)
        self.assertTrue(m.text.startswith("alice: "), m)
        # Every line of the answer goes to the channel, each prefixed with the asker.
        a.wait_for(lambda x: x.nick == BOT and "Median means" in x.text, 5, since=mark)
        for line in a.since(mark):
            if line.nick == BOT:
                self.assertEqual(line.target, "#careers")
                self.assertTrue(line.text.startswith("alice: "), line)
        m = a.ask("#careers", "careerbot, " + GROWTH_Q, BOT, contains=GROWTH)
        self.assertTrue(m.text.startswith("alice: "), m)
        self.assertIn("2012", m.text)
        m = a.ask("#careers", "CareerBot: what does an insurance coder do?", BOT)
        self.assertRegex(m.text, r"^alice: .*(code|coder)")

    def test_unaddressed_question_in_normal_channel_is_ignored(self):
        a = self.alice
        mark = a.mark()
        a.privmsg("#careers", PAY_Q)
        a.privmsg("#careers", "I asked careerbot: about pay yesterday")
        a.privmsg("#careers", "what is step 2")
        self.assert_silent([a], a, marks=[mark])

    def test_listen_channel_answers_only_when_confident(self):
        a = self.alice
        m = a.ask("#listen", "what is the median salary of an insurance coder", BOT, contains=PAY)
        self.assertTrue(m.text.startswith("alice: "), m)
        mark = a.mark()
        a.privmsg("#listen", "anyone know a good pizza place around here?")
        a.privmsg("#listen", "lol")
        a.privmsg("#listen", "the weather is nice today")
        self.assert_silent([a], a, marks=[mark])
        # Addressed, the bot answers there as anywhere (a polite decline).
        m = a.ask("#listen", "careerbot: anyone know a good pizza place?", BOT)
        self.assertTrue(m.text.startswith("alice: "), m)
        self.assertIn("!help", m.text)  # hints show the prefix that works on IRC

    def test_commands_in_channel(self):
        a = self.alice
        m = a.ask("#careers", "!salary", BOT, contains=PAY)
        self.assertTrue(m.text.startswith("alice: "), m)
        m = a.ask("#careers", "!help", BOT, contains="!steps")  # commands shown with the prefix used
        self.assertTrue(m.text.startswith("alice: "), m)
        m = a.ask("#careers", "careerbot: /growth", BOT, contains=GROWTH)
        self.assertTrue(m.text.startswith("alice: "), m)

    def collect_reply(self, client, mark, pred, expected, timeout=15, prefix=""):
        """Waits until the lines matching pred since mark spell out expected
        (whitespace aside); returns them."""
        want = words(expected)

        def done():
            got = [m for m in client.since(mark) if pred(m)]
            text = " ".join(m.text[len(prefix):] if m.text.startswith(prefix) else "!" + m.text for m in got)
            return got if len(words(text)) >= len(want) else None
        got = wait_until(done, timeout)
        if not got:
            got = [m for m in client.since(mark) if pred(m)]
            self.fail("incomplete reply; got %d lines:\n%s\nexpected:\n%s"
                      % (len(got), "\n".join(map(repr, got)), expected))
        text = " ".join(m.text[len(prefix):] for m in got)
        self.assertEqual(words(text), want, "the reply arrived changed or out of order")
        for m in got:
            self.assertTrue(m.text.startswith(prefix), m)
        return got

    def test_direct_messages(self):
        d = self.client(self.srv.port, "dmuser")
        # Every direct message is answered, with no addressing and no nick prefix.
        m = d.ask(BOT, GROWTH_Q, BOT, contains=GROWTH)
        self.assertEqual(m.target, "dmuser")
        self.assertFalse(m.text.startswith("dmuser:"), m)
        m = d.ask(BOT, "do I need a degree?", BOT)
        self.assertTrue(m.text)
        # /steps: a multi-line answer, complete and in order.
        settle(d)
        mark = d.mark()
        d.privmsg(BOT, "/steps")
        got = self.collect_reply(d, mark, d.replies_from(BOT, "PRIVMSG", "dmuser"), cli_reply("/steps"))
        self.assertGreaterEqual(len(got), 6)
        positions = [next(i for i, m in enumerate(got) if m.text.startswith("%d." % n)) for n in range(1, 6)]
        self.assertEqual(positions, sorted(positions), "steps out of order")
        for m in got:
            self.assertLessEqual(m.wire_len, 512, m)

    def test_follow_up_in_direct_messages(self):
        f = self.client(self.srv.port, "follower")
        m = f.ask(BOT, "what is step 2", BOT)
        self.assertIn("Step 2", m.text)
        f.sync()
        time.sleep(0.2)
        m = f.ask(BOT, "what's next", BOT)
        self.assertIn("Step 3", m.text)
        f.sync()
        time.sleep(0.2)
        m = f.ask(BOT, "and after that?", BOT)
        self.assertIn("Step 4", m.text)

    def test_long_answers_fit_the_line_limit(self):
        """A 30-byte nick asking in a 50-byte channel on a server that gives
        everyone a 63-byte host: the bot's prefix, the channel and "nick: "
        leave about 330 bytes per line, so long paragraphs must be cut, and
        every line as relayed stays <= 512 bytes."""
        c = self.client(self.srv.port, LONG_NICK)
        c.join(LONG_CHANNEL)
        for question, command in (("!topics", "!topics"), ("careerbot: /help", "/help")):
            settle(c)
            mark = c.mark()
            c.privmsg(LONG_CHANNEL, question)
            expected = cli_reply(command)
            got = self.collect_reply(c, mark, c.replies_from(BOT, "PRIVMSG", LONG_CHANNEL), expected,
                                     prefix=LONG_NICK + ": ")
            for m in got:
                self.assertLessEqual(m.wire_len, 512, "line over 512 bytes as relayed: %r" % m)
            overhead = got[0].wire_len - len(got[0].text.encode()) + len(LONG_NICK) + 2
            longest = max(len(p.encode()) for p in expected.split("\n"))
            if longest + overhead > 512:  # this paragraph cannot fit one line: it was cut
                self.assertGreater(len(got), expected.count("\n") + 1)
                self.assertTrue(any(m.wire_len > 400 for m in got), "lines cut far too short")

    def test_a_conversation(self):
        """Small talk, a question, follow-ups on it, and goodbye, as people talk:
        in a direct message and, addressed, in a channel."""
        a = self.alice
        turns = [("hi!", r"^(Hi|Hello|Hey)"), ("how much do medical coders make?", re.escape(PAY)),
                 ("is that per year?", r"yearly|annual"), ("which year is it from?", r"2013"),
                 ("thanks, that helps", r"welcome|Glad|Any time"), ("bye", r"Bye|Take care|See you")]
        for text, want in turns:
            m = a.ask(BOT, text, BOT, timeout=10)
            self.assertRegex(m.text, want, "%r got %r" % (text, m.text))
        # In a channel small talk addressed to the bot gets one short line.
        mark = a.mark()
        m = a.ask("#careers", "careerbot: hello", BOT, timeout=10)
        self.assertTrue(m.text.startswith("alice: "))
        settle(a)
        self.assertEqual(len([x for x in a.since(mark) if a.replies_from(BOT, "PRIVMSG", "#careers")(x)]), 1)
        # Follow-ups in a channel belong to the person who asked.
        a.ask("#careers", "careerbot: tell me about certification", BOT, contains="voluntary", timeout=10)
        m = a.ask("#careers", "careerbot: who offers it?", BOT, timeout=10)
        self.assertRegex(m.text, "AAPC|AHIMA")

    def test_channel_answers_are_brief_with_more_on_request(self):
        """In a channel a long answer comes as its short form with a hint;
        "!more" gives the rest, two lines at a time. A direct message gets it whole."""
        a = self.alice
        settle(a)
        mark = a.mark()
        a.privmsg("#careers", "careerbot: !steps")
        first = a.wait_for(a.replies_from(BOT, "PRIVMSG", "#careers"), 10, since=mark, what="the short steps")
        settle(a)
        lines = [m for m in a.since(mark) if a.replies_from(BOT, "PRIVMSG", "#careers")(m)]
        self.assertLessEqual(len(lines), 2, lines)
        self.assertIn("!more for the rest", lines[-1].text)
        self.assertTrue(first.text.startswith("alice: "))
        mark = a.mark()
        a.privmsg("#careers", "careerbot: !more")
        more = a.wait_for(a.replies_from(BOT, "PRIVMSG", "#careers"), 10, since=mark, what="the rest")
        self.assertIn("five steps", more.text)
        settle(a)
        self.assertLessEqual(len([m for m in a.since(mark) if a.replies_from(BOT, "PRIVMSG", "#careers")(m)]), 2)
        # In a direct message: the whole list at once.
        mark = a.mark()
        a.privmsg(BOT, "/steps")
        expected = cli_reply("/steps")
        self.collect_reply(a, mark, a.replies_from(BOT, "PRIVMSG", "alice"), expected)

    def test_notice_is_never_answered(self):
        a = self.alice
        mark = a.mark()
        a.notice(BOT, PAY_Q)
        a.notice(BOT, "/steps")
        a.notice("#careers", "careerbot: " + PAY_Q)
        self.assert_silent([a], a, marks=[mark])

    def test_bot_tag(self):
        probe = self.client(self.srv.port, "tagprobe", register=False)
        probe.send("CAP LS 302")
        m = probe.wait_for(lambda m: m.verb == "CAP", 5, what="CAP LS reply")
        if "message-tags" not in m.text:
            self.skipTest("ngircd offers no message-tags (CAP LS: %r): a client cannot send the bot "
                          "tag; tests/irc/test_irc_session.c covers it" % m.text)
        self.fail("ngircd offers message-tags now: write this test")

    def test_ignored_nick_gets_no_answer(self):
        o = self.client(self.srv.port, "otherbot")
        o.join("#careers")
        a = self.alice
        marks = [o.mark(), a.mark()]
        o.privmsg("#careers", "careerbot: " + PAY_Q)
        o.privmsg("#careers", "!salary")
        o.privmsg(BOT, PAY_Q)
        self.assert_silent([o, a], a, marks=marks)

    def test_ctcp_version_and_ping(self):
        a = self.alice
        mark = a.mark()
        a.privmsg(BOT, "\x01VERSION\x01")
        m = a.wait_for(a.replies_from(BOT, "NOTICE", "alice"), 5, since=mark, what="CTCP VERSION reply")
        self.assertRegex(m.text, r"^\x01VERSION careerbot \d+\.\d+\S*.*\x01$")
        mark = a.mark()
        a.privmsg(BOT, "\x01PING 1234567890 42\x01")
        m = a.wait_for(a.replies_from(BOT, "NOTICE", "alice"), 5, since=mark, what="CTCP PING reply")
        self.assertEqual(m.text, "\x01PING 1234567890 42\x01")
        # ACTION (/me) and CTCP to a channel get no chat answer.
        mark = a.mark()
        a.privmsg(BOT, "\x01ACTION waves at careerbot\x01")
        a.privmsg("#careers", "\x01ACTION asks careerbot: how much do coders make?\x01")
        self.assert_silent([a], a, marks=[mark])

    def test_odd_input_does_not_crash(self):
        a = self.alice
        junk = bytes(range(0x21, 0x7f)) * 5
        lines = [
            b"careerbot: " + junk[:400],                             # 400 bytes of garbage
            b"careerbot: \xff\xfe\xc3\x28 what \xe2\x82 pay \xf0\x9f",  # invalid UTF-8
            b"careerbot: \x02bold\x02 \x034,5red\x0f \x07\x1b[31m pay?\x16\x1d",  # formatting codes
            b"\x01\x01", b"\x01", b"\x01VERSION", b"!", b"/", b"!!!", b"careerbot:", b"careerbot: ",
            b"careerbot: !", b"!step 999999999999999999999", b"!step -1", b"!" + b"x" * 300,
            "careerbot: wie viel verdient man? \u00fc\u00df\u20ac \U0001F600".encode(),
        ]
        for line in lines:
            a.send(b"PRIVMSG #careers :" + line)
            a.send(b"PRIVMSG careerbot :" + line)
        a.send(b"PRIVMSG careerbot :" + b"\xc3" * 450)
        a.send(b"PRIVMSG careerbot :" + "\u00e9".encode() * 240)  # a long line of 2-byte characters
        a.sync()
        m = a.ask(BOT, "!salary", BOT, contains=PAY, timeout=15)
        self.assertTrue(self.b.alive(), self.b.log())
        # No reply carries a control character the bot was sent (beyond CTCP quoting).
        for line in a.since(0):
            if line.nick == BOT and line.verb == "PRIVMSG":
                self.assertNotRegex(line.text, r"[\x00-\x08\x0a-\x1f\x7f]", line)
        m = a.ask("#careers", "careerbot: " + GROWTH_Q, BOT, contains=GROWTH)
        self.assertTrue(m.text.startswith("alice: "))


# ---------------------------------------------------------------------------


class FloodTests(IrcTestCase):
    """The bot's output pacing with its default limits on a server with
    ngircd's normal flood penalties, and flood_control = no on a private one."""

    def test_burst_of_50_questions_from_5_users(self):
        srv = self.server()  # ngircd's default penalties, as on a public network
        b = self.bot(srv.port, channels="#careers")  # default flood settings
        b.wait_log(r"joined #careers", 15)
        watcher = self.client(srv.port, "watcher")
        watcher.join("#careers")
        users = [self.client(srv.port, "user%d" % i) for i in range(1, 6)]
        for u in users:
            u.join("#careers")
        watcher.sync()
        mark = watcher.mark()
        log_at = b.log_size()
        questions = ["careerbot: " + PAY_Q, "careerbot: " + GROWTH_Q]
        start = time.monotonic()
        for i in range(10):  # interleaved, as fast as the sockets take them
            for u in users:
                u.privmsg("#careers", questions[i % 2])
        from_bot = watcher.replies_from(BOT, "PRIVMSG", "#careers")

        # Wait until the bot has been quiet for 5 s (its queue is empty).
        def quiet():
            lines = [m for m in watcher.since(mark) if from_bot(m)]
            last = lines[-1].time if lines else start
            return time.monotonic() - last > 5 and time.monotonic() - start > 8
        self.assertTrue(wait_until(quiet, 120, 0.2), "the bot never went quiet")
        lines = [m for m in watcher.since(mark) if from_bot(m)]

        # Still connected and in the channel, never killed for flooding.
        self.assertTrue(b.alive())
        self.assertNotIn("disconnected", b.log()[log_at:])
        self.assertFalse([m for m in watcher.since(mark) if m.nick == BOT and m.verb in ("QUIT", "PART")])
        self.assertIn(BOT, watcher.names("#careers"))

        # Paced: a burst of about 4 lines, then about one a second.
        self.assertGreaterEqual(len(lines), 10, "too few answers: %r" % lines)
        t0 = lines[0].time
        for k, m in enumerate(lines):
            allowed = 4 + 1.0 * (m.time - t0) + 2  # burst + rate, with slack for timer and server jitter
            self.assertLessEqual(k + 1, allowed, "line %d came %.2fs after the first: too fast" % (k + 1, m.time - t0))
        span = lines[-1].time - lines[4].time
        rate = (len(lines) - 5) / span if span > 0 else float("inf")
        self.assertLessEqual(rate, 1.15, "%.2f lines/s after the burst" % rate)

        # Per-user limits: some got "give me a moment", and the log says why.
        notices = [m for u in users for m in u.since(0)
                   if m.nick == BOT and m.verb == "NOTICE" and "give me a moment" in m.text]
        self.assertTrue(notices, "nobody was told to wait")
        self.assertRegex(b.log()[log_at:], r"not answering user\d: you are asking faster than I answer")
        # Everyone got some answers; every answer is real content.
        answered = {m.text.split(":", 1)[0] for m in lines}
        self.assertEqual(answered, {u.nick for u in users}, "someone got no answer at all")
        for m in lines:
            self.assertRegex(m.text, r"^user\d: ")
        self.assertTrue(any(PAY in m.text for m in lines) and any(GROWTH in m.text for m in lines))

        # And after the burst it answers normally again.
        m = users[0].ask("#careers", "careerbot: " + GROWTH_Q, BOT, contains=GROWTH, timeout=10)
        self.assertTrue(m.text.startswith("user1: "))
        m = users[1].ask(BOT, PAY_Q, BOT, contains=PAY, timeout=10)
        print("\n  burst: %d lines to the channel in %.1fs, %.2f lines/s after the first 5, %d wait notices"
              % (len(lines), lines[-1].time - t0, rate, len(notices)), file=sys.stderr)

    def test_ten_askers_at_once_each_hear_a_first_line_within_seven_seconds(self):
        # Default flood control (a burst of 4, then one line a second) on a server
        # with its own flood penalties: answers take turns, first lines first.
        srv = self.server()
        b = self.bot(srv.port, channels="#careers")
        b.wait_log(r"joined #careers", 15)
        questions = ["how much do medical coders make?", "what does a medical coder do?",
                     "do I need a degree to become a coder?", "how fast is the field growing?",
                     "what certification do I need?", "where do coders work?",
                     "what are the steps to become a coder?", "how long does the training take?",
                     "can I work from home as a coder?", "what is step 2?"]
        people = [self.client(srv.port, "asker%d" % i) for i in range(len(questions))]
        for p in people:
            p.join("#careers")
        time.sleep(2)  # the server's penalties for the joins
        watcher = people[0]
        watcher.sync()
        mark = watcher.mark()
        sent = {}
        for i, (p, q) in enumerate(zip(people, questions)):
            p.privmsg("#careers", "careerbot: " + q)
            sent[i] = time.monotonic()

        def firsts():
            got = {}
            for m in watcher.since(mark):
                if m.nick == BOT and m.verb == "PRIVMSG":
                    who = m.text.split(":", 1)[0]
                    if who.startswith("asker") and int(who[5:]) not in got:
                        got[int(who[5:])] = m.time - sent[int(who[5:])]
            return got if len(got) == len(people) else None
        got = wait_until(firsts, 30, 0.1)
        self.assertTrue(got, "not everyone was answered: %r" % watcher.since(mark))
        print("\n  ten askers: first lines after %s s" % ", ".join("%.1f" % got[i] for i in sorted(got)),
              file=sys.stderr)
        self.assertLessEqual(max(got.values()), 7.0, got)
        self.assertNotIn("disconnected", b.log())

    def test_listen_channel_chatter_is_never_told_to_wait(self):
        srv = self.server(penalties=False)
        b = self.bot(srv.port, channels="#listen", irc={"listen": "#listen"})  # default user limits
        b.wait_log(r"joined #listen", 15)
        chatty = self.client(srv.port, "chatty")
        chatty.join("#listen")
        other = self.client(srv.port, "other")
        mark = chatty.mark()
        for i in range(12):  # people talking among themselves, faster than a user's question rate
            chatty.privmsg("#listen", "ha, that is what I said %d times about the pizza" % i)
        self.assert_silent([chatty], other, marks=[mark])
        # Asking the bot directly is still limited, and then it says so.
        chatty.privmsg("#listen", "careerbot: " + PAY_Q)
        m = chatty.wait_for(chatty.replies_from(BOT, "NOTICE", "chatty"), 5, since=mark,
                            what="the wait notice")
        self.assertIn("give me a moment", m.text)

    def test_ctcp_flood_is_answered_within_limits(self):
        srv = self.server(penalties=False)
        b = self.bot(srv.port, channels="#careers")
        b.wait_log(r"joined #careers", 15)
        users = [self.client(srv.port, "ctcp%d" % i) for i in range(3)]
        marks = [u.mark() for u in users]
        for u in users:
            u.send_raw(b"PRIVMSG careerbot :\x01VERSION\x01\r\n" * 10)
        for u in users:
            u.sync()
        time.sleep(1.0)
        replies = [m for u, mark in zip(users, marks) for m in u.since(mark)
                   if m.nick == BOT and m.verb == "NOTICE" and "VERSION" in m.text]
        self.assertGreaterEqual(len(replies), 1)
        self.assertLessEqual(len(replies), 4, "30 CTCP requests got %d immediate replies" % len(replies))
        time.sleep(2.5)
        mark = users[0].mark()
        users[0].privmsg(BOT, "\x01PING 42\x01")
        users[0].wait_for(users[0].replies_from(BOT, "NOTICE"), 5, since=mark, what="CTCP PING reply")
        self.assertTrue(b.alive())

    def test_flood_control_off_answers_fast(self):
        srv = self.server(penalties=False)  # a private server that lets a client go fast
        b = self.bot(srv.port, channels="#careers", irc={
            "flood_control": "no", "user_burst": "1000", "user_rate": "1000"})
        b.wait_log(r"joined #careers", 15)
        u = self.client(srv.port, "speedy")
        u.join("#careers")
        mark = u.mark()
        start = time.monotonic()
        u.send_raw(b"".join(b"PRIVMSG #careers :careerbot: %s\r\n" % (PAY_Q if i % 2 else GROWTH_Q).encode()
                            for i in range(50)))
        pred = u.replies_from(BOT, "PRIVMSG", "#careers")

        def answered():
            got = [m for m in u.since(mark) if pred(m) and (PAY in m.text or GROWTH in m.text)]
            return got if len(got) >= 50 else None
        got = wait_until(answered, 30)
        self.assertTrue(got, "not all 50 answered: %d" % len([m for m in u.since(mark) if pred(m)]))
        elapsed = got[-1].time - start
        self.assertLess(elapsed, 5.0, "50 answers took %.1fs with flood_control = no" % elapsed)
        self.assertEqual(sum(PAY in m.text for m in got), 25)
        self.assertNotIn("give me a moment", " ".join(m.text for m in u.since(mark)))
        print("\n  flood_control = no: 50 answers in %.2fs" % elapsed, file=sys.stderr)


# ---------------------------------------------------------------------------


class ConnectionTests(IrcTestCase):
    """Reconnects, nick collisions, kicks, invites."""

    def test_server_restart_reconnects_and_rejoins(self):
        srv = self.server(penalties=False)
        b = self.bot(srv.port, channels="#careers, #second")
        b.wait_log(r"joined #second", 15)
        a = self.client(srv.port, "alice")
        a.join("#careers")
        a.ask("#careers", "careerbot: " + PAY_Q, BOT, contains=PAY)
        log_at = b.log_size()
        srv.kill()
        a.close()
        b.wait_log(r"disconnected", 10, after=log_at)
        b.wait_log(r"reconnecting in \d", 5, after=log_at)
        time.sleep(0.5)
        srv.start()  # the same port
        restarted = time.monotonic()
        a = self.client(srv.port, "alice")
        a.join("#careers")

        def bot_back():
            return BOT in a.names("#careers")
        self.assertTrue(wait_until(bot_back, 30, 0.5), "the bot did not rejoin:\n" + b.log()[log_at:])
        m = a.ask("#careers", "careerbot: " + GROWTH_Q, BOT, contains=GROWTH, timeout=10)
        self.assertTrue(m.text.startswith("alice: "))
        took = time.monotonic() - restarted
        self.assertLess(took, 30)
        after = b.log()[log_at:]
        self.assertRegex(after, r"joined #careers")
        self.assertRegex(after, r"joined #second")
        # Backoff, not a busy loop: only a few attempts while the server was away.
        self.assertLessEqual(after.count("connecting to"), 4, after)
        print("\n  back in the channel %.1fs after the server restarted" % took, file=sys.stderr)

    def test_server_down_at_start_then_up(self):
        """Bots started while the server is down retry with backoff and
        jitter (several processes do not retry in step), and come in once it is up."""
        srv = Ngircd(self.workdir, penalties=False)
        self.addCleanup(srv.stop)
        bots = [self.bot(srv.port, nick="early%d" % i, channels="#careers") for i in range(5)]
        delays = [float(b.wait_log(r"reconnecting in ([0-9.]+) s", 10).group(1)) for b in bots]
        for d in delays:
            self.assertTrue(1.4 <= d <= 2.6, delays)  # 2 s +- 25 %
        self.assertGreater(len(set(delays)), 1, "every process drew the same jitter: %r" % delays)
        srv.start()
        for b in bots:
            b.wait_log(r"joined #careers", 20)

    def test_nick_taken_alt_nick_then_regain_on_quit(self):
        srv = self.server(penalties=False)
        holder = self.client(srv.port, "careerbot")
        holder.join("#careers")
        b = self.bot(srv.port, channels="#careers", irc={"alt_nicks": "careerbot_, careerbot__"})
        b.wait_log(r"registered as careerbot_\b", 15)
        b.wait_log(r"joined #careers", 10)
        a = self.client(srv.port, "alice")
        a.join("#careers")
        m = a.ask("#careers", "careerbot_: " + PAY_Q, "careerbot_", contains=PAY)
        self.assertTrue(m.text.startswith("alice: "))
        m = a.ask("careerbot_", GROWTH_Q, "careerbot_", contains=GROWTH)  # and in private
        mark = a.mark()
        holder.quit("making room")
        quit_ = a.wait_for(lambda m: m.verb == "QUIT" and m.nick == "careerbot", 10, since=mark)
        nick = a.wait_for(lambda m: m.verb == "NICK" and m.nick == "careerbot_", 10, since=mark,
                          what="the bot taking its nick back")
        self.assertEqual(nick.text, "careerbot")
        self.assertLess(nick.time - quit_.time, 2, "regain should follow the QUIT at once")
        m = a.ask("#careers", "careerbot: " + PAY_Q, BOT, contains=PAY)
        self.assertTrue(m.text.startswith("alice: "))

    def test_nick_taken_numbered_nick_then_regain_on_nick_change(self):
        srv = self.server(penalties=False)
        holder = self.client(srv.port, "helperbot")
        holder.join("#careers")  # the bot sees a NICK change only in a channel they share
        b = self.bot(srv.port, nick="helperbot", channels="#careers")
        m = b.wait_log(r"registered as (helperbot\S+)", 15)
        alt = m.group(1)
        self.assertRegex(alt, r"^helperbot\d+$")
        b.wait_log(r"joined #careers", 10)
        a = self.client(srv.port, "alice")
        a.join("#careers")
        m = a.ask("#careers", "%s: %s" % (alt, PAY_Q), alt, contains=PAY)
        mark = a.mark()
        holder.send("NICK someoneelse")
        nick = a.wait_for(lambda m: m.verb == "NICK" and m.nick == alt, 10, since=mark,
                          what="the bot taking its nick back")
        self.assertEqual(nick.text, "helperbot")
        m = a.ask("#careers", "helperbot: " + GROWTH_Q, "helperbot", contains=GROWTH)

    def test_kick_rejoins_after_a_delay_without_a_storm(self):
        srv = self.server(penalties=False)
        op = self.client(srv.port, "chanop")
        op.join("#kick")  # first in: channel operator
        b = self.bot(srv.port, channels="#kick")
        b.wait_log(r"joined #kick", 15)
        joins = lambda m: m.verb == "JOIN" and m.nick == BOT  # noqa: E731
        mark = op.mark()
        op.send("KICK #kick careerbot :first")
        kicked = op.wait_for(lambda m: m.verb == "KICK", 5, since=mark)
        rejoin = op.wait_for(joins, 16, since=mark, what="the bot's rejoin")
        delay = rejoin.time - kicked.time
        self.assertGreaterEqual(delay, 8.5, "rejoined too soon")
        self.assertLessEqual(delay, 13)
        m = op.ask("#kick", "careerbot: " + PAY_Q, BOT, contains=PAY)
        # Kicked again: it waits longer (doubling), so a kicking op is not fought.
        log_at = b.log_size()
        mark = op.mark()
        op.send("KICK #kick careerbot :again")
        kicked = op.wait_for(lambda m: m.verb == "KICK", 5, since=mark)
        b.wait_log(r"will try to join #kick again in 20 s", 5, after=log_at)
        time.sleep(13)
        self.assertFalse([m for m in op.since(mark) if joins(m)], "rejoined within 13 s of a second kick")
        rejoin = op.wait_for(joins, 12, since=mark, what="the bot's second rejoin")
        self.assertGreaterEqual(rejoin.time - kicked.time, 18)

    def test_invite_to_configured_channel(self):
        srv = self.server(penalties=False)
        op = self.client(srv.port, "chanop")
        op.join("#private")
        op.send("MODE #private +i")
        op.join("#elsewhere")
        op.send("MODE #elsewhere +i")
        op.sync()
        b = self.bot(srv.port, channels="#open, #private")
        b.wait_log(r"joined #open", 15)
        b.wait_log(r"cannot join #private", 10)
        b.wait_log(r"will try to join #private again in \d+ s", 5)
        mark = op.mark()
        op.send("INVITE careerbot #private")
        op.wait_for(lambda m: m.verb == "JOIN" and m.nick == BOT and m.target == "#private", 10, since=mark,
                    what="the bot joining after the invite")
        op.ask("#private", "careerbot: " + GROWTH_Q, BOT, contains=GROWTH)
        # An invite to a channel it is not configured for is ignored.
        log_at = b.log_size()
        op.send("INVITE careerbot #elsewhere")
        b.wait_log(r"ignoring invite from chanop to #elsewhere", 5, after=log_at)
        time.sleep(1)
        self.assertNotIn(BOT, op.names("#elsewhere"))


# ---------------------------------------------------------------------------


class NoAccountsTests(IrcTestCase):
    """ngircd tells no services accounts (no account-tag, no WHOX): with
    admins set, the bot says so once per connection, and nobody, whatever
    their nick, gets an operator command."""

    def test_no_account_information_means_no_admins(self):
        srv = self.server(penalties=False)
        b = self.bot(srv.port, irc={"admins": "boss"})
        b.wait_log(r"joined #careers", 15)
        b.wait_log(r"admins is set, but this server tells no accounts", 10)
        boss = self.client(srv.port, "boss")
        unknown = boss.ask(BOT, "!frobnicate", BOT).text.replace("!frobnicate", "CMD")
        self.assertEqual(boss.ask(BOT, "!status", BOT).text.replace("!status", "CMD"), unknown)
        self.assertEqual(boss.ask(BOT, "!join #bossy", BOT).text.replace("!join", "CMD"), unknown)
        self.assertNotIn(BOT, boss.names("#bossy"))
        self.assertNotIn("operator command from", b.log())
        self.assertEqual(b.log().count("tells no accounts"), 1)


class HostileServerTests(IrcTestCase):
    """Servers that misbehave, scripted on loopback with bounded loops: memory
    stays bounded and the bot sends no storms."""

    def scripted(self, **kw):
        srv = ScriptedServer(**kw)
        self.addCleanup(srv.close)
        return srv

    def bot(self, port, **kw):
        # Under AddressSanitizer freed memory waits in a quarantine (256 MB by
        # default), which resident memory would count as growth: keep it small.
        asan = os.environ.get("ASAN_OPTIONS", "")
        kw.setdefault("env", {"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=1"})
        return super().bot(port, **kw)

    def test_pings_to_a_server_that_never_reads(self):
        # Before registration the PONGs go straight out; nobody reads them, so
        # the bytes waiting to be written reach the limit and the bot drops the
        # connection with a clear line instead of growing.
        srv = self.scripted()
        b = self.bot(srv.port)
        srv.wait_connected()
        srv.wait_line(r"^USER ")
        srv.reading = False
        start_rss = b.rss_kb()
        peak = start_rss
        flood = b"PING :are-you-there\r\n" * 4000
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "the server is not reading" not in b.log():
            if not srv.send(flood):
                break
            peak = max(peak, b.rss_kb())
        b.wait_log(r"disconnected: the server is not reading: \d+ bytes are waiting to be written "
                   r"\(the limit is 262144\); dropping the connection", timeout=10)
        self.assertTrue(b.alive())
        self.assertLess(peak - start_rss, 20 * 1024, "resident memory grew by %d KiB" % (peak - start_rss))

    def test_pings_after_registration_are_answered_within_the_bucket(self):
        # Registered, the bot answers PINGs through its flood bucket and keeps
        # only the newest PONG: a PING flood from a server that does not read
        # neither grows the bot nor makes it flood.
        srv = self.scripted()
        b = self.bot(srv.port, channels="#careers")
        srv.wait_connected()
        srv.welcome()
        srv.wait_line(r"^JOIN #careers")
        start_rss = b.rss_kb()
        peak = start_rss
        srv.reading = False
        flood = b"PING :are-you-there\r\n" * 2000
        end = time.monotonic() + 6
        sent = 0
        while time.monotonic() < end and srv.send(flood):
            sent += 2000
            peak = max(peak, b.rss_kb())
        self.assertGreater(sent, 10000)
        self.assertTrue(b.alive())
        self.assertLess(peak - start_rss, 20 * 1024, "resident memory grew by %d KiB" % (peak - start_rss))
        srv.reading = True
        time.sleep(1.5)
        pongs = srv.count(r"^PONG ")
        self.assertGreaterEqual(pongs, 1)
        self.assertLessEqual(pongs, 15, "%d PONGs for a flood of PINGs" % pongs)

    def test_invites_after_a_kick_give_one_join(self):
        srv = self.scripted(small_buffer=False)
        b = self.bot(srv.port, channels="#careers")
        srv.wait_connected()
        srv.welcome()
        srv.wait_line(r"^JOIN #careers")
        srv.send(":careerbot!cb@h JOIN #careers\r\n")
        b.wait_log(r"joined #careers")
        storm = ":op!o@h KICK #careers careerbot :out\r\n" + ":op!o@h INVITE careerbot :#careers\r\n" * 1000
        srv.send(storm)
        time.sleep(3)
        self.assertEqual(srv.count(r"^JOIN #careers"), 2, "JOINs: %d" % srv.count(r"^JOIN #careers"))
        # Repeated kicks are warned about a few times, not a thousand.
        srv.send((":careerbot!cb@h JOIN #careers\r\n:op!o@h KICK #careers careerbot :again\r\n") * 300)
        srv.send(":op!o@h PING :probe\r\n")
        srv.wait_line(r"^PONG", timeout=10)
        time.sleep(0.5)
        self.assertLessEqual(b.log().count("kicked from #careers"), 4)
        self.assertLessEqual(srv.count(r"^JOIN #careers"), 3)

    def test_nick_storm_gives_few_nick_commands(self):
        srv = self.scripted(small_buffer=False)
        b = self.bot(srv.port, irc={"alt_nicks": "careerbot_"})
        srv.wait_connected()
        srv.wait_line(r"^USER ")
        srv.send(":fake.test CAP * LS :\r\n:fake.test 433 * careerbot :Nickname is already in use\r\n")
        srv.wait_line(r"^NICK careerbot_")
        srv.send(":fake.test 001 careerbot_ :Welcome\r\n")
        b.wait_log(r"registered as careerbot_")
        before = srv.count(r"^NICK careerbot$")
        srv.send((":careerbot!x@h QUIT :bye\r\n:fake.test 433 careerbot_ careerbot :in use\r\n") * 1000)
        time.sleep(3)
        self.assertLessEqual(srv.count(r"^NICK careerbot$") - before, 4)

    def test_control_bytes_from_the_server_do_not_reach_the_log(self):
        srv = self.scripted(small_buffer=False)
        b = self.bot(srv.port, channels="#careers")
        srv.wait_connected()
        srv.welcome()
        srv.wait_line(r"^JOIN #careers")
        srv.send(":careerbot!cb@h JOIN #careers\r\n"
                 ":op\x1b[2J!o@h KICK #careers careerbot :\x1b]0;owned\x07\x1b[31mred\r\n"
                 "ERROR :bye \x1b[0m\x03\x034colour\r\n")
        b.wait_log(r"server says: bye", timeout=10)
        log = b.log()
        self.assertIn("kicked from #careers by op?[2J", log)
        self.assertNotIn("\x1b", log)
        self.assertNotIn("\x07", log)
        self.assertNotIn("\x03", log)


class SignalTests(IrcTestCase):
    """SIGTERM quits cleanly; SIGHUP reloads the knowledge base, or keeps the old one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.class_server(penalties=False)

    def test_sigterm_sends_quit_and_exits_0(self):
        b = self.bot(self.srv.port, channels="#sigterm")
        b.wait_log(r"joined #sigterm", 15)
        a = self.client(self.srv.port, "alice")
        a.join("#sigterm")
        a.ask("#sigterm", "careerbot: " + PAY_Q, BOT, contains=PAY)
        mark = a.mark()
        b.signal(signal.SIGTERM)
        quit_ = a.wait_for(lambda m: m.verb == "QUIT" and m.nick == BOT, 5, since=mark, what="the bot's QUIT")
        self.assertIn("going offline", quit_.text)
        self.assertEqual(b.proc.wait(10), 0)
        self.assertRegex(b.log(), r"SIGTERM: quitting")
        self.assertRegex(b.log(), r"stopped")

    def test_sighup_keeps_a_broken_knowledge_base_and_loads_a_good_one(self):
        kb = os.path.join(self.workdir, "kb-copy")
        shutil.copytree(KNOWLEDGE, kb)
        b = self.bot(self.srv.port, nick="reloadbot", channels="#sighup", knowledge=kb)
        b.wait_log(r"joined #sighup", 15)
        a = self.client(self.srv.port, "bob")
        a.ask("reloadbot", PAY_Q, "reloadbot", contains=PAY)
        # Break it: a file that is not JSON.
        files = sorted(f for f in os.listdir(kb) if f.endswith(".json"))
        broken = os.path.join(kb, files[-1])
        with open(broken, "a", encoding="utf-8") as f:
            f.write("\n{ this is not json")
        log_at = b.log_size()
        b.signal(signal.SIGHUP)
        b.wait_log(r"keeping the old knowledge base: .*%s" % re.escape(files[-1]), 10, after=log_at)
        self.assertTrue(b.alive())
        a.ask("reloadbot", PAY_Q, "reloadbot", contains=PAY)
        # Repair it with a changed figure: the reload must show it.
        for name in files:
            with open(os.path.join(KNOWLEDGE, name), encoding="utf-8") as f:
                text = f.read()
            with open(os.path.join(kb, name), "w", encoding="utf-8") as f:
                f.write(text.replace(PAY, "$12,345"))
        log_at = b.log_size()
        b.signal(signal.SIGHUP)
        b.wait_log(r"knowledge base reloaded: \d+ topics", 10, after=log_at)
        m = a.ask("reloadbot", PAY_Q, "reloadbot", contains="$12,345")
        self.assertNotIn(PAY, m.text)
        self.assertTrue(b.alive())


# ---------------------------------------------------------------------------


class TlsTests(IrcTestCase):
    """TLS through ngircd with certificates made by the test: 'good' is
    signed by a test CA for localhost and 127.0.0.1; 'other' is self-signed
    for other.example."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs = make_certs(os.path.join(cls.workdir, "certs"))
        cls.good = cls.class_server(penalties=False, cert=cls.certs["server"], key=cls.certs["server_key"])
        cls.other = cls.class_server(penalties=False, cert=cls.certs["other"], key=cls.certs["other_key"])

    def tls_bot(self, srv, nick, channel, **irc):
        return self.bot(srv.tls_port, nick=nick, channels=channel, tls=True, irc=irc,
                        host=irc.pop("host", "127.0.0.1"))

    def assert_refused(self, b, pattern):
        m = b.wait_log(r"disconnected: (.*%s.*)" % pattern, 10)
        self.assertNotIn("registered as", b.log())
        self.assertTrue(b.alive())
        return m.group(1)

    def test_verified_certificate(self):
        b = self.tls_bot(self.good, "tlsbot", "#tls", tls_ca_file=self.certs["ca"])
        b.wait_log(r"TLS established with 127\.0\.0\.1", 10)
        b.wait_log(r"joined #tls", 10)
        a = self.client(self.good.port, "alice")  # the plain port of the same server
        a.join("#tls")
        m = a.ask("#tls", "tlsbot: " + PAY_Q, "tlsbot", contains=PAY)
        self.assertTrue(m.text.startswith("alice: "))
        m = a.ask("tlsbot", "/steps", "tlsbot", contains="1.")

    def test_verified_certificate_by_host_name(self):
        b = self.tls_bot(self.good, "namebot", "#tls", tls_ca_file=self.certs["ca"], host="localhost")
        b.wait_log(r"TLS established with localhost", 10)
        b.wait_log(r"joined #tls", 10)
        a = self.client(self.good.port, "carol")
        a.ask("namebot", GROWTH_Q, "namebot", contains=GROWTH)

    def test_wrong_host_name_is_refused(self):
        # other.pem is trusted here, but it is for other.example, not 127.0.0.1 / localhost.
        b1 = self.tls_bot(self.other, "wrongip", "#tls", tls_ca_file=self.certs["other"])
        b2 = self.tls_bot(self.other, "wrongname", "#tls", tls_ca_file=self.certs["other"], host="localhost")
        why = self.assert_refused(b1, "host name")
        self.assertIn("127.0.0.1", why)
        self.assertIn("other.example", why)
        why = self.assert_refused(b2, "host name")
        self.assertIn("localhost", why)
        self.assert_never_joined(self.other, ["wrongip", "wrongname"])

    def assert_never_joined(self, srv, nicks):
        a = self.client(srv.port, "checker%d" % srv.port)
        for nick in nicks:
            mark = a.mark()
            a.send("WHOIS " + nick)
            m = a.wait_for(lambda m: m.verb in ("311", "401"), 5, since=mark)
            self.assertEqual(m.verb, "401", "%s is on the server" % nick)
            a.privmsg(nick, PAY_Q)

    def test_untrusted_certificate_is_refused(self):
        b1 = self.tls_bot(self.other, "selfsigned", "#tls")          # self-signed, no tls_ca_file
        b2 = self.tls_bot(self.good, "unknownca", "#tls")            # signed by a CA nobody trusts
        why = self.assert_refused(b1, "untrusted certificate")
        self.assertIn("self-signed", why)
        self.assertIn(self.certs["other_sha256"], why)  # what to pin, if the operator wants to
        self.assert_refused(b2, "untrusted certificate")
        self.assert_never_joined(self.other, ["selfsigned"])
        self.assert_never_joined(self.good, ["unknownca"])

    def test_pinned_fingerprint_is_accepted(self):
        # Self-signed and for another name: the pin alone decides.
        b = self.tls_bot(self.other, "pinbot", "#tls", tls_fingerprint=self.certs["other_sha256"])
        b.wait_log(r"joined #tls", 10)
        a = self.client(self.other.port, "dave")
        a.ask("pinbot", PAY_Q, "pinbot", contains=PAY)

    def test_wrong_fingerprint_is_refused(self):
        b = self.tls_bot(self.good, "badpin", "#tls", tls_fingerprint=self.certs["other_sha256"],
                         tls_ca_file=self.certs["ca"])
        why = self.assert_refused(b, "fingerprint mismatch")
        self.assertIn(self.certs["server_sha256"], why)
        self.assert_never_joined(self.good, ["badpin"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
