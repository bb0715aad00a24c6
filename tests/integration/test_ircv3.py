"""careerbot on a modern IRCv3 network: InspIRCd 3 with Atheme services (Debian
packages; see ircharness.py for why not Ergo), started on free loopback ports
with generated configs and certificates, accounts registered through NickServ.

Covered: SASL PLAIN, EXTERNAL with a client certificate registered as CertFP,
ECDSA-NIST256P-CHALLENGE with a key registered as the account's public key, a
wrong password, a mechanism the server does not offer, SCRAM-SHA-256 against
an RFC 5802 server of the test's own (Atheme 7.2 has no SCRAM) including one
that lies, STS advertised on the plaintext port (the bot moves to TLS and
remembers it across a restart), accounts seen on messages (account-tag), the
BOT mode, the bot tag honoured, and a channel answer, a direct message and a
server restart.

Run: cd tests/integration && CAREERBOT_BIN=../../build/careerbot python3 -m unittest -v test_ircv3"""

import base64
import hashlib
import hmac
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ircharness import (OPENSSL, Atheme, Bot, Inspircd, IrcClient, careerbot_bin,  # noqa: E402
                        free_port, make_certs, modern_servers_missing, wait_until)

BOT = "careerbot"
ACCOUNT = "botacct"
PASSWORD = "correct-horse-battery-staple"
PAY = "$34,970"


def _openssl(*args, cwd):
    return subprocess.run([OPENSSL, *args], cwd=cwd, check=True, timeout=60, capture_output=True).stdout


