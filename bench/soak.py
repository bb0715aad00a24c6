#!/usr/bin/env python3
"""A soak test of the bot as deployed: many questions through IRC and Matrix
in one process, its resident memory sampled every 10 seconds.

usage: soak.py BOT [IRC_QUESTIONS] [MATRIX_QUESTIONS]   (default 1,000,000 and 100,000)

Starts ngircd (flood control off) and the integration tests' fake homeserver
on loopback, and BOT with [irc.bench] and [matrix.bench] in one config. The
questions of tests/quality/questions.tsv are asked in turn: on IRC in direct
messages, a thousand at a time, each batch answered before the next; on
Matrix in a room, twenty at a time. A thread reads VmRSS from /proc every
10 seconds. At the end it prints the samples and whether memory stayed flat
(the last sample within 10% or 2 MB of the first one taken after warm-up).
Not part of scripts/test: it runs for several minutes."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from bench_deployed import TOKEN, questions, wait_until  # noqa: E402
from bench_irc import Client, free_port, irc_section, start_ngircd, stop_process, wait_registered  # noqa: E402
from fake_homeserver import FakeHomeserver  # noqa: E402

SAMPLE_EVERY = 10.0


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(next(l.split()[1] for l in f if l.startswith("VmRSS")))


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.phase, self.done = pid, [], "start", threading.Event()

    def run(self):
        t0 = time.monotonic()
        while not self.done.wait(SAMPLE_EVERY):
            try:
                self.samples.append((time.monotonic() - t0, self.phase, rss_kb(self.pid)))
            except (OSError, StopIteration):
                return


def irc_phase(c, asked, total, batch=1000):
    sent = answered = 0
    while sent < total:
        n = min(batch, total - sent)
        for i in range(n):
            c.send("PRIVMSG careerbot :%s" % asked[(sent + i) % len(asked)])
        sent += n
        # A batch is answered when the bot has been quiet for a moment.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = sum("PRIVMSG bench" in line for line in c.lines(time.monotonic() + 0.15))
            answered += got
            if got == 0:
                break
    return answered


def matrix_phase(hs, room, alice, me, asked, total, batch=20):
    sent = 0
    base = len(hs.messages_from(me, room))
    while sent < total:
        n = min(batch, total - sent)
        for i in range(n):
            hs.send_message(room, alice, "careerbot: " + asked[(sent + i) % len(asked)])
        sent += n
        wait_until(lambda: len(hs.messages_from(me, room)) - base >= sent, "%d Matrix answers" % sent, 120)
    return len(hs.messages_from(me, room)) - base


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    bot = os.path.abspath(argv[1])
    irc_total = int(argv[2]) if len(argv) > 2 else 1000000
    matrix_total = int(argv[3]) if len(argv) > 3 else 100000
    asked = questions(os.path.join(ROOT, "tests", "quality", "questions.tsv"))
    tmp = tempfile.mkdtemp(prefix="careerbot-soak-")
    port = free_port()
    hs = FakeHomeserver().start()
    me = hs.add_user("careerbot", token=TOKEN, device_id="SOAK")
    alice = hs.add_user("alice")
    room = hs.create_room([alice, me])
    log_path = os.path.join(tmp, "bot.log")
    with open(os.path.join(tmp, "bot.ini"), "w") as f:
        f.write("[bot]\nnick = careerbot\nknowledge = %s/knowledge\nstate_dir = %s/state\n%s\n"
                "[matrix.bench]\nhomeserver = %s\nuser_id = %s\naccess_token = %s\nsync_timeout = 5\n"
                "user_burst = 1000000\nuser_rate = 1000000\nroom_burst = 1000\nroom_rate = 1000\n"
                "queue_max = 10000\n" % (ROOT, tmp, irc_section(port), hs.url, me, TOKEN))
    server = start_ngircd(tmp, port)
    botp = log = None
    try:
        log = open(log_path, "wb")
        botp = subprocess.Popen([bot, "--config", os.path.join(tmp, "bot.ini")], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log)
        c = Client(port, "bench")
        wait_registered(c)
        wait_until(lambda: b"first sync" in open(log_path, "rb").read(), "the first Matrix sync")
        sampler = Sampler(botp.pid)
        sampler.start()
        t0 = time.monotonic()
        sampler.phase = "irc"
        irc_lines = irc_phase(c, asked, irc_total)
        sampler.phase = "matrix"
        matrix_replies = matrix_phase(hs, room, alice, me, asked, matrix_total)
        elapsed = time.monotonic() - t0
        sampler.done.set()
        end = rss_kb(botp.pid)
        print("soak: %d IRC questions (%d answer lines), %d Matrix questions (%d replies) in %.0f s"
              % (irc_total, irc_lines, matrix_total, matrix_replies, elapsed))
        print("%8s  %-7s %10s" % ("seconds", "phase", "VmRSS kB"))
        for t, phase, kb in sampler.samples:
            print("%8.0f  %-7s %10d" % (t, phase, kb))
        print("%8.0f  %-7s %10d" % (elapsed, "end", end))
        warm = [kb for t, phase, kb in sampler.samples[1:]] or [end]
        flat = end <= warm[0] * 1.10 or end - warm[0] <= 2048
        print("memory %s: %d kB after warm-up, %d kB at the end, highest %d kB"
              % ("flat" if flat else "GREW", warm[0], end, max(warm + [end])))
        return 0 if flat else 1
    except Exception:
        if log:
            log.flush()
            print(open(log_path, encoding="utf-8", errors="replace").read()[-2000:], file=sys.stderr)
        raise
    finally:
        hs.httpd.handle_error = lambda request, client_address: None
        stop_process(botp)
        stop_process(server)
        if log:
            log.close()
        hs.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
