"""Helpers for the IRC integration tests: a private ngircd on loopback, the
careerbot binary with a config written for it, test certificates made with
the openssl command line, and raw IRC client connections.

Python 3 standard library only. Every wait has a timeout; every process is
stopped by its owner (SIGTERM, then SIGKILL)."""

import os
import pwd
import grp
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NGIRCD = os.environ.get("NGIRCD", "/usr/sbin/ngircd")
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def careerbot_bin():
    path = os.environ.get("CAREERBOT_BIN") or os.path.join(REPO, "build", "careerbot")
    return os.path.abspath(path)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05):
    """Polls predicate until it returns a true value (returned) or timeout
    seconds pass (returns None)."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


def stop_process(proc, sig=signal.SIGTERM, grace=5.0):
    """Sends sig, waits up to grace seconds, then SIGKILL. Returns the exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
        except ProcessLookupError:
            pass
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        return None


# ---- certificates ---------------------------------------------------------


def _openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certs(directory):
    """Writes into directory:
      ca.pem / ca.key          a test CA
      server.pem / server.key  signed by the CA, for DNS:localhost and IP:127.0.0.1
      other.pem / other.key    self-signed, for DNS:other.example only
    and returns a dict of absolute paths plus the SHA-256 fingerprints."""
    os.makedirs(directory, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=careerbot test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
             cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
             cwd=directory)
    _openssl("req", "-x509", *ec, "-keyout", "other.key", "-out", "other.pem", "-days", "2",
             "-subj", "/CN=other.example", "-addext", "subjectAltName=DNS:other.example",
             cwd=directory)
    for name in os.listdir(directory):
        os.chmod(os.path.join(directory, name), 0o644)  # ngircd may read them as nobody
    paths = {name: os.path.join(directory, name + ".pem") for name in ("ca", "server", "other")}
    paths.update({name + "_key": os.path.join(directory, name + ".key") for name in ("server", "other")})
    for name in ("server", "other"):
        paths[name + "_sha256"] = fingerprint(paths[name])
    return paths


