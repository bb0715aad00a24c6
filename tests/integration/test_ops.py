"""careerbot as an operator runs it, against a private ngircd on loopback:
the status report on SIGUSR1, /metrics and /healthz, SIGHUP applying a new
configuration network by network, systemd's notifications (a datagram socket
standing in for systemd), the log's two styles, secrets kept out of the log,
root refused, and the shipped example config.

Run: cd tests/integration && CAREERBOT_BIN=../../build/careerbot python3 -m unittest -v test_ops"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ircharness import REPO, IrcClient, Ngircd, careerbot_bin, free_port, stop_process, wait_until  # noqa: E402

KNOWLEDGE = os.path.join(REPO, "knowledge")
PAY = "$34,970"


def features():
    return subprocess.run([careerbot_bin(), "--version"], capture_output=True, text=True, timeout=30).stdout


def http_get(port, path, method="GET"):
    """(status, body) of a request to the metrics listener."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("Content-Type")


def network(name, port, nick, channels="#ops", extra=None):
    keys = {"host": "127.0.0.1", "port": str(port), "tls": "no", "nick": nick, "channels": channels,
            "flood_control": "no"}
    keys.update(extra or {})
    return "[irc.%s]\n%s\n" % (name, "".join("%s = %s\n" % kv for kv in keys.items()))


class Service:
    """careerbot --config FILE --serve, its log in a file."""

    def __init__(self, workdir, name):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "careerbot.ini")
        self.log_path = os.path.join(self.dir, "careerbot.log")
        self.proc = None

    def write(self, text):
        with open(self.config, "w") as f:
            f.write("[bot]\nknowledge = %s\n" % KNOWLEDGE + text)

    def start(self, args=(), env=None, log_env=None):
        self._log = open(self.log_path, "ab")
        e = dict(os.environ)
        e.pop("CAREERBOT_DEBUG", None)
        e.update(env or {})
        if log_env:
            e.update(log_env(self._log))
        self.proc = subprocess.Popen([careerbot_bin(), "--config", self.config, "--serve", *args],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=e)
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=15, after=0):
        rx = re.compile(pattern)

        def found():
            m = rx.search(self.log(), after)
            if not m and self.proc.poll() is not None:
                raise AssertionError("careerbot exited (%s) before logging /%s/:\n%s"
                                     % (self.proc.returncode, pattern, self.log()))
            return m
        m = wait_until(found, timeout)
        if not m:
            raise AssertionError("careerbot did not log /%s/ within %ss; its log:\n%s" % (pattern, timeout, self.log()))
        return m

    def mark(self):
        return len(self.log())

    def stop(self):
        rc = stop_process(self.proc)
        self._log.close()
        if re.search(r"ERROR: \w+Sanitizer|runtime error: ", self.log()):
            raise AssertionError("sanitizer report:\n" + self.log())
        return rc


class OpsTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(careerbot_bin(), os.X_OK):
            raise unittest.SkipTest("no careerbot binary at %s" % careerbot_bin())
        if not os.access("/usr/sbin/ngircd", os.X_OK) and "NGIRCD" not in os.environ:
            raise unittest.SkipTest("ngircd is not installed (apt-get install ngircd)")
        cls.workdir = tempfile.mkdtemp(prefix="careerbot-ops-")
        os.chmod(cls.workdir, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.srv = Ngircd(cls.workdir, penalties=False)
        cls.addClassCleanup(cls.srv.stop)
        cls.srv.start()

    def service(self, name):
        s = Service(self.workdir, name)
        self.addCleanup(lambda: s.proc and s.proc.poll() is None and s.stop())
        return s

    def client(self, nick):
        c = IrcClient(self.srv.port, nick)
        self.addCleanup(c.close)
        return c


class StatusTests(OpsTestCase):
    def test_status_report_and_metrics(self):
        if " metrics" not in features():
            self.skipTest("built without libmicrohttpd")
        port = free_port()
        s = self.service("status")
        s.write("metrics_listen = 127.0.0.1:%d\n" % port + network("one", self.srv.port, "statbot1")
                + network("two", self.srv.port, "statbot2", "#ops, #more", {"nickserv_password": "n1ck-Secret-99",
                                                                    "allow_plaintext_credentials": "yes"}))
        s.start(["-v"])
        s.wait_log(r"network=irc\.one: joined #ops")
        s.wait_log(r"network=irc\.two: joined #more")
        alice = self.client("opsalice")
        alice.ask("statbot1", "how much do medical coders make?", "statbot1", contains=PAY)
        alice.ask("statbot1", "what should I cook tonight?", "statbot1")
        at = s.mark()
        s.proc.send_signal(signal.SIGUSR1)
        one = s.wait_log(r"INFO network=irc\.one event=status connected=yes state=online since=\S+Z lag=\S+ "
                         r"heard_s_ago=\d+ channels=1/1 answered=1 declined=1 clarified=0 other=0 busy=0 queue=0/60: "
                         r"connected since ", after=at)
        self.assertTrue(one)
        s.wait_log(r"network=irc\.two event=status connected=yes .* channels=2/2 answered=0 ", after=at)
        s.wait_log(r"INFO careerbot event=status connected=2/2 rss=[0-9.]+MiB peak_rss=[0-9.]+MiB uptime_s=\d+: "
                   r"2 of 2 networks connected", after=at)

        status, body, ctype = http_get(port, "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        self.assertIn('careerbot_network_connected{network="irc.one",kind="irc"} 1\n', body)
        self.assertIn('careerbot_network_rooms_joined{network="irc.two",kind="irc"} 2\n', body)
        self.assertIn('careerbot_replies_total{network="irc.one",kind="irc",reply="answered"} 1\n', body)
        self.assertIn('careerbot_replies_total{network="irc.one",kind="irc",reply="declined"} 1\n', body)
        self.assertIn('careerbot_build_info{version="', body)
        self.assertRegex(body, r"\ncareerbot_resident_memory_bytes [1-9]\d+\n")
        for line in body.splitlines():  # the text format: comments, or NAME{LABELS} VALUE
            self.assertRegex(line, r'^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? '
                                   r'-?[0-9.e+]+)$')
        self.assertEqual(http_get(port, "/healthz")[:2], (200, "irc.one ok\nirc.two ok\nok\n"))
        self.assertEqual(http_get(port, "/nothing")[0], 404)
        self.assertEqual(http_get(port, "/metrics", "POST")[0], 405)
        self.assertEqual(http_get(port, "/metrics", "HEAD")[0], 200)

        self.assertEqual(s.stop(), 0)
        self.assertNotIn("n1ck-Secret-99", s.log(), "a secret reached the log")
        self.assertRegex(s.log(), r"Z DEBUG metrics: GET /healthz: 200\n")  # -v: debug lines are written


class MatrixStatusTests(OpsTestCase):
    """The Matrix account's side of the status report, on the fake homeserver."""

    def test_matrix_status(self):
        from fake_homeserver import FakeHomeserver
        hs = FakeHomeserver().start()
        self.addCleanup(hs.stop)
        token = "syt_status_token_0987654321"
        me = hs.add_user("careerbot", token=token)
        alice = hs.add_user("alice")
        hs.create_room([alice, me])
        hs.create_room([alice, me])
        s = self.service("matrix")
        s.write("state_dir = %s\n[matrix.mx]\nhomeserver = %s\nuser_id = @careerbot:localhost\n"
                "access_token = %s\nsync_timeout = 5\n" % (os.path.join(s.dir, "state"), hs.url, token))
        s.start()
        s.wait_log(r"network=matrix\.mx: first sync: 2 rooms")
        at = s.mark()
        s.proc.send_signal(signal.SIGUSR1)
        s.wait_log(r"INFO network=matrix\.mx event=status connected=yes state=syncing since=\S+Z lag=- "
                   r"heard_s_ago=\d+ rooms=2 answered=0 declined=0 clarified=0 other=0 busy=0 queue=0/200: ", after=at)
        # A changed account restarts only once the old one has stopped and
        # saved its state: the new one goes on from its sync position.
        at = s.mark()
        with open(s.config, "a") as f:
            f.write("queue_max = 6\n")
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"restarted=1 unchanged=0: configuration reloaded", after=at)
        stopped = s.wait_log(r"network=matrix\.mx: stopped\n", after=at)
        started = s.wait_log(r"network=matrix\.mx: starting as @careerbot:localhost on \S+\n", after=at)
        self.assertLess(stopped.start(), started.start())
        # Connected again once its first long-poll (sync_timeout = 5) answers.
        at = s.mark()

        def connected():
            s.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.5)
            return re.search(r"network=matrix\.mx event=status connected=yes state=syncing .* queue=0/6: ",
                             s.log()[at:])
        self.assertTrue(wait_until(connected, 15), "not connected after the restart:\n" + s.log()[at:][-2000:])
        self.assertEqual(s.stop(), 0)
        self.assertNotIn(token, s.log())


