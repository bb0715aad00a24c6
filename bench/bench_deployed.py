#!/usr/bin/env python3
"""The bot's peak memory as deployed: one process with an IRC network and a
Matrix account, answering questions on both.

usage: bench_deployed.py BOT [QUESTIONS.tsv] [--plain]

Starts ngircd on a free loopback port (as bench_irc.py does) and the fake
homeserver of the integration tests (tests/integration/fake_homeserver.py:
whoami, filters, /sync long-polls and sends through the bot's libcurl),
served over TLS as a real homeserver is (--plain: plain HTTP), with the
bot trusting the system's CA bundle plus the test CA, so it loads the whole
CA store as it would for a public server. Then it starts BOT with
[irc.bench] and [matrix.bench] in one config file. Every question of QUESTIONS.tsv (default tests/quality/questions.tsv)
is asked on both at once: in a direct message on IRC and addressed to the
bot in a room on Matrix, each waiting for its answer. At the end it prints
the bot's peak resident memory (VmHWM) read from /proc before it exits.
Everything runs on loopback and is stopped at the end."""
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from bench_irc import (Client, free_port, irc_section, peak_rss_kb, start_ngircd, stop_process,  # noqa: E402
                       wait_registered)
from fake_homeserver import FakeHomeserver  # noqa: E402
from ircharness import make_certs  # noqa: E402

TOKEN = "syt_bench_token_0123456789"
WAIT = 15.0
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"


def questions(path):
    with open(path, encoding="utf-8") as f:
        return [l.split("\t")[1].strip() for l in f if l.strip() and not l.startswith("#")]


def wait_until(predicate, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.002)
    raise RuntimeError("timed out waiting for %s" % what)


def serve_tls(hs, folder):
    """Puts the running fake homeserver behind TLS; returns its https URL
    and a CA file for the bot: the system's bundle plus the test CA."""
    certs = make_certs(os.path.join(folder, "certs"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["server"], certs["server_key"])
    # The server's thread accepts through this attribute from its next connection on.
    hs.httpd.socket = ctx.wrap_socket(hs.httpd.socket, server_side=True)
    bundle = os.path.join(folder, "ca-bundle.pem")
    with open(bundle, "w") as out:
        if os.path.exists(SYSTEM_CA):
            with open(SYSTEM_CA) as system:
                out.write(system.read())
        with open(certs["ca"]) as ca:
            out.write(ca.read())
    return "https://127.0.0.1:%d" % hs.httpd.server_address[1], bundle


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    tls = "--plain" not in argv
    bot = os.path.abspath(args[0])
    asked = questions(args[1] if len(args) > 1 else os.path.join(ROOT, "tests", "quality", "questions.tsv"))
    tmp = tempfile.mkdtemp(prefix="careerbot-bench-")
    port = free_port()
    hs = FakeHomeserver().start()
    url, ca_line = hs.url, ""
    if tls:
        url, bundle = serve_tls(hs, tmp)
        ca_line = "ca_file = %s\n" % bundle
    me = hs.add_user("careerbot", token=TOKEN, device_id="BENCH")
    alice = hs.add_user("alice")
    room = hs.create_room([alice, me])
    log_path = os.path.join(tmp, "bot.log")
    with open(os.path.join(tmp, "bot.ini"), "w") as f:
        # Limits high enough for one person asking everything in a row.
        f.write("[bot]\nnick = careerbot\nknowledge = %s/knowledge\nstate_dir = %s/state\n%s\n"
                "[matrix.bench]\nhomeserver = %s\nuser_id = %s\naccess_token = %s\nsync_timeout = 5\n%s"
                "user_burst = 1000\nuser_rate = 1000\nroom_burst = 1000\nroom_rate = 1000\nqueue_max = 10000\n"
                % (ROOT, tmp, irc_section(port), url, me, TOKEN, ca_line))
    server = start_ngircd(tmp, port)
    botp = log = None
    try:
        log = open(log_path, "wb")
        botp = subprocess.Popen([bot, "--config", os.path.join(tmp, "bot.ini")], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log)
        c = Client(port, "bench")
        wait_registered(c)
        # Messages from before the first sync are history: wait for it.
        wait_until(lambda: b"first sync" in open(log_path, "rb").read(), "the first Matrix sync")
        t0 = time.perf_counter()
        for q in asked:
            before = len(hs.messages_from(me, room))
            hs.send_message(room, alice, "careerbot: " + q)
            c.send("PRIVMSG careerbot :%s" % q)
            c.wait(lambda l: "PRIVMSG bench" in l, WAIT)
            wait_until(lambda: len(hs.messages_from(me, room)) > before, "the Matrix answer to %r" % q)
            for _ in c.lines(time.monotonic() + 0.01):
                pass  # the IRC answer's other lines, which come with its first
        elapsed = time.perf_counter() - t0
        for _ in c.lines(time.monotonic() + 0.5):
            pass  # the last answer's other lines
        hwm = peak_rss_kb(botp.pid)
        answered = len(hs.messages_from(me, room))
        print("careerbot with one IRC network and one Matrix account (%s): %d questions asked on each in %.1f s, "
              "%d Matrix replies, peak RSS %d kB" % ("https" if tls else "http", len(asked), elapsed, answered, hwm))
    finally:
        # A long-poll cut short by the bot's exit is no error worth a traceback.
        hs.httpd.handle_error = lambda request, client_address: None
        stop_process(botp)
        stop_process(server)
        if log:
            log.close()
        hs.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
