"""Synapse, the reference Matrix homeserver, for the integration tests, and a
client that behaves as Element does (plain HTTP from the standard library).

Synapse comes from a virtual environment outside the source tree, made by
scripts/test (scripts/lib.sh ensure_synapse): its python is
$CAREERBOT_SYNAPSE_PYTHON, or ~/.cache/careerbot/synapse-venv/bin/python.
Each server runs on a free loopback port with a generated config: SQLite in
a temporary folder, no federation listener, no trusted key servers, no stats
reporting, registration only through the shared-secret admin API. Rate limits
are Synapse's defaults, or raised out of the way (raised=True).
"""

import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SERVER_NAME = "localhost"
SHARED_SECRET = "careerbot-tests-" + secrets.token_hex(8)


def synapse_python():
    explicit = os.environ.get("CAREERBOT_SYNAPSE_PYTHON")
    if explicit:
        return explicit
    return os.path.join(os.path.expanduser("~"), ".cache", "careerbot", "synapse-venv", "bin", "python")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RAISED = {"per_second": 1000, "burst_count": 1000}
RAISED_LIMITS = """
rc_message: {r}
rc_login:
  address: {r}
  account: {r}
  failed_attempts: {r}
rc_registration: {r}
rc_joins:
  local: {r}
  remote: {r}
rc_joins_per_room: {r}
rc_invites:
  per_room: {r}
  per_user: {r}
  per_issuer: {r}
rc_admin_redaction: {r}
rc_3pid_validation: {r}
""".format(r=json.dumps(RAISED))

CONFIG = """
server_name: "{server_name}"
public_baseurl: "http://127.0.0.1:{port}/"
pid_file: "{dir}/homeserver.pid"
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{dir}/homeserver.db"
log_config: "{dir}/log.yaml"
media_store_path: "{dir}/media"
signing_key_path: "{dir}/signing.key"
registration_shared_secret: "{secret}"
enable_registration: false
macaroon_secret_key: "{macaroon}"
form_secret: "{form}"
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
enable_metrics: false
presence:
  enabled: false
server_notices:
  system_mxid_localpart: notices
  system_mxid_display_name: "Server Notices"
  room_name: "Server Notices"
default_room_version: "10"
{limits}
"""

LOG_CONFIG = """
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {dir}/homeserver.log
    encoding: utf8
loggers:
  synapse.storage.SQL:
    level: WARNING
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
"""