def fingerprint(pem):
    """The SHA-256 fingerprint of a PEM certificate as AB:CD:..."""
    out = subprocess.run([OPENSSL, "x509", "-in", pem, "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return out.strip().split("=", 1)[1]


# ---- ngircd ---------------------------------------------------------------

class Ngircd:
    """A private ngircd on loopback, configured in its own folder.

    penalties=False sets MaxPenaltyTime = 0, so the server processes a
    client's commands as fast as they come (by default ngircd handles about
    three commands a second per client, as a public network would)."""

    _count = 0

    def __init__(self, workdir, port=None, tls_port=None, cert=None, key=None, penalties=True,
                 channels=(), name="irc.test.local", cloak_host=None):
        Ngircd._count += 1
        self.dir = os.path.join(workdir, "ngircd-%d" % Ngircd._count)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)  # the pid file is written after ngircd drops root
        self.port = port or free_port()
        self.tls_port = tls_port if tls_port or not cert else free_port()
        self.cert, self.key = cert, key
        self.penalties = penalties
        self.channels = channels
        self.name = name
        self.cloak_host = cloak_host
        self.conf = os.path.join(self.dir, "ngircd.conf")
        self.log_path = os.path.join(self.dir, "ngircd.log")
        self.proc = None

    def _config(self):
        lines = [
            "[Global]",
            "Name = %s" % self.name,
            "Info = careerbot integration test server",
            "AdminInfo1 = test", "AdminInfo2 = test", "AdminEMail = test@localhost",
            "Listen = 127.0.0.1",
            "Ports = %d" % self.port,
            "PidFile = %s" % os.path.join(self.dir, "ngircd.pid"),
            "MotdPhrase = careerbot test server",
        ]
        if os.geteuid() == 0:  # ngircd will not keep running as root
            lines += ["ServerUID = %d" % pwd.getpwnam("nobody").pw_uid,
                      "ServerGID = %d" % _nogroup_gid()]
        lines += [
            "[Limits]",
            "MaxConnectionsIP = 0",
            "MaxNickLength = 30",
            "MaxJoins = 0",
            "PingTimeout = 120",
            "PongTimeout = 20",
        ]
        if not self.penalties:
            lines.append("MaxPenaltyTime = 0")
        lines += ["[Options]", "PAM = no", "Ident = no", "DNS = no"]
        if self.cloak_host:
            lines.append("CloakHost = %s" % self.cloak_host)
        if self.cert:
            lines += ["[SSL]", "CertFile = %s" % self.cert, "KeyFile = %s" % self.key,
                      "Ports = %d" % self.tls_port]
        for chan in self.channels:
            lines += ["[Channel]", "Name = %s" % chan["name"]]
            if chan.get("modes"):
                lines.append("Modes = %s" % chan["modes"])
        return "\n".join(lines) + "\n"

    def start(self, timeout=10):
        with open(self.conf, "w") as f:
            f.write(self._config())
        os.chmod(self.conf, 0o644)
        if getattr(self, "_log", None):
            self._log.close()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([NGIRCD, "-n", "-f", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("ngircd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            return "ready." in self.log() and _port_open(self.port)
        if not wait_until(ready, timeout):
            raise RuntimeError("ngircd did not come up on port %d:\n%s" % (self.port, self.log()))
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: the server vanishes without a word to its clients."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self):
        stop_process(self.proc)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None


def _nogroup_gid():
    for name in ("nogroup", "nobody"):
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            pass
    return 65534


def _port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# ---- the bot --------------------------------------------------------------

SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer|"
                              r"\bruntime error: |SUMMARY: \w+Sanitizer")

class Bot:
    """The careerbot binary with a config file written for one [irc.test] network.

    irc: extra [irc.test] keys (strings); bot: extra [bot] keys."""

    _count = 0

    def __init__(self, workdir, port, nick="careerbot", channels="#careers", tls=False,
                 knowledge=None, irc=None, bot=None, host="127.0.0.1", debug=False, env=None):
        Bot._count += 1
        self.debug = debug
        self.env = env or {}
        self.dir = os.path.join(workdir, "bot-%d" % Bot._count)
        os.makedirs(self.dir, exist_ok=True)
        self.nick = nick
        self.config = os.path.join(self.dir, "careerbot.ini")
        self.log_path = os.path.join(self.dir, "careerbot.log")
        bot_keys = {"nick": nick, "knowledge": knowledge or os.path.join(REPO, "knowledge")}
        bot_keys.update(bot or {})
        irc_keys = {"host": host, "port": str(port), "tls": "yes" if tls else "no",
                    "channels": channels}
        irc_keys.update(irc or {})
        with open(self.config, "w") as f:
            f.write("[bot]\n")
            for k, v in bot_keys.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n[irc.test]\n")
            for k, v in irc_keys.items():
                f.write("%s = %s\n" % (k, v))
        self.proc = None

    def start(self):
        binary = careerbot_bin()
        if not os.access(binary, os.X_OK):
            raise RuntimeError("no careerbot binary at %s (build it, or set CAREERBOT_BIN)" % binary)
        self._log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.pop("CAREERBOT_DEBUG", None)
        if self.debug:
            env["CAREERBOT_DEBUG"] = "1"
        env.update(self.env)
        self.proc = subprocess.Popen([binary, "--config", self.config], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env)
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=10, after=0):
        """Waits for a log line matching the regular expression (searched from
        byte offset `after`); returns the match or raises AssertionError."""
        rx = re.compile(pattern)

        def found():
            m = rx.search(self.log(), after)
            if m:
                return m
            if self.proc.poll() is not None:
                m = rx.search(self.log(), after)
                if m:
                    return m
                raise AssertionError("careerbot exited (%s) before logging /%s/:\n%s"
                                     % (self.proc.returncode, pattern, self.log()))
            return None
        m = wait_until(found, timeout)
        if not m:
            raise AssertionError("careerbot did not log /%s/ within %ss; its log:\n%s"
                                 % (pattern, timeout, self.log()))
        return m

    def log_size(self):
        return len(self.log())

    def rss_kb(self):
        """The process's resident memory now (VmRSS), in KiB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM (then SIGKILL). Raises AssertionError when the log holds a
        sanitizer report (a build with -DCAREERBOT_SANITIZE=ON)."""
        rc = stop_process(self.proc)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        report = SANITIZER_REPORT.search(self.log())
        if report:
            raise AssertionError("careerbot (%s) reported a sanitizer error:\n%s"
                                 % (self.config, self.log()[report.start():][:4000]))
        return rc


# ---- IRC clients ----------------------------------------------------------

_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


class Message:
    """One line from the server, parsed (tags, source, verb, params)."""

    def __init__(self, raw, when):
        self.raw = raw            # bytes, without CR LF
        self.wire_len = len(raw) + 2
        self.time = when
        line = raw.decode("utf-8", "replace")
        self.tags = {}
        if line.startswith("@"):
            tags, _, line = line.partition(" ")
            for item in tags[1:].split(";"):
                k, _, v = item.partition("=")
                self.tags[k] = re.sub(r"\\(.?)", lambda m: _TAG_UNESCAPE.get(m.group(1), m.group(1)), v)
            line = line.lstrip(" ")
        self.source = ""
        if line.startswith(":"):
            self.source, _, line = line.partition(" ")
            self.source = self.source[1:]
            line = line.lstrip(" ")
        self.nick = self.source.split("!", 1)[0].split("@", 1)[0]
        trailing = None
        if " :" in line:
            line, trailing = line.split(" :", 1)
        elif line.startswith(":"):
            line, trailing = "", line[1:]
        parts = line.split()
        self.verb = parts[0].upper() if parts else ""
        self.params = parts[1:]
        if trailing is not None:
            self.params.append(trailing)

    @property
    def text(self):
        return self.params[-1] if self.params else ""

    @property
    def target(self):
        return self.params[0] if self.params else ""

    def __repr__(self):
        return "<%.3f %s>" % (self.time, self.raw.decode("utf-8", "replace"))


class IrcClient:
    """A raw IRC client: registers, answers PINGs, records every line it gets."""

    def __init__(self, port, nick, host="127.0.0.1", register=True, timeout=10):
        self.nick = nick
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(None)
        self.messages = []
        self.closed = False
        self.cond = threading.Condition()
        self._send_lock = threading.Lock()
        self.thread = threading.Thread(target=self._reader, name="irc-" + nick, daemon=True)
        self.thread.start()
        if register:
            self.register(nick, timeout)

    # -- sending
    def send_raw(self, data):
        with self._send_lock:
            self.sock.sendall(data)

    def send(self, line):
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send_raw(line + b"\r\n")

    def privmsg(self, target, text):
        if isinstance(text, str):
            text = text.encode("utf-8")
        self.send(b"PRIVMSG " + target.encode() + b" :" + text)

    def notice(self, target, text):
        self.send("NOTICE %s :%s" % (target, text))

    # -- receiving
    def _reader(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                m = Message(raw, time.monotonic())
                if m.verb == "PING":
                    try:
                        self.send("PONG :" + m.text)
                    except OSError:
                        pass
                with self.cond:
                    self.messages.append(m)
                    self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def mark(self):
        """A position in the received lines, for wait_for(since=...)."""
        with self.cond:
            return len(self.messages)

    def since(self, mark=0):
        with self.cond:
            return list(self.messages[mark:])

    def wait_for(self, predicate, timeout=10, since=0, what="a matching line"):
        """Returns the first message from index `since` on that satisfies
        predicate, waiting up to timeout seconds; raises AssertionError."""
        end = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.messages):
                    m = self.messages[i]
                    i += 1
                    if predicate(m):
                        return m
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    break
                self.cond.wait(left)
            recent = self.messages[max(since, len(self.messages) - 15):]
        raise AssertionError("%s: no %s within %ss%s; last lines:\n  %s" % (
            self.nick, what, timeout, " (connection closed)" if self.closed else "",
            "\n  ".join(repr(m) for m in recent)))

    def collect(self, predicate, duration, since=0):
        """Every message from `since` on satisfying predicate, after waiting duration seconds."""
        time.sleep(duration)
        return [m for m in self.since(since) if predicate(m)]

    # -- conversation helpers
    def register(self, nick, timeout=10):
        self.nick = nick
        self.send("NICK " + nick)
        self.send("USER %s 0 * :careerbot test client" % nick[:10])
        m = self.wait_for(lambda m: m.verb in ("001", "433", "432"), timeout, what="001 welcome")
        if m.verb != "001":
            raise AssertionError("cannot register as %s: %s" % (nick, m))
        return m

    def join(self, channel, key=None, timeout=10):
        mark = self.mark()
        self.send("JOIN %s%s" % (channel, " " + key if key else ""))
        self.wait_for(lambda m: m.verb == "366" and len(m.params) > 1
                      and m.params[1].lower() == channel.lower(), timeout, since=mark,
                      what="end of NAMES for " + channel)

    def sync(self, timeout=10):
        """Round trip through the server: everything sent before was processed."""
        token = "sync%d" % time.monotonic_ns()
        mark = self.mark()
        self.send("PING :" + token)
        self.wait_for(lambda m: m.verb == "PONG" and m.text == token, timeout, since=mark,
                      what="PONG " + token)

    def names(self, channel, timeout=10):
        """The nicks in channel (NAMES), without their status prefixes."""
        mark = self.mark()
        self.send("NAMES " + channel)
        self.wait_for(lambda m: m.verb == "366", timeout, since=mark, what="end of NAMES")
        nicks = []
        for m in self.since(mark):
            if m.verb == "353":
                nicks += [n.lstrip("~&@%+") for n in m.text.split()]
        return nicks

    def replies_from(self, bot_nick, verb="PRIVMSG", target=None):
        """A predicate: lines from bot_nick with verb (to target, when given)."""
        def pred(m):
            return (m.verb == verb and m.nick.lower() == bot_nick.lower()
                    and (target is None or m.target.lower() == target.lower()))
        return pred

    def ask(self, target, text, bot_nick, reply_target=None, timeout=10, contains=None):
        """Sends text to target and returns the bot's first reply (to
        reply_target, default: target, or our nick for a direct message)."""
        mark = self.mark()
        self.privmsg(target, text)
        where = reply_target or (self.nick if target.lower() == bot_nick.lower() else target)
        pred = self.replies_from(bot_nick, "PRIVMSG", where)
        if contains is not None:
            base = pred
            pred = lambda m: base(m) and contains in m.text  # noqa: E731
        return self.wait_for(pred, timeout, since=mark, what="reply from %s to %r" % (bot_nick, text))

    def quit(self, message="bye"):
        try:
            self.send("QUIT :" + message)
        except OSError:
            pass
        with self.cond:
            self.cond.wait_for(lambda: self.closed, 5)
        self.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


# ---- InspIRCd with Atheme services ---------------------------------------------
#
# The modern IRCv3 server for the SASL, STS and account scenarios. Ergo (the
# server these were meant for) is a Go module the module proxy here does not
# serve, so they use InspIRCd 3 and Atheme 7.2 from Debian: SASL PLAIN,
# EXTERNAL (CertFP) and ECDSA-NIST256P-CHALLENGE through SaslServ, STS,
# account-tag, extended-join, account-notify, chghost, the bot mode and tag.
# Atheme 7.2 has no SCRAM: test_modern.py checks SCRAM against an RFC 5802
# server of its own.

INSPIRCD = os.environ.get("INSPIRCD", "/usr/sbin/inspircd")
ATHEME = os.environ.get("ATHEME", "/usr/bin/atheme-services")
ATHEME_MODULES = os.environ.get("ATHEME_MODULES", "/usr/lib/x86_64-linux-gnu/atheme/modules")


def modern_servers_missing():
    """Why the InspIRCd + Atheme tests cannot run here, or None."""
    for path in (INSPIRCD, ATHEME):
        if not os.access(path, os.X_OK):
            return "%s is not installed (apt-get install inspircd atheme-services)" % path
    if not os.path.isdir(ATHEME_MODULES):
        return "no Atheme modules in %s" % ATHEME_MODULES
    return None


def _read_logs(directory, names):
    out = ""
    for name in names:
        try:
            with open(os.path.join(directory, name), "rb") as f:
                out += f.read().decode("utf-8", "replace")
        except OSError:
            pass
    return out


class Inspircd:
    """A private InspIRCd on loopback: a plaintext and a TLS client port, a
    server port for Atheme, and (sts_duration set) an STS policy naming the
    TLS port."""

    _count = 0
    NAME = "irc.test.local"
    SERVICES = "services.test.local"
    LINK_PASSWORD = "link-password-for-tests"

    def __init__(self, workdir, certs, sts_duration=None, without=()):
        Inspircd._count += 1
        self.without = set(without)  # modules left out (a server without account-tag)
        self.dir = os.path.join(workdir, "inspircd-%d" % Inspircd._count)
        os.makedirs(self.dir, exist_ok=True)
        self.certs = certs
        self.port = free_port()
        self.tls_port = free_port()
        self.link_port = free_port()
        self.sts_duration = sts_duration
        self.conf = os.path.join(self.dir, "inspircd.conf")
        self.log_path = os.path.join(self.dir, "inspircd.log")
        self.proc = None
        self._log = None

    def _config(self):
        c = self.certs
        modules = ["ssl_gnutls", "sslinfo", "spanningtree", "services_account", "sasl", "cap", "ircv3",
                   "ircv3_accounttag", "ircv3_capnotify", "ircv3_chghost", "ircv3_ctctags", "ircv3_servertime",
                   "botmode", "namesx", "chghost"]
        if self.sts_duration is not None:
            modules.append("ircv3_sts")
        modules = [m for m in modules if m not in self.without]
        lines = [
            '<config format="xml">',
            '<server name="%s" description="careerbot test server" network="TestNet">' % self.NAME,
            '<admin name="test" nick="test" email="test@localhost">',
            '<path configdir="%s" datadir="%s" logdir="%s">' % (self.dir, self.dir, self.dir),
            '<pid file="%s">' % os.path.join(self.dir, "inspircd.pid"),
            '<bind address="127.0.0.1" port="%d" type="clients">' % self.port,
            '<bind address="127.0.0.1" port="%d" type="clients" sslprofile="tests">' % self.tls_port,
            '<bind address="127.0.0.1" port="%d" type="servers">' % self.link_port,
            '<connect name="all" allow="*" timeout="60" pingfreq="120" hardsendq="1048576" softsendq="65536" '
            'recvq="65536" threshold="1000" commandrate="100000" fakelag="no" localmax="1000" globalmax="1000" '
            'resolvehostnames="no" useident="no" maxchans="50" limit="5000">',
            '<dns timeout="1">',
            '<options allowhalfop="no" hostintopic="no" defaultmodes="nt">',
            '<security announceinvites="dynamic" hideservices="no" hidesplits="no">',
            '<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="%s">' % self.log_path,
            '<link name="%s" ipaddr="127.0.0.1" port="%d" allowmask="127.0.0.0/8" sendpass="%s" recvpass="%s">'
            % (self.SERVICES, self.link_port, self.LINK_PASSWORD, self.LINK_PASSWORD),
            '<uline server="%s" silent="yes">' % self.SERVICES,
            '<sasl target="%s" requiressl="no">' % self.SERVICES,
            '<sslprofile name="tests" provider="gnutls" certfile="%s" keyfile="%s" hash="sha256" '
            'requestclientcert="yes" priority="NORMAL">' % (c["server"], c["server_key"]),
        ]
        lines += ['<module name="%s">' % m for m in modules]
        if self.sts_duration is not None:
            lines.append('<sts host="*" port="%d" duration="%d" preload="no">' % (self.tls_port, self.sts_duration))
        return "\n".join(lines) + "\n"

    def start(self, timeout=20):
        with open(self.conf, "w") as f:
            f.write(self._config())
        self._log = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen([INSPIRCD, "--config=%s" % self.conf, "--nofork", "--runasroot", "--nopid"],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("inspircd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            return _port_open(self.port) and _port_open(self.tls_port)
        if not wait_until(ready, timeout):
            raise RuntimeError("inspircd did not come up:\n%s" % self.log())
        return self

    def log(self):
        return _read_logs(self.dir, ("stdout.log", "inspircd.log"))

    def stop(self):
        stop_process(self.proc)
        if self._log:
            self._log.close()
            self._log = None


ATHEME_CONFIG = """
serverinfo {
    name = "%(services)s"; desc = "careerbot test services"; numeric = "00A"; recontime = 2;
    netname = "TestNet"; hidehostsuffix = "users.test"; adminname = "test"; adminemail = "test@localhost";
    registeremail = "test@localhost"; loglevel = { error; info; admin; network; };
    maxlogins = 50; maxusers = 50; mdlimit = 30; emaillimit = 10; emailtime = 300; auth = none;
    casemapping = rfc1459;
};
uplink "%(ircd)s" { host = "127.0.0.1"; port = %(port)d; send_password = "%(pw)s"; receive_password = "%(pw)s"; };
nickserv { nick = "NickServ"; user = "NickServ"; host = "%(services)s"; real = "Nickname Services";
    maxnicks = 5; expire = 30; };
saslserv { nick = "SaslServ"; user = "SaslServ"; host = "%(services)s"; real = "SASL Agent"; };
general { flood_msgs = 1000; flood_time = 10; ratelimit_uses = 1000; ratelimit_period = 60; kline_time = 7;
    clone_time = 0; commit_interval = 5; default_clone_allowed = 100; default_clone_warn = 100;
    uplink_sendq_limit = 1048576; language = "en"; immune_level = immune; };
logfile "%(log)s" { error; info; admin; network; register; set; commands; };
"""


class Atheme:
    """Atheme services linked to an Inspircd: NickServ (REGISTER, CERT ADD,
    SET PUBKEY) and SaslServ (PLAIN, EXTERNAL, ECDSA-NIST256P-CHALLENGE)."""

    MODULES = ["protocol/inspircd", "backend/opensex", "crypto/pbkdf2v2", "nickserv/main", "nickserv/register",
               "nickserv/identify", "nickserv/cert", "nickserv/set_core", "nickserv/set_pubkey", "nickserv/info",
               "saslserv/main", "saslserv/plain", "saslserv/external", "saslserv/ecdsa-nist256p-challenge"]

    def __init__(self, ircd):
        self.dir = os.path.join(ircd.dir, "atheme")
        os.makedirs(self.dir, exist_ok=True)
        self.ircd = ircd
        self.conf = os.path.join(self.dir, "atheme.conf")
        self.log_path = os.path.join(self.dir, "atheme.log")
        self.proc = None
        self._log = None

    def _config(self):
        out = ['loadmodule "%s/%s";' % (ATHEME_MODULES, m) for m in self.MODULES]
        out.append(ATHEME_CONFIG % {"services": self.ircd.SERVICES, "ircd": self.ircd.NAME,
                                    "port": self.ircd.link_port, "pw": self.ircd.LINK_PASSWORD,
                                    "log": self.log_path})
        return "\n".join(out)

    def start(self, timeout=20):
        with open(self.conf, "w") as f:
            f.write(self._config())
        self._log = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen([ATHEME, "-n", "-c", self.conf, "-D", self.dir, "-l", self.log_path,
                                      "-p", os.path.join(self.dir, "atheme.pid")],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)

        def linked():
            if self.proc.poll() is not None:
                raise RuntimeError("atheme exited with %s:\n%s" % (self.proc.returncode, self.log()))
            return re.search(r"(?i)end of burst|finished synching|synched", self.log() + self.ircd.log())
        if not wait_until(linked, timeout, interval=0.1):
            raise RuntimeError("atheme did not link:\n%s\n---\n%s" % (self.log(), self.ircd.log()))
        return self

    def log(self):
        return _read_logs(self.dir, ("stdout.log", "atheme.log"))

    def stop(self):
        stop_process(self.proc)
        if self._log:
            self._log.close()
            self._log = None


# ---- a scripted server for hostile-peer tests -------------------------------


class ScriptedServer:
    """One client connection on a free loopback port, driven by the test: it
    records the lines it reads (while reading=True) and sends what it is told.
    With reading=False it stops reading altogether, as a server (or anything
    in the middle of a link) that never reads would; its receive buffer is
    kept small so that the bot's unread output backs up quickly."""

    def __init__(self, small_buffer=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if small_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.conn = None
        self.lines = []
        self.reading = True
        self.closed = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(30)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with self.cond:
            self.conn = conn
            self.cond.notify_all()
        buf = b""
        conn.settimeout(0.2)
        while not self.closed:
            if not self.reading:
                time.sleep(0.05)
                continue
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                with self.cond:
                    self.lines.append(raw.rstrip(b"\r").decode("utf-8", "replace"))
                    self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_connected(self, timeout=15):
        with self.cond:
            if not self.cond.wait_for(lambda: self.conn is not None, timeout):
                raise AssertionError("the bot did not connect")
        return self

    def wait_line(self, pattern, timeout=10):
        rx = re.compile(pattern)
        with self.cond:
            ok = self.cond.wait_for(lambda: any(rx.search(l) for l in self.lines), timeout)
        if not ok:
            raise AssertionError("no line /%s/ from the bot; got %s" % (pattern, self.lines[-20:]))

    def count(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return sum(1 for l in self.lines if rx.search(l))

    def send(self, data):
        """Sends bytes (or lines); returns False once the bot has closed the connection."""
        if isinstance(data, str):
            data = data.encode()
        try:
            self.conn.sendall(data)
            return True
        except OSError:
            return False

    def welcome(self, nick="careerbot"):
        """Answers registration: CAP LS with nothing, then 001."""
        self.wait_line(r"^USER ")
        self.send(":fake.test CAP * LS :\r\n:fake.test 001 %s :Welcome\r\n"
                  ":fake.test 005 %s CASEMAPPING=rfc1459 :are supported\r\n" % (nick, nick))

    def close(self):
        self.closed = True
        for s in (self.conn, self.sock):
            try:
                if s:
                    s.close()
            except OSError:
                pass
        self.thread.join(5)