class ReloadTests(OpsTestCase):
    def test_networks_follow_the_file(self):
        s = self.service("reload")
        one = network("one", self.srv.port, "hupbot1")
        s.write(one)
        s.start()
        s.wait_log(r"network=irc\.one: joined #ops")
        watcher = self.client("hupwatch")
        watcher.join("#ops")
        self.assertIn("hupbot1", watcher.names("#ops"))

        # A network added: started; the unchanged one keeps its connection.
        at, seen = s.mark(), watcher.mark()
        s.write(one + network("two", self.srv.port, "hupbot2"))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"event=reload started=1 stopped=0 restarted=0 unchanged=1: configuration reloaded", after=at)
        s.wait_log(r"network=irc\.two: joined #ops", after=at)
        watcher.wait_for(lambda m: m.verb == "JOIN" and m.nick == "hupbot2", since=seen)

        # One changed: reconnected with its new settings, the other left alone.
        at = s.mark()
        s.write(one + network("two", self.srv.port, "hupbot2", "#ops2"))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"started=0 stopped=0 restarted=1 unchanged=1: configuration reloaded", after=at)
        s.wait_log(r"network=irc\.two: joined #ops2", after=at)
        watcher.wait_for(lambda m: m.verb == "QUIT" and m.nick == "hupbot2", since=seen)

        # A bad file: every problem logged, nothing changes.
        at = s.mark()
        s.write(one + network("two", self.srv.port, "hupbot2", "#ops2", {"port": "0", "flood_burst": "x"}))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"\[irc\.two\] port: must be a port number", after=at)
        s.wait_log(r"\[irc\.two\] flood_burst: ", after=at)
        s.wait_log(r"keeping the old configuration: the new one has problems", after=at)
        # Nor a file with nothing to run.
        at = s.mark()
        s.write(one.replace("[irc.one]\n", "[irc.one]\nenabled = no\n"))
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"keeping the old configuration: the new one runs no network", after=at)

        # One dropped: stopped, with its QUIT.
        at = s.mark()
        s.write(one)
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"started=0 stopped=1 restarted=0 unchanged=1: configuration reloaded", after=at)
        watcher.sync()
        time.sleep(0.3)
        quits = [m for m in watcher.since(seen) if m.verb == "QUIT" and m.nick == "hupbot1"]
        self.assertEqual(quits, [], "the unchanged network was never disconnected")
        self.assertNotRegex(s.log(), r"network=irc\.one: disconnected")
        watcher.ask("hupbot1", "how much do medical coders make?", "hupbot1", contains=PAY)
        self.assertEqual(s.stop(), 0)