class MatrixError(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__("HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body
        self.headers = headers or {}

    @property
    def errcode(self):
        return self.body.get("errcode") if isinstance(self.body, dict) else None


def http(url, method="GET", body=None, token=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else {}
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        raise MatrixError(e.code, parsed, dict(e.headers)) from None


class Synapse:
    """One Synapse process with its own folder; start(), then stop()."""

    def __init__(self, raised=True):
        self.raised = raised
        self.dir = tempfile.mkdtemp(prefix="careerbot-synapse-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.admin = None

    def start(self, timeout=60):
        py = synapse_python()
        if not os.access(py, os.X_OK):
            raise FileNotFoundError("no Synapse at %s (scripts/test installs it)" % py)
        with open(os.path.join(self.dir, "homeserver.yaml"), "w") as f:
            f.write(CONFIG.format(server_name=SERVER_NAME, port=self.port, dir=self.dir, secret=SHARED_SECRET,
                                  macaroon=secrets.token_hex(16), form=secrets.token_hex(16),
                                  limits=RAISED_LIMITS if self.raised else ""))
        with open(os.path.join(self.dir, "log.yaml"), "w") as f:
            f.write(LOG_CONFIG.format(dir=self.dir))
        subprocess.run([py, "-m", "synapse.app.homeserver", "-c", os.path.join(self.dir, "homeserver.yaml"),
                        "--generate-keys"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen([py, "-m", "synapse.app.homeserver", "-c",
                                      os.path.join(self.dir, "homeserver.yaml")],
                                     stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
                                     cwd=self.dir)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("Synapse exited with %s: %s" % (self.proc.returncode, self.tail()))
            try:
                http(self.url + "/_matrix/client/versions", timeout=2)
                break
            except (OSError, MatrixError):
                if time.monotonic() > deadline:
                    raise RuntimeError("Synapse did not answer within %d s: %s" % (timeout, self.tail()))
                time.sleep(0.2)
        self.admin = self.register("admin", admin=True)
        return self

    def tail(self, n=30):
        out = []
        for name in ("stderr.log", "homeserver.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    out += f.read().decode("utf-8", "replace").splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.stderr.close()
        self.proc = None
        if not os.environ.get("CAREERBOT_IT_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def register(self, localpart, password=None, admin=False, displayname=None):
        """A new user through the shared-secret admin API; returns a Client."""
        password = password or secrets.token_urlsafe(12)
        url = self.url + "/_synapse/admin/v1/register"
        nonce = http(url)["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin,
                "mac": mac.hexdigest()}
        if displayname:
            body["displayname"] = displayname
        r = http(url, "POST", body)
        c = Client(self, r["user_id"], r["access_token"], r.get("device_id"))
        c.password = password
        return c

    def admin_call(self, path, method="GET", body=None):
        return http(self.url + "/_synapse/admin" + path, method, body, token=self.admin.token)

    def unlimited(self, client):
        """No rate limits for this user (the people in the tests, never the bot)."""
        self.admin_call("/v1/users/%s/override_ratelimit" % urllib.parse.quote(client.user_id), "POST",
                        {"messages_per_second": 0, "burst_count": 0})

    def login(self, user, password, device_id=None):
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
                "password": password}
        if device_id:
            body["device_id"] = device_id
        r = http(self.url + "/_matrix/client/v3/login", "POST", body)
        c = Client(self, r["user_id"], r["access_token"], r["device_id"])
        c.password = password
        return c


def q(s):
    return urllib.parse.quote(s, safe="")


class Client:
    """A Matrix user as Element drives one: it creates rooms as Element does,
    writes mentions with a pill and m.mentions, and reads the timeline with
    its own /sync loop (started by watch())."""

    def __init__(self, hs, user_id, token, device_id):
        self.hs = hs
        self.user_id = user_id
        self.token = token
        self.device_id = device_id
        self.password = None
        self.lock = threading.Condition()
        self.events = {}          # room_id -> [event] in timeline order
        self.invites = {}         # room_id -> invite_state events
        self.ephemeral = []       # (room_id, event)
        self.leaves = {}          # room_id -> leave timeline
        self.next_batch = None
        self.thread = None
        self.stopping = False

    def call(self, method, path, body=None, timeout=30):
        return http(self.hs.url + "/_matrix/client/v3" + path, method, body, token=self.token, timeout=timeout)

    # ---- rooms as Element makes them -------------------------------------------------

    def create_room(self, invite=(), direct=False, public=False, encrypted=False, name=None, alias=None):
        body = {"preset": "public_chat" if public else ("trusted_private_chat" if direct else "private_chat"),
                "invite": list(invite)}
        if direct:
            body["is_direct"] = True
        if name:
            body["name"] = name
        if alias:
            body["room_alias_name"] = alias
        if encrypted:
            body["initial_state"] = [{"type": "m.room.encryption", "state_key": "",
                                      "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
        room = self.call("POST", "/createRoom", body)["room_id"]
        if direct:
            # Element records the chat in its own m.direct too.
            try:
                current = self.call("GET", "/user/%s/account_data/m.direct" % q(self.user_id))
            except MatrixError:
                current = {}
            for user in invite:
                current.setdefault(user, []).append(room)
            self.call("PUT", "/user/%s/account_data/m.direct" % q(self.user_id), current)
        return room

    def invite(self, room, user, reason=None):
        body = {"user_id": user}
        if reason:
            body["reason"] = reason
        self.call("POST", "/rooms/%s/invite" % q(room), body)

    def kick(self, room, user, reason="test"):
        self.call("POST", "/rooms/%s/kick" % q(room), {"user_id": user, "reason": reason})

    def join(self, room):
        return self.call("POST", "/join/%s" % q(room), {})["room_id"]

    def leave(self, room):
        self.call("POST", "/rooms/%s/leave" % q(room), {})

    def members(self, room):
        chunk = self.call("GET", "/rooms/%s/members" % q(room))["chunk"]
        return {e["state_key"]: e["content"].get("membership") for e in chunk}

    def member_event(self, room, user):
        chunk = self.call("GET", "/rooms/%s/members" % q(room))["chunk"]
        return next((e for e in chunk if e["state_key"] == user), None)

    def upgrade(self, room, version="11"):
        return self.call("POST", "/rooms/%s/upgrade" % q(room), {"new_version": version})["replacement_room"]

    def set_state(self, room, etype, key, content):
        return self.call("PUT", "/rooms/%s/state/%s/%s" % (q(room), q(etype), q(key)), content)["event_id"]

    # ---- messages ----------------------------------------------------------------------

    def send(self, room, body, mentions=(), html=None, relates_to=None, msgtype="m.text", extra=None,
             etype="m.room.message", no_mentions=False):
        """Sends as Element: m.mentions always present (empty when nobody
        is mentioned) unless no_mentions asks for an older client."""
        content = {"msgtype": msgtype, "body": body}
        if html:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        if not no_mentions:
            content["m.mentions"] = {"user_ids": list(mentions)} if mentions else {}
        if relates_to:
            content["m.relates_to"] = relates_to
        if extra:
            content.update(extra)
        txn = secrets.token_hex(8)
        return self.call("PUT", "/rooms/%s/send/%s/%s" % (q(room), q(etype), txn), content)["event_id"]

    def mention(self, room, who, name, question):
        """'Name: question' as Element writes a mention: the display name in
        the body, a pill in formatted_body, the user in m.mentions."""
        html = '<a href="https://matrix.to/#/%s">%s</a>: %s' % (who, name, question)
        return self.send(room, "%s: %s" % (name, question), mentions=[who], html=html)

    def reply(self, room, to_event, body, to_sender, fallback=False, quoted=""):
        relates = {"m.in_reply_to": {"event_id": to_event}}
        if fallback:
            text = "> <%s> %s\n\n%s" % (to_sender, quoted.replace("\n", "\n> "), body)
            html = ('<mx-reply><blockquote><a href="https://matrix.to/#/%s/%s">In reply to</a> '
                    '<a href="https://matrix.to/#/%s">%s</a><br>%s</blockquote></mx-reply>%s'
                    % (room, to_event, to_sender, to_sender, quoted, body))
            return self.send(room, text, mentions=[to_sender], html=html, relates_to=relates)
        return self.send(room, body, mentions=[to_sender], relates_to=relates)

    def edit(self, room, event, new_body):
        return self.send(room, "* " + new_body, relates_to={"rel_type": "m.replace", "event_id": event},
                         extra={"m.new_content": {"msgtype": "m.text", "body": new_body, "m.mentions": {}}})

    def send_encrypted(self, room):
        content = {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnAc" + secrets.token_hex(20),
                   "device_id": self.device_id or "DEVICE", "sender_key": "k" * 43, "session_id": "s" * 43}
        txn = secrets.token_hex(8)
        return self.call("PUT", "/rooms/%s/send/m.room.encrypted/%s" % (q(room), txn), content)["event_id"]

    # ---- reading -------------------------------------------------------------------------

    def watch(self):
        """Starts this client's own /sync loop (a daemon thread)."""
        self.next_batch = self.call("GET", "/sync?timeout=0&filter=%s" % q(json.dumps(
            {"room": {"timeline": {"limit": 0}}})))["next_batch"]
        self.thread = threading.Thread(target=self._loop, daemon=True, name="sync " + self.user_id)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True

    def _loop(self):
        while not self.stopping:
            try:
                r = self.call("GET", "/sync?timeout=1000&since=%s" % q(self.next_batch), timeout=20)
            except (OSError, MatrixError):
                time.sleep(0.2)
                continue
            with self.lock:
                for room, data in r.get("rooms", {}).get("join", {}).items():
                    self.events.setdefault(room, []).extend(data.get("timeline", {}).get("events", []))
                    for ev in data.get("ephemeral", {}).get("events", []):
                        self.ephemeral.append((room, ev))
                for room, data in r.get("rooms", {}).get("invite", {}).items():
                    self.invites[room] = data.get("invite_state", {}).get("events", [])
                for room, data in r.get("rooms", {}).get("leave", {}).items():
                    self.leaves.setdefault(room, []).extend(data.get("timeline", {}).get("events", []))
                self.next_batch = r["next_batch"]
                self.lock.notify_all()

    def messages(self, room, sender=None, etype="m.room.message"):
        with self.lock:
            return [e for e in self.events.get(room, []) if e.get("type") == etype and
                    (sender is None or e.get("sender") == sender)]

    def timeline(self, room):
        with self.lock:
            return list(self.events.get(room, []))

    def typing_seen(self, room, user):
        with self.lock:
            return any(r == room and ev.get("type") == "m.typing" and user in ev["content"].get("user_ids", [])
                       for r, ev in self.ephemeral)

    def receipts(self, room, user):
        """Event ids that user has sent an m.read receipt for in room."""
        out = set()
        with self.lock:
            for r, ev in self.ephemeral:
                if r != room or ev.get("type") != "m.receipt":
                    continue
                for event_id, kinds in ev["content"].items():
                    if user in kinds.get("m.read", {}):
                        out.add(event_id)
        return out