def make_client_keys(directory):
    """A self-signed client certificate (bot.pem, bot.key) and a P-256 key for
    ECDSA-NIST256P-CHALLENGE (ecdsa.pem), with what services need of them."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "bot.key", "-out", "bot.pem", "-days", "2", "-subj", "/CN=careerbot",
             cwd=directory)
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ecdsa.pem", cwd=directory)
    der = _openssl("ec", "-in", "ecdsa.pem", "-pubout", "-conv_form", "compressed", "-outform", "DER",
                   cwd=directory)
    for name in ("bot.key", "ecdsa.pem"):
        os.chmod(os.path.join(directory, name), 0o600)
    out = subprocess.run([careerbot_bin(), "--print-certfp", os.path.join(directory, "bot.pem")],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    fp = re.search(r"SHA-256: ([0-9a-f]{64})", out).group(1)
    return {"cert": os.path.join(directory, "bot.pem"), "key": os.path.join(directory, "bot.key"),
            "ecdsa": os.path.join(directory, "ecdsa.pem"), "certfp": fp,
            "pubkey": base64.b64encode(der[-33:]).decode()}


class Ircv3TestCase(unittest.TestCase):
    """One InspIRCd (with an STS policy) and Atheme for the class, an account
    with a password, a CertFP and a public key."""

    ircd_without = ()  # InspIRCd modules a class runs without

    @classmethod
    def setUpClass(cls):
        if not os.access(careerbot_bin(), os.X_OK):
            raise unittest.SkipTest("no careerbot binary at %s" % careerbot_bin())
        missing = modern_servers_missing()
        if missing:
            raise unittest.SkipTest(missing)
        cls.workdir = tempfile.mkdtemp(prefix="careerbot-ircv3-")
        if not os.environ.get("CAREERBOT_IT_KEEP"):
            cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        else:
            print("\nkeeping", cls.workdir, file=sys.stderr)
        cls.certs = make_certs(os.path.join(cls.workdir, "certs"))
        cls.keys = make_client_keys(os.path.join(cls.workdir, "certs"))
        cls.ircd = Inspircd(cls.workdir, cls.certs, sts_duration=3600, without=cls.ircd_without)
        cls.addClassCleanup(cls.ircd.stop)
        cls.ircd.start()
        cls.services = Atheme(cls.ircd)
        cls.addClassCleanup(cls.services.stop)
        cls.services.start()
        cls.register_account(ACCOUNT, PASSWORD, certfp=cls.keys["certfp"], pubkey=cls.keys["pubkey"])
        cls.register_account("alice", "alice-password")

    @classmethod
    def register_account(cls, name, password, certfp=None, pubkey=None):
        c = IrcClient(cls.ircd.port, name)
        try:
            def ns(command, expect):
                mark = c.mark()
                c.privmsg("NickServ", command)
                c.wait_for(lambda m: m.nick == "NickServ" and re.search(expect, m.text, re.I), 10, since=mark,
                           what="NickServ: " + expect)
            ns("REGISTER %s %s@example.org" % (password, name), "registered")
            if certfp:
                ns("CERT ADD " + certfp, "added")
            if pubkey:
                ns("SET PUBKEY " + pubkey, "public key")
        finally:
            c.quit()

    def bot(self, irc=None, tls=True, **kw):
        keys = {"tls_ca_file": self.certs["ca"]} if tls else {}
        keys.update(irc or {})
        port = self.ircd.tls_port if tls else self.ircd.port
        b = Bot(self.workdir, port, tls=tls, irc=keys, **kw)
        self.addCleanup(b.stop)
        return b.start()

    def client(self, nick, port=None):
        c = IrcClient(port or self.ircd.port, nick)
        self.addCleanup(c.close)
        return c

    def whois_account(self, who, nick):
        """The account WHOIS shows for nick (330), or None."""
        mark = who.mark()
        who.send("WHOIS " + nick)
        end = who.wait_for(lambda m: m.verb in ("318", "401"), 10, since=mark, what="end of WHOIS")
        for m in who.since(mark):
            if m.verb == "330" and len(m.params) >= 3:
                return m.params[2]
            if m is end:
                break
        return None


class SaslTests(Ircv3TestCase):

    def logged_in(self, b, mechanism):
        b.wait_log(r"SASL login succeeded \(%s\)" % mechanism, timeout=20)
        b.wait_log(r"registered as careerbot", timeout=10)
        w = self.client("watcher%d" % (time.monotonic_ns() % 10000))
        self.assertEqual(self.whois_account(w, BOT), ACCOUNT)

    def test_plain_when_only_a_password_is_set(self):
        # The server offers PLAIN, EXTERNAL and ECDSA: with a password alone, PLAIN.
        b = self.bot({"sasl_user": ACCOUNT, "sasl_password": PASSWORD})
        self.logged_in(b, "PLAIN")
        self.assertNotIn(PASSWORD, b.log())

    def test_external_with_a_registered_client_certificate(self):
        b = self.bot({"tls_cert": self.keys["cert"], "tls_key": self.keys["key"]})
        self.logged_in(b, "EXTERNAL")
        self.assertNotIn("can be read by other users", b.log())

    def test_ecdsa_challenge_with_a_registered_key(self):
        b = self.bot({"sasl_user": ACCOUNT, "sasl_ecdsa_key": self.keys["ecdsa"]})
        self.logged_in(b, "ECDSA-NIST256P-CHALLENGE")

    def test_wrong_password_quits(self):
        b = self.bot({"sasl_user": ACCOUNT, "sasl_password": "not the password"})
        b.wait_log(r"SASL login as botacct failed: .*sasl_required is set", timeout=20)
        b.wait_log(r"disconnected: SASL failed", timeout=10)
        b.wait_log(r"reconnecting in", timeout=5)
        w = self.client("watcher2")
        mark = w.mark()
        w.send("WHOIS " + BOT)
        self.assertEqual(w.wait_for(lambda m: m.verb in ("311", "401"), 10, since=mark).verb, "401")
        self.assertNotIn("not the password", b.log())

    def test_mechanism_the_server_does_not_offer(self):
        b = self.bot({"sasl_user": ACCOUNT, "sasl_password": PASSWORD,
                      "sasl_mechanisms": "SCRAM-SHA-512, SCRAM-SHA-256"})
        b.wait_log(r"the server offers EXTERNAL, ECDSA-NIST256P-CHALLENGE, PLAIN; none of ours "
                   r"\(SCRAM-SHA-512, SCRAM-SHA-256\) fits", timeout=20)
        self.assertNotIn("AUTHENTICATE PLAIN", b.log())
        b.wait_log(r"disconnected: SASL failed", timeout=10)


class AccountAndBotTests(Ircv3TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        b = Bot(cls.workdir, cls.ircd.tls_port, tls=True, debug=True, channels="#careers",
                irc={"tls_ca_file": cls.certs["ca"], "sasl_user": ACCOUNT, "sasl_password": PASSWORD})
        cls.addClassCleanup(b.stop)
        cls.b = b.start()
        cls.b.wait_log(r"joined #careers", timeout=20)

    def alice(self):
        c = self.client("alice")
        mark = c.mark()
        c.privmsg("NickServ", "IDENTIFY alice alice-password")
        c.wait_for(lambda m: m.nick == "NickServ" and "identified" in m.text, 10, since=mark,
                   what="IDENTIFY")
        return c

    def test_account_tag_on_messages(self):
        a = self.alice()
        m = a.ask(BOT, "how much do medical coders make?", BOT, contains=PAY)
        self.assertEqual(m.target, "alice")
        self.b.wait_log(r"message from alice \(account alice\) to careerbot", timeout=10)

    def test_bot_mode_is_set(self):
        w = self.client("modewatch")
        mark = w.mark()
        w.send("WHOIS " + BOT)
        w.wait_for(lambda m: m.verb == "318", 10, since=mark)
        self.assertTrue(any(m.verb == "335" for m in w.since(mark)), "no RPL_WHOISBOT: %s" % w.since(mark))
        self.b.wait_log(r"registered as careerbot")

    def test_messages_from_other_bots_are_not_answered(self):
        other = self.client("otherbot")
        other.send("MODE otherbot +B")
        other.sync()
        mark = other.mark()
        other.privmsg(BOT, "how much do medical coders make?")
        probe = self.client("probe")
        reply = probe.ask(BOT, "!about", BOT, timeout=10)
        time.sleep(0.5)
        said = [m for m in other.since(mark) if m.nick == BOT and m.verb in ("PRIVMSG", "NOTICE")]
        self.assertEqual(said, [], "the bot answered a bot")
        self.assertTrue(reply.text)

    def test_channel_answer(self):
        a = self.alice()
        a.join("#careers")
        m = a.ask("#careers", "careerbot: how much do medical coders make?", BOT, contains=PAY)
        self.assertTrue(m.text.startswith("alice: "), m)


class StsTests(Ircv3TestCase):

    def test_plaintext_moves_to_tls_and_remembers(self):
        state = os.path.join(self.workdir, "sts-state")
        os.makedirs(state, exist_ok=True)
        # The server's certificate is trusted as a public one would be (the
        # system store: here SSL_CERT_FILE), since tls_ca_file needs tls = yes.
        env = {"SSL_CERT_FILE": self.certs["ca"]}
        keys = {}
        # A host name, not an address: servers advertise the TLS policy only to
        # clients that sent one (SNI).
        b = Bot(self.workdir, self.ircd.port, tls=False, irc=keys, bot={"state_dir": state}, env=env,
                host="localhost")
        self.addCleanup(b.stop)
        b.start()
        b.wait_log(r"requires TLS \(STS\): reconnecting with TLS to port %d" % self.ircd.tls_port, timeout=20)
        b.wait_log(r"connected to localhost:%d \(TLS\)" % self.ircd.tls_port, timeout=20)
        b.wait_log(r"registered as careerbot", timeout=20)
        policy = os.path.join(state, "irc-sts")
        self.assertTrue(wait_until(lambda: os.path.exists(policy), 10), "no policy file")
        with open(policy) as f:
            host, port, expires = f.read().split()
        self.assertEqual((host, int(port)), ("localhost", self.ircd.tls_port))
        self.assertGreater(float(expires), time.time() + 3000)
        self.assertEqual(os.stat(policy).st_mode & 0o077, 0)
        b.stop()

        # Restarted with the same plaintext config: TLS from the first connection on.
        b2 = Bot(self.workdir, self.ircd.port, tls=False, irc=keys, bot={"state_dir": state}, env=env,
                 host="localhost")
        self.addCleanup(b2.stop)
        b2.start()
        b2.wait_log(r"has an STS policy: connecting with TLS to port %d" % self.ircd.tls_port, timeout=10)
        b2.wait_log(r"registered as careerbot", timeout=20)
        self.assertNotIn("connecting to localhost:%d" % self.ircd.port, b2.log())
        self.assertNotIn("requires TLS", b2.log())


class RestartTests(Ircv3TestCase):

    def test_server_restart_logs_in_again(self):
        b = self.bot({"sasl_user": ACCOUNT, "sasl_password": PASSWORD}, channels="#careers")
        b.wait_log(r"joined #careers", timeout=20)
        d = self.client("dmuser")
        self.assertIn(PAY, d.ask(BOT, "how much do medical coders make?", BOT, contains=PAY).text)
        at = b.log_size()
        self.services.stop()
        self.ircd.stop()
        b.wait_log(r"disconnected", timeout=20, after=at)
        self.ircd.start()
        self.services.start()
        b.wait_log(r"SASL login succeeded \(PLAIN\)", timeout=60, after=at)
        b.wait_log(r"joined #careers", timeout=20, after=at)
        d2 = self.client("dmuser2")
        self.assertIn(PAY, d2.ask(BOT, "how much do medical coders make?", BOT, contains=PAY).text)


# ---- SCRAM-SHA-256 against a server of the test's own ------------------------------


class ScramServer:
    """Just enough of an IRC server for SASL SCRAM-SHA-256 (RFC 5802 and 7677,
    written from the RFC with hashlib): CAP LS 302 offering sasl=SCRAM-SHA-256,
    the exchange, 903 or 904, then 001. lie=True sends a server signature made
    with another password."""

    def __init__(self, password, lie=False):
        self.password = password
        self.lie = lie
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.result = None
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped = True
        self.sock.close()
        self.thread.join(5)

    def _serve(self):
        self.sock.settimeout(0.5)
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                try:
                    self._session(conn)
                except OSError:
                    pass
            return

    def _session(self, conn):
        conn.settimeout(15)
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line.encode() + b"\r\n")

        salt, iterations = b"test salt", 4096
        client_first_bare = server_first = None
        for raw in f:
            line = raw.decode().rstrip("\r\n")
            self.lines.append(line)
            verb, _, rest = line.partition(" ")
            if line == "AUTHENTICATE *":
                self.result = "aborted by the client"
                send(":scram.test 906 careerbot :SASL authentication aborted")
            elif verb == "CAP" and rest.startswith("LS"):
                send(":scram.test CAP * LS :sasl=SCRAM-SHA-256")
            elif verb == "CAP" and rest.startswith("REQ"):
                send(":scram.test CAP * ACK :sasl")
            elif line == "AUTHENTICATE SCRAM-SHA-256":
                send("AUTHENTICATE +")
            elif verb == "AUTHENTICATE" and client_first_bare is None:
                msg = base64.b64decode(rest).decode()
                assert msg.startswith("n,,")
                client_first_bare = msg[3:]
                cnonce = dict(p.split("=", 1) for p in client_first_bare.split(","))["r"]
                server_first = "r=%sSRV,s=%s,i=%d" % (cnonce, base64.b64encode(salt).decode(), iterations)
                send("AUTHENTICATE " + base64.b64encode(server_first.encode()).decode())
            elif verb == "AUTHENTICATE" and rest != "+":
                final = base64.b64decode(rest).decode()
                without_proof, proof = final.rsplit(",p=", 1)
                auth = ",".join((client_first_bare, server_first, without_proof)).encode()
                salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iterations)
                client_key = hmac.new(salted, b"Client Key", "sha256").digest()
                stored = hashlib.sha256(client_key).digest()
                sig = hmac.new(stored, auth, "sha256").digest()
                ok = bytes(a ^ b for a, b in zip(client_key, sig)) == base64.b64decode(proof)
                if not ok:
                    self.result = "bad proof"
                    send(":scram.test 904 careerbot :SASL authentication failed")
                    continue
                key_for = b"a lie" if self.lie else self.password.encode()
                salted_s = hashlib.pbkdf2_hmac("sha256", key_for, salt, iterations)
                server_key = hmac.new(salted_s, b"Server Key", "sha256").digest()
                server_sig = hmac.new(server_key, auth, "sha256").digest()
                send("AUTHENTICATE " + base64.b64encode(b"v=" + base64.b64encode(server_sig)).decode())
            elif line == "AUTHENTICATE +":
                self.result = "proved"
                send(":scram.test 900 careerbot careerbot!cb@h scramacct :You are now logged in as scramacct")
                send(":scram.test 903 careerbot :SASL authentication successful")
            elif line == "CAP END":
                send(":scram.test 001 careerbot :Welcome")
            elif verb == "QUIT":
                self.result = (self.result or "") + "; quit: " + rest
                return


class ScramTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not os.access(careerbot_bin(), os.X_OK):
            raise unittest.SkipTest("no careerbot binary at %s" % careerbot_bin())
        cls.workdir = tempfile.mkdtemp(prefix="careerbot-scram-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)

    def run_bot(self, server):
        self.addCleanup(server.stop)
        b = Bot(self.workdir, server.port, channels="#careers",
                irc={"sasl_user": "scramacct", "sasl_password": "pencil", "allow_plaintext_credentials": "yes",
                     "ignore_sts": "yes"})
        self.addCleanup(b.stop)
        return b.start()

    def test_scram_sha256_login(self):
        server = ScramServer("pencil")
        b = self.run_bot(server)
        b.wait_log(r"SASL login succeeded \(SCRAM-SHA-256\)", timeout=20)
        b.wait_log(r"registered as careerbot", timeout=10)
        self.assertEqual(server.result, "proved")
        self.assertIn("allow_plaintext_credentials = yes", b.log())  # said at every start
        self.assertFalse(any("pencil" in line for line in server.lines))

    def test_server_with_a_wrong_signature_is_refused(self):
        server = ScramServer("pencil", lie=True)
        b = self.run_bot(server)
        b.wait_log(r"SASL login as scramacct failed: the server's SCRAM signature is wrong", timeout=20)
        self.assertTrue(wait_until(lambda: server.result and "quit" in server.result, 10),
                        "%s\n%s\n%s" % (server.result, server.lines, b.log()))
        self.assertIn("aborted by the client", server.result)
        self.assertNotIn("registered as careerbot", b.log())


# ---- operator commands ----------------------------------------------------------------

ADMIN = "boss"
ADMIN_PASSWORD = "boss-password"


class OperatorTestCase(Ircv3TestCase):
    """A bot whose admins = boss (a services account), on a state directory of
    its own; boss talks from the nick bossman, identified to the account."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.register_account(ADMIN, ADMIN_PASSWORD)

    def operator_bot(self, state=None, **kw):
        state = state or tempfile.mkdtemp(prefix="state-", dir=self.workdir)
        b = self.bot({"admins": ADMIN, "command_prefixes": "!"}, channels="#careers", debug=True,
                     bot={"state_dir": state}, **kw)
        b.wait_log(r"joined #careers", timeout=20)
        b.state = state
        return b

    def identified(self, nick, account, password):
        c = self.client(nick)
        mark = c.mark()
        c.privmsg("NickServ", "IDENTIFY %s %s" % (account, password))
        c.wait_for(lambda m: m.nick == "NickServ" and "identified" in m.text.lower(), 10, since=mark,
                   what="IDENTIFY")
        return c

    def admin(self):
        return self.identified("bossman", ADMIN, ADMIN_PASSWORD)

    def ordinary_reply(self, c, command):
        """What the gate says to someone for an unknown command, with the
        command's own name taken out, to compare replies."""
        m = c.ask(BOT, command, BOT)
        return m.text.replace(command.split()[0], "CMD")

    def assert_refused_like_unknown(self, c, command):
        unknown = self.ordinary_reply(c, "!frobnicate")
        self.assertIn("don't know", unknown)
        self.assertEqual(self.ordinary_reply(c, command), unknown)


