"""The interactive console as a person uses it: careerbot --console on a
pseudo-terminal, keys typed as a terminal sends them (arrows, Ctrl-A, Ctrl-E,
Ctrl-R, Ctrl-D), the history kept in $XDG_STATE_HOME/careerbot/history across
runs, answers wrapped to the terminal's width, colour unless NO_COLOR; and
piped input as plain as before.

Run: CAREERBOT_BIN=build/careerbot python3 -m unittest -v test_console_pty
Python 3 standard library only."""

import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import tempfile
import termios
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(os.environ.get("CAREERBOT_BIN") or os.path.join(REPO, "build", "careerbot"))
KNOWLEDGE = os.path.join(REPO, "knowledge")

STEP2 = "training program"   # in the answer to "what is step 2"
PAY = "$34,970"              # in the answer about pay
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
UP, CTRL_A, CTRL_E, CTRL_R, CTRL_D = "\x1b[A", "\x01", "\x05", "\x12", "\x04"
COLUMNS = 60


def line_editing():
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=30).stdout
    return "line-editing" in out


class Terminal:
    """careerbot --console on a pseudo-terminal of COLUMNS columns."""

    def __init__(self, state_home, env=None):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLUMNS, 0, 0))
        e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CAREERBOT_KNOWLEDGE")}
        e.update({"TERM": "xterm", "XDG_STATE_HOME": state_home, "HOME": state_home})
        e.update(env or {})
        self.proc = subprocess.Popen([BIN, "--console", "--knowledge", KNOWLEDGE], stdin=slave, stdout=slave,
                                     stderr=slave, env=e, close_fds=True, start_new_session=True)
        os.close(slave)
        self.raw = ""

    def read(self, timeout=0.2):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.master], [], [], left)
            if not r:
                return
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.raw += data.decode("utf-8", "replace")

    def text(self):
        return ANSI.sub("", self.raw).replace("\r", "")

    def wait_for(self, needle, count=1, timeout=10):
        end = time.monotonic() + timeout
        while self.text().count(needle) < count:
            if time.monotonic() > end:
                raise AssertionError("no %r (x%d) on the terminal within %ss; it shows:\n%s"
                                     % (needle, count, timeout, self.text()))
            self.read(0.1)

    def ready(self, timeout=10):
        """Waits for the prompt after the last answer: keys typed before it
        may be dropped while the terminal changes modes, as on any
        terminal."""
        end = time.monotonic() + timeout
        while not self.text().endswith("> "):
            if time.monotonic() > end:
                raise AssertionError("no prompt; the terminal shows:\n" + self.text())
            self.read(0.05)
        self.read(0.05)

    def type(self, keys):
        # One key at a time, as a person types; a key that sends an escape
        # sequence sends it in one piece, as a terminal does.
        for key in re.findall(r"\x1b\[[A-D]|.", keys, re.S):
            os.write(self.master, key.encode())
            time.sleep(0.01)

    def close(self):
        if self.proc.poll() is None:
            self.type(CTRL_D)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.read(0.2)
        os.close(self.master)
        return self.proc.returncode


