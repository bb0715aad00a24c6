#!/usr/bin/env python3
"""Fair output under flood control, question-to-reply latency and replies per
second, through a real ngircd.

usage: bench_irc.py BOT [--questions N] [--pipelined M] [--fair-only]

First, with flood control ON (the defaults: a burst of 4 lines, then one a
second): ten people in one channel ask the bot a question in the same second;
the time from each question to the first line of its answer (the tenth person's
is the figure), and whether the bot stayed connected. ngircd keeps its own
flood penalties on for this part, as a public server would.

Then ngircd on a free loopback port (penalties off, so the server does not
pace the benchmark client), BOT with flood_control = no:
  - latency: N questions in a direct message, one at a time, timing each from
    the send to the last line of its reply (p50, p99);
  - throughput: M questions, at most 1000 unanswered at a time, timing until
    every reply arrived;
  - the bot's peak resident memory (VmHWM) at the end.
Everything runs on loopback and is stopped at the end."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

QUESTION = "how much do medical coders make?"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port, nick):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :bench" % nick)
        self.wait(lambda l: " 001 " in l, 10)

    def send(self, line):
        self.sock.sendall((line + "\r\n").encode())

    def lines(self, deadline):
        while time.monotonic() < deadline:
            while b"\r\n" in self.buf:
                raw, self.buf = self.buf.split(b"\r\n", 1)
                line = raw.decode("utf-8", "replace")
                if line.startswith("PING"):
                    self.send("PONG " + line.split(" ", 1)[1])
                    continue
                yield line
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                return
            if not data:
                return
            self.buf += data

    def wait(self, pred, timeout):
        for line in self.lines(time.monotonic() + timeout):
            if pred(line):
                return line
        raise RuntimeError("timed out waiting for the server")


def start_ngircd(folder, port, penalties=False):
    """ngircd on 127.0.0.1:port (penalties off unless asked), its files in folder."""
    conf = os.path.join(folder, "ngircd-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("[Global]\nName = bench.local\nInfo = bench\nListen = 127.0.0.1\nPorts = %d\n"
                "PidFile = %s/ngircd-%d.pid\nServerUID = %d\nServerGID = %d\n"
                "[Limits]\nMaxConnectionsIP = 0\n%sMaxNickLength = 30\n"
                "[Options]\nPAM = no\nIdent = no\nDNS = no\n"
                % (port, folder, port, os.getuid(), os.getgid(), "" if penalties else "MaxPenaltyTime = 0\n"))
    server = subprocess.Popen(["/usr/sbin/ngircd", "-n", "-f", conf],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return server


def irc_section(port):
    """The bot's [irc.bench] section for that server: flood control off."""
    return ("[irc.bench]\nhost = 127.0.0.1\nport = %d\ntls = no\nflood_control = no\nqueue_max = 100000\n"
            % port)


def wait_registered(c, timeout=15):
    """Until the bot answers a direct message from c; then the rest of the
    answers to the probes sent while it was starting are read and dropped."""
    deadline = time.monotonic() + timeout
    while True:
        c.send("PRIVMSG careerbot :%s" % QUESTION)
        try:
            c.wait(lambda l: "PRIVMSG bench" in l, 1)
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
    for _ in c.lines(time.monotonic() + 1.0):
        pass


def stop_process(p):
    """SIGTERM, then SIGKILL after 5 s; None or an ended process is fine."""
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


def peak_rss_kb(pid):
    """VmHWM of a running process, in kB."""
    with open("/proc/%d/status" % pid) as f:
        return int(next(l.split()[1] for l in f if l.startswith("VmHWM")))


# Ten people, ten questions, one channel, one second.
FAIR_QUESTIONS = [
    "how much do medical coders make?",
    "what does a medical coder do?",
    "do I need a degree to become a coder?",
    "how fast is the field growing?",
    "what certification do I need?",
    "where do coders work?",
    "what are the steps to become a coder?",
    "how long does the training take?",
    "can I work from home as a coder?",
    "what is step 2?",
]