class OperatorTests(OperatorTestCase):

    def test_admin_joins_says_and_parts(self):
        b = self.operator_bot()
        boss = self.admin()
        watcher = self.client("opwatch")
        watcher.join("#ops")
        self.assertEqual(boss.ask(BOT, "!join #ops", BOT).text, "Joining #ops.")
        self.assertTrue(wait_until(lambda: BOT in watcher.names("#ops"), 10), "the bot did not join #ops")
        b.wait_log(r"NOTICE network=irc.test: operator command from bossman \(account boss\): join #ops", timeout=5)
        mark = watcher.mark()
        boss.privmsg(BOT, "!say #ops good morning, coders")
        m = watcher.wait_for(watcher.replies_from(BOT, "PRIVMSG", "#ops"), 10, since=mark)
        self.assertEqual(m.text, "good morning, coders")
        # Only where the bot is: a channel it is not in gets a refusal, not a message.
        self.assertEqual(boss.ask(BOT, "!say #elsewhere hi", BOT).text, "I am not in #elsewhere.")
        self.assertEqual(boss.ask(BOT, "!part #ops", BOT).text, "Left #ops.")
        self.assertTrue(wait_until(lambda: BOT not in watcher.names("#ops"), 10), "the bot did not leave #ops")
        self.assertEqual(boss.ask(BOT, "!part #ops", BOT).text, "I am not in #ops.")
        # Bad arguments get a clear answer.
        self.assertIn("needs a channel", boss.ask(BOT, "!join ops", BOT).text)

    def test_admin_help_lists_operator_commands(self):
        self.operator_bot()
        boss = self.admin()
        mark = boss.mark()
        boss.privmsg(BOT, "!help")
        boss.wait_for(lambda m: m.nick == BOT and "Operator commands" in m.text, 15, since=mark,
                      what="the operator commands in !help")
        lines = [m.text for m in boss.since(mark) if m.nick == BOT]
        self.assertIn("Commands:", " ".join(lines))  # the ordinary help first
        alice = self.identified("alice", "alice", "alice-password")
        mark = alice.mark()
        alice.privmsg(BOT, "!help")
        alice.wait_for(lambda m: m.nick == BOT and "Commands:" in m.text, 15, since=mark)
        time.sleep(1.5)
        self.assertFalse(any("Operator" in m.text for m in alice.since(mark)), "a non-admin saw the operator help")

    def test_non_admin_and_nick_impostor_are_refused(self):
        b = self.operator_bot()
        alice = self.identified("alice", "alice", "alice-password")  # logged in, not an admin
        self.assert_refused_like_unknown(alice, "!join #alicechan")
        self.assert_refused_like_unknown(alice, "!status")
        impostor = self.client(ADMIN)  # the admin's account name as a nick, not logged in
        self.assert_refused_like_unknown(impostor, "!join #impostor")
        self.assert_refused_like_unknown(impostor, "!reload")
        watcher = self.client("impwatch")
        self.assertNotIn(BOT, watcher.names("#alicechan"))
        self.assertNotIn(BOT, watcher.names("#impostor"))
        self.assertNotIn("operator command from", b.log())
        # An admin in a channel is no admin either: commands there are the channel's.
        boss = self.admin()
        boss.join("#careers")
        mark = boss.mark()
        boss.privmsg("#careers", "!join #fromchannel")
        time.sleep(1.5)
        self.assertNotIn(BOT, watcher.names("#fromchannel"))
        self.assertFalse([m for m in boss.since(mark) if m.nick == BOT and "Joining" in m.text])

    def test_ignore_and_unignore(self):
        self.operator_bot()
        boss = self.admin()
        dave = self.client("dave")
        self.assertIn(PAY, dave.ask(BOT, "how much do medical coders make?", BOT, contains=PAY).text)
        self.assertEqual(boss.ask(BOT, "!ignore dave", BOT).text, "Ignoring dave.")
        mark = dave.mark()
        dave.privmsg(BOT, "how much do medical coders make?")
        probe = self.client("probe2")
        probe.ask(BOT, "!about", BOT)  # the bot has read dave's line by now
        time.sleep(1)
        self.assertEqual([m for m in dave.since(mark) if m.nick == BOT], [], "an ignored nick was answered")
        self.assertEqual(boss.ask(BOT, "!unignore dave", BOT).text, "No longer ignoring dave.")
        self.assertIn(PAY, dave.ask(BOT, "how much do medical coders make?", BOT, contains=PAY).text)

    def test_status(self):
        self.operator_bot()
        boss = self.admin()
        mark = boss.mark()
        boss.privmsg(BOT, "!status")
        boss.wait_for(lambda m: m.nick == BOT and m.text.startswith("careerbot: 1 of 1 network connected"), 15,
                      since=mark, what="the process line")
        lines = [m.text for m in boss.since(mark) if m.nick == BOT]
        net = [line for line in lines if line.startswith("irc.test: connected since")]
        self.assertEqual(len(net), 1, lines)
        self.assertIn("channels=1/1", net[0])

    def test_reload_good_and_bad(self):
        b = self.operator_bot()
        boss = self.admin()
        m = boss.ask(BOT, "!reload", BOT, timeout=20)
        self.assertTrue(m.text.startswith("Reloaded: 1 kept, 0 started, 0 stopped, 0 restarted"), m.text)
        with open(b.config) as f:
            good = f.read()
        with open(b.config, "a") as f:
            f.write("bogus_key = 1\n")
        mark = boss.mark()
        boss.privmsg(BOT, "!reload")
        boss.wait_for(lambda m: m.nick == BOT and "bogus_key" in m.text, 15, since=mark, what="the problem")
        boss.wait_for(lambda m: m.nick == BOT and "old configuration is kept" in m.text, 15, since=mark)
        self.assertTrue(any("Reload refused" in m.text for m in boss.since(mark) if m.nick == BOT))
        with open(b.config, "w") as f:
            f.write(good)
        # The old configuration is still in force: the same connection answers.
        self.assertIn(PAY, boss.ask(BOT, "how much do medical coders make?", BOT, contains=PAY).text)
        self.assertEqual(b.log().count("registered as careerbot"), 1)

    def test_restart_keeps_joins_parts_and_ignores(self):
        b = self.operator_bot()
        boss = self.admin()
        watcher = self.client("keepwatch")
        self.assertEqual(boss.ask(BOT, "!join #kept", BOT).text, "Joining #kept.")
        self.assertEqual(boss.ask(BOT, "!part #careers", BOT).text, "Left #careers.")
        self.assertEqual(boss.ask(BOT, "!ignore erin", BOT).text, "Ignoring erin.")
        path = os.path.join(b.state, "irc-test.runtime.json")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual([n for n in os.listdir(b.state) if n.endswith(".tmp")], [])
        b.stop()
        b2 = Bot(self.workdir, self.ircd.tls_port, tls=True, channels="#careers", debug=True,
                 irc={"tls_ca_file": self.certs["ca"], "admins": ADMIN}, bot={"state_dir": b.state})
        self.addCleanup(b2.stop)
        b2.start()
        b2.wait_log(r"joined #kept", timeout=20)
        time.sleep(1)
        self.assertNotIn("joined #careers", b2.log())
        self.assertIn(BOT, watcher.names("#kept"))
        self.assertNotIn(BOT, watcher.names("#careers"))
        erin = self.client("erin")
        mark = erin.mark()
        erin.privmsg(BOT, "how much do medical coders make?")
        self.client("probe3").ask(BOT, "!about", BOT)
        time.sleep(1)
        self.assertEqual([m for m in erin.since(mark) if m.nick == BOT], [], "erin is ignored after a restart")
        # A damaged file is said and left alone: the configuration applies.
        b2.stop()
        with open(path, "w") as f:
            f.write("{not json")
        b3 = Bot(self.workdir, self.ircd.tls_port, tls=True, channels="#careers",
                 irc={"tls_ca_file": self.certs["ca"], "admins": ADMIN}, bot={"state_dir": b.state})
        self.addCleanup(b3.stop)
        b3.start()
        b3.wait_log(r"ignoring the operators' saved changes: .*damaged", timeout=10)
        b3.wait_log(r"joined #careers", timeout=20)


class WhoxOperatorTests(OperatorTestCase):
    """InspIRCd without its account-tag module: the bot learns who sent a
    command through WHOX (WHO nick %tna), holding the command meanwhile."""

    ircd_without = ("ircv3_accounttag",)

    def test_admin_known_through_whox(self):
        b = self.operator_bot()
        self.assertNotIn("tells no accounts", b.log())
        boss = self.admin()
        m = boss.ask(BOT, "!status", BOT, timeout=15)
        self.assertTrue(m.text.startswith("irc.test: connected since"), m.text)
        b.wait_log(r"operator command from bossman \(account boss\): status", timeout=5)
        self.assertRegex(self.ircd.log() + b.log(), r"WHO bossman %tna,714|asking the server who bossman is")
        impostor = self.client(ADMIN)
        self.assert_refused_like_unknown(impostor, "!status")
        # Questions are never held: only what looks like an operator command.
        self.assertIn(PAY, impostor.ask(BOT, "how much do medical coders make?", BOT, contains=PAY).text)


if __name__ == "__main__":
    unittest.main()