class NotifyTests(OpsTestCase):
    def test_systemd_hears_ready_reloading_watchdog_stopping(self):
        if "sd-notify" not in features():
            self.skipTest("built without libsystemd")
        path = os.path.join(self.workdir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        self.addCleanup(sock.close)
        sock.settimeout(0.2)
        got = []

        def wait_for(prefix, timeout=15):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                for msg in got:
                    if msg.startswith(prefix) or ("\n" + prefix) in msg:
                        got.remove(msg)
                        return msg
                try:
                    got.append(sock.recv(4096).decode())
                except socket.timeout:
                    pass
            raise AssertionError("systemd did not hear %r; it heard %r" % (prefix, got))

        s = self.service("notify")
        s.write(network("one", self.srv.port, "notebot"))
        s.start(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        self.assertIn("STATUS=running 1 network", wait_for("READY=1"))
        wait_for("WATCHDOG=1", 2)
        wait_for("WATCHDOG=1", 2)  # and again: from the loop's timer
        s.wait_log(r"joined #ops")
        self.assertEqual(wait_for("STATUS=", 5), "STATUS=1 of 1 network connected")
        s.proc.send_signal(signal.SIGHUP)
        self.assertRegex(wait_for("RELOADING=1"), r"MONOTONIC_USEC=\d+")
        wait_for("READY=1")
        s.proc.send_signal(signal.SIGTERM)
        wait_for("STOPPING=1")
        self.assertEqual(s.proc.wait(10), 0)


class LogTests(OpsTestCase):
    def test_plain_and_journal_styles(self):
        plain = self.service("plain")
        plain.write(network("one", self.srv.port, "logbot1"))
        plain.start()
        plain.wait_log(r"joined #ops")
        self.assertEqual(plain.stop(), 0)
        lines = plain.log().splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN|NOTICE|INFO|DEBUG) \S")
        self.assertRegex(plain.log(), r"Z INFO careerbot event=start: running 1 network\n")
        self.assertRegex(plain.log(), r"Z INFO network=irc\.one: joined #ops\n")

        # Under journald (JOURNAL_STREAM names stderr): priorities, no stamps.
        journal = self.service("journal")
        journal.write(network("one", self.srv.port, "logbot2"))

        def stream(f):
            st = os.fstat(f.fileno())
            return {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}
        journal.start(["-q"], log_env=stream)
        time.sleep(1.5)
        journal.proc.send_signal(signal.SIGUSR1)  # info: not written under -q
        time.sleep(0.5)
        self.assertEqual(journal.stop(), 0)
        self.assertNotIn("event=status", journal.log())
        journal.start(log_env=stream)
        journal.wait_log(r"<6>network=irc\.one: joined #ops\n")
        self.assertEqual(journal.stop(), 0)
        for line in journal.log().splitlines():
            self.assertRegex(line, r"^<[3-7]>\S")


class SafetyTests(OpsTestCase):
    def test_root_is_refused_unless_allowed(self):
        if os.geteuid() != 0:
            self.skipTest("not running as root")
        s = self.service("root")
        s.write(network("one", self.srv.port, "rootbot"))
        env = dict(os.environ)
        env.pop("CAREERBOT_ALLOW_ROOT", None)
        r = subprocess.run([careerbot_bin(), "--config", s.config], env=env, capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refusing to run the networks as root", r.stderr)
        self.assertIn("--allow-root", r.stderr)
        p = subprocess.Popen([careerbot_bin(), "--config", s.config, "--allow-root"], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: p.poll() is not None, 1.5)
            self.assertIsNone(p.poll(), "--allow-root runs")
        finally:
            self.assertEqual(stop_process(p), 0)
            p.stdout.close()
        # The console and --ask are no service: they work as root.
        r = subprocess.run([careerbot_bin(), "--ask", "what do coders earn?", "--knowledge", KNOWLEDGE], env=env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)

    def test_example_config_says_what_to_fill_in(self):
        example = os.path.join(REPO, "config.example.ini")
        env = {k: v for k, v in os.environ.items() if k not in ("CAREERBOT_MATRIX_TOKEN", "STATE_DIRECTORY")}
        check = subprocess.run([careerbot_bin(), "--config", example, "--check-config"], env=env,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("1 IRC network, 1 Matrix account (2 disabled): ok", check.stdout)
        run = subprocess.run([careerbot_bin(), "--config", example], env=env, capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 78)  # EX_CONFIG: systemd does not restart it (RestartPreventExitStatus)
        self.assertIn("no network to run, every one has enabled = no", run.stderr)
        self.assertIn("[irc.example]: not run (enabled = no); to run it, fill in host (now irc.example.org)", run.stderr)
        self.assertIn("user_id (now @careerbot:example.org)", run.stderr)
        self.assertIn("access_token: an access token", run.stderr)
        self.assertIn("set enabled = yes", run.stderr)


if __name__ == "__main__":
    unittest.main()