def fair_output(bot, tmp):
    """Ten askers at once under the default flood control: seconds from each
    question to the first line of its answer, and whether the bot stayed on."""
    port = free_port()
    server = start_ngircd(tmp, port, penalties=True)
    log = os.path.join(tmp, "fair.log")
    ini = os.path.join(tmp, "fair.ini")
    with open(ini, "w") as f:
        f.write("[bot]\nnick = careerbot\nknowledge = %s/knowledge\n[irc.fair]\nhost = 127.0.0.1\nport = %d\n"
                "tls = no\nchannels = #fair\n" % (ROOT, port))
    botp = None
    try:
        with open(log, "wb") as out:
            botp = subprocess.Popen([bot, "--config", ini], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while b"joined #fair" not in open(log, "rb").read():
            if time.monotonic() > deadline:
                raise RuntimeError("the bot did not join #fair")
            time.sleep(0.1)
        people = []
        for i in range(len(FAIR_QUESTIONS)):
            c = Client(port, "asker%d" % i)
            c.send("JOIN #fair")
            c.wait(lambda l: " 366 " in l, 10)
            people.append(c)
        time.sleep(2)  # let the server's penalties for the joins pass
        for c in people:
            for _ in c.lines(time.monotonic() + 0.05):
                pass
        sent = {}
        for i, (c, q) in enumerate(zip(people, FAIR_QUESTIONS)):
            c.send("PRIVMSG #fair :careerbot: %s" % q)
            sent[i] = time.monotonic()
        first = {}
        end = time.monotonic() + 60
        watcher = people[0]
        while len(first) < len(people) and time.monotonic() < end:
            for line in watcher.lines(time.monotonic() + 0.2):
                for i in range(len(people)):
                    if i not in first and "PRIVMSG #fair :asker%d: " % i in line:
                        first[i] = time.monotonic() - sent[i]
        text = open(log, "rb").read().decode("utf-8", "replace")
        disconnected = "disconnected" in text
        for c in people:
            c.sock.close()
        return [first.get(i) for i in range(len(people))], disconnected
    finally:
        stop_process(botp)
        stop_process(server)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    bot = os.path.abspath(argv[1])
    tmp = tempfile.mkdtemp(prefix="careerbot-bench-")
    try:
        waits, disconnected = fair_output(bot, tmp)
    finally:
        subprocess.run(["rm", "-rf", tmp])
    got = sorted(w for w in waits if w is not None)
    print("fair output, flood control on: 10 people ask at once in one channel; first line of each answer after "
          "%s s (the tenth: %s), %d of 10 answered, %s"
          % (", ".join("%.1f" % w if w is not None else "-" for w in waits),
             "%.1f s" % got[-1] if len(got) == 10 else "missing", len(got),
             "disconnected" if disconnected else "never disconnected"))
    if "--fair-only" in argv:
        return 0
    n = int(argv[argv.index("--questions") + 1]) if "--questions" in argv else 2000
    m = int(argv[argv.index("--pipelined") + 1]) if "--pipelined" in argv else 10000
    tmp = tempfile.mkdtemp(prefix="careerbot-bench-")
    port = free_port()
    with open(os.path.join(tmp, "bot.ini"), "w") as f:
        f.write("[bot]\nnick = careerbot\nknowledge = %s/knowledge\n%s" % (ROOT, irc_section(port)))
    server = start_ngircd(tmp, port)
    botp = None
    try:
        botp = subprocess.Popen([bot, "--config", os.path.join(tmp, "bot.ini")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c = Client(port, "bench")
        wait_registered(c)
        # How many lines one reply has.
        c.send("PRIVMSG careerbot :%s" % QUESTION)
        per = 0
        for line in c.lines(time.monotonic() + 1.0):
            per += "PRIVMSG bench" in line
        lat = []
        for _ in range(n):
            t0 = time.perf_counter()
            c.send("PRIVMSG careerbot :%s" % QUESTION)
            got = 0
            for line in c.lines(time.monotonic() + 5):
                got += "PRIVMSG bench" in line
                if got == per:
                    break
            lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        # Throughput: m questions with at most `window` unanswered at any time,
        # as many people asking at once would produce.
        window = 1000
        line = ("PRIVMSG careerbot :%s\r\n" % QUESTION).encode()
        sent = got = 0
        t0 = time.perf_counter()
        deadline = time.monotonic() + 120
        while got < per * m and time.monotonic() < deadline:
            burst = min(m - sent, window - (sent - got // per))
            if burst > 0:
                c.sock.sendall(line * burst)
                sent += burst
            for reply in c.lines(time.monotonic() + 0.05):
                got += "PRIVMSG bench" in reply
                if got % per == 0 and sent - got // per < window // 2:
                    break
        elapsed = time.perf_counter() - t0
        hwm = peak_rss_kb(botp.pid)
        print("latency over %d questions (%d reply lines each): p50 %.3f ms, p99 %.3f ms"
              % (n, per, lat[len(lat) // 2], lat[int(len(lat) * 0.99)]))
        print("throughput: %d of %d replies in %.2f s = %.0f replies/s"
              % (got // max(per, 1), m, elapsed, got / max(per, 1) / elapsed))
        print("bot peak RSS: %s kB" % hwm)
    finally:
        stop_process(botp)
        stop_process(server)
        subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