@unittest.skipUnless(os.access(BIN, os.X_OK), "no careerbot binary at %s" % BIN)
class ConsoleTerminalTests(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="careerbot-pty-")
        self.addCleanup(shutil.rmtree, self.home, True)
        if not line_editing():
            self.skipTest("this careerbot was built without libedit")

    def term(self, **env):
        t = Terminal(self.home, env)
        self.addCleanup(lambda: t.proc.poll() is None and t.close())
        t.wait_for("> ")
        return t

    def test_editing_keys_and_history(self):
        t = self.term(NO_COLOR="1")
        self.assertIn("Up-arrow for earlier questions", " ".join(t.text().split()))
        # Ctrl-A goes to the start of the line: "step 2" becomes "what is step 2".
        t.type("step 2" + CTRL_A + "what is \r")
        t.wait_for(STEP2)
        t.ready()
        # Up-arrow brings the question back; Enter asks it again.
        t.type(UP + "\r")
        t.wait_for(STEP2, 2)
        t.ready()
        # Ctrl-A then Ctrl-E: back at the end, where the typing goes on.
        t.type("how much does a coder" + CTRL_A + CTRL_E + " earn\r")
        t.wait_for(PAY)
        t.ready()
        # Ctrl-R searches back through the history.
        t.type(CTRL_R + "step")
        t.read(0.3)
        t.type("\r")
        t.wait_for(STEP2, 3)
        t.ready()
        self.assertEqual(t.close(), 0)
        path = os.path.join(self.home, "careerbot", "history")
        with open(path, encoding="utf-8", errors="replace") as f:
            history = f.read()
        self.assertIn("what\\040is\\040step\\0402", history)  # libedit's own escaping
        self.assertIn("earn", history)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, "the history is private")
        self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o700)

        # The next run remembers, in order: the last question (found with
        # Ctrl-R) is one Up-arrow away, the one before it two.
        t = self.term(NO_COLOR="1")
        t.ready()
        t.type(UP + UP + "\r")
        t.wait_for(PAY)
        self.assertNotIn(STEP2, t.text())
        self.assertEqual(t.close(), 0)

    def test_answers_fit_the_terminal(self):
        t = self.term(NO_COLOR="1")
        t.type("what are the steps\r")
        t.wait_for("5. ")
        t.ready()
        t.type("/help\r")
        t.wait_for("Commands:")
        t.read(0.3)
        lines = t.text().split("\n")
        self.assertTrue(all(len(l) <= COLUMNS for l in lines),
                        "lines wider than %d columns:\n%s" % (COLUMNS, "\n".join(l for l in lines if len(l) > COLUMNS)))
        # A step's text goes on under its text, not under its number.
        self.assertTrue(any(re.match(r"^   \S", l) for l in lines), "no continued list item:\n" + t.text())
        self.assertNotIn("\x1b[36m", t.raw, "NO_COLOR is set: no colour")
        self.assertEqual(t.close(), 0)

    def test_colour_for_titles_and_commands(self):
        t = self.term()
        t.type("/help\r")
        t.wait_for("Commands:")
        t.read(0.3)
        self.assertIn("\x1b[1mCommands:\x1b[0m", t.raw)
        self.assertIn("\x1b[36m/help\x1b[0m", t.raw)
        self.assertEqual(t.close(), 0)


@unittest.skipUnless(os.access(BIN, os.X_OK), "no careerbot binary at %s" % BIN)
class PipedConsoleTests(unittest.TestCase):
    """Without a terminal nothing changes: no banner, no prompt, no colour,
    no wrapping, no history written."""

    def test_piped_input_is_plain(self):
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, XDG_STATE_HOME=home, HOME=home, TERM="xterm")
            env.pop("NO_COLOR", None)
            question = "what are the steps"
            piped = subprocess.run([BIN, "--console", "--knowledge", KNOWLEDGE], input=question + "\n",
                                   capture_output=True, text=True, env=env, timeout=30)
            asked = subprocess.run([BIN, "--ask", question, "--knowledge", KNOWLEDGE], capture_output=True,
                                   text=True, env=env, timeout=30)
            self.assertEqual(piped.returncode, 0)
            self.assertEqual(piped.stdout, asked.stdout)
            self.assertNotIn("\x1b", piped.stdout)
            self.assertGreater(max(len(l) for l in piped.stdout.split("\n")), COLUMNS)  # not wrapped
            json_out = subprocess.run([BIN, "--console", "--format", "json", "--knowledge", KNOWLEDGE],
                                      input=question + "\n", capture_output=True, text=True, env=env, timeout=30)
            self.assertRegex(json_out.stdout, r'^\{"matched":true,"kind":"answer",[^\n]*\}\n$')
            self.assertFalse(os.path.exists(os.path.join(home, "careerbot")), "no history without a terminal")


if __name__ == "__main__":
    unittest.main()
