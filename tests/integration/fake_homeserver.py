#!/usr/bin/env python3
"""A fake Matrix homeserver for the integration tests (Python 3 stdlib only).

It follows the Client-Server API's request and response shapes (v3 paths)
closely enough to drive careerbot's Matrix transport: password login,
whoami, filters, /sync with since and timeout long-polling, invites and
joins, sends with transaction-id idempotency, m.direct account data,
profiles and room aliases, and the error answers a real server gives
(429 M_LIMIT_EXCEEDED with retry_after_ms, 401 M_UNKNOWN_TOKEN with
soft_logout, 5xx).

The test drives it in-process through FakeHomeserver's methods (inject a
message, an invite, an encryption event; read what the bot sent; make the
next requests fail; drop the next long-poll). It listens on a free loopback
port only. Every request's Authorization header is checked, and any request
that carries a token in its URL is recorded (the tests assert none did).

Run it alone (python3 fake_homeserver.py) to poke at it by hand: it prints
its URL, a user and a token.
"""

import json
import secrets
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVER_NAME = "localhost"
DEFAULT_TIMELINE_LIMIT = 10


def _id(sigil, length=18):
    return "%s%s:%s" % (sigil, secrets.token_urlsafe(length)[:length], SERVER_NAME)


class Room:
    def __init__(self, room_id):
        self.room_id = room_id
        self.members = set()      # joined user ids
        self.encrypted = False
        self.aliases = []


class FakeHomeserver:
    """The server's state, behind one lock; HTTP handlers and the test share it."""

    def __init__(self):
        self.lock = threading.Condition()
        self.passwords = {}            # user_id -> password
        self.tokens = {}               # token -> (user_id, device_id)
        self.dead_tokens = {}          # token -> soft_logout flag
        self.stream = []               # (pos, kind, data); pos starts at 1
        self.rooms = {}                # room_id -> Room
        self.aliases = {}              # alias -> room_id
        self.account_data = {}         # (user_id, type) -> content
        self.filters = {}              # filter_id -> dict
        self.displaynames = {}
        self.txns = {}                 # (user_id, device_id, txn_id) -> event_id
        self.sent = []                 # every event sent through /send, in order
        self.send_attempts = []        # (txn_id, status) for every PUT /send
        self.fail_queue = {}           # endpoint kind -> [(status, body, headers)]
        self.drop_long_polls = 0
        self.raw_sync_bodies = []      # bodies to answer the next syncs with
        self.requests = []             # (method, path, authorized)
        self.token_in_url = []         # paths that carried a token: must stay empty
        self.logins = []               # request bodies of /login (without the password)
        self.sync_count = 0
        self.login_flows = ["m.login.password"]
        self.receipts = []             # (room_id, event_id)
        self.typing = []               # (room_id, typing)
        self.leaves = []               # (room_id, reason)
        self.reset_after_response = 0  # drop this many kept-alive connections as the next request comes
        self.forget_before = 0         # sync positions below this are unknown (M_UNKNOWN_POS)
        self.closing = False
        self.httpd = None
        self.thread = None

    # ---- life ----------------------------------------------------------------

    def start(self):
        handler = type("Handler", (_Handler,), {"hs": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-homeserver", daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def stop(self):
        with self.lock:
            self.closing = True
            self.lock.notify_all()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    # ---- accounts ------------------------------------------------------------

    def add_user(self, localpart, password="secret", token=None, device_id=None):
        user_id = "@%s:%s" % (localpart, SERVER_NAME)
        with self.lock:
            self.passwords[user_id] = password
            if token:
                self.tokens[token] = (user_id, device_id or "DEV" + secrets.token_hex(3).upper())
        return user_id

    def expire_token(self, token, soft_logout=True):
        """The next request with token gets 401 M_UNKNOWN_TOKEN."""
        with self.lock:
            self.tokens.pop(token, None)
            self.dead_tokens[token] = soft_logout

    # ---- the stream ----------------------------------------------------------

    def _append(self, kind, data):
        pos = len(self.stream) + 1
        self.stream.append((pos, kind, data))
        self.lock.notify_all()
        return pos

    def _room_event(self, room_id, sender, etype, content, state_key=None, unsigned=None):
        event = {
            "type": etype,
            "event_id": "$" + secrets.token_urlsafe(20),
            "sender": sender,
            "origin_server_ts": int(time.time() * 1000),
            "content": content,
            "room_id": room_id,
        }
        if state_key is not None:
            event["state_key"] = state_key
        if unsigned:
            event["unsigned"] = unsigned
        self._append("room", event)
        return event

    def create_room(self, members, encrypted=False, alias=None):
        """A room the given users have joined (before anything else happens)."""
        with self.lock:
            room = Room(_id("!"))
            self.rooms[room.room_id] = room
            creator = members[0]
            self._room_event(room.room_id, creator, "m.room.create", {"creator": creator}, state_key="")
            for user in members:
                self._join(room, user)
            if encrypted:
                self._encrypt(room, creator)
            if alias:
                self.aliases[alias] = room.room_id
            return room.room_id

    def _join(self, room, user):
        prev = {"membership": "invite"} if user not in room.members else {"membership": "join"}
        room.members.add(user)
        return self._room_event(room.room_id, user, "m.room.member", {"membership": "join"}, state_key=user,
                                unsigned={"prev_content": prev})

    def _encrypt(self, room, sender):
        room.encrypted = True
        return self._room_event(room.room_id, sender, "m.room.encryption",
                                 {"algorithm": "m.megolm.v1.aes-sha2"}, state_key="")

    def join(self, room_id, user):
        with self.lock:
            self._join(self.rooms[room_id], user)

    def invite(self, room_id, inviter, invitee, is_direct=False):
        with self.lock:
            room = self.rooms[room_id]
            state = [
                {"type": "m.room.create", "state_key": "", "sender": inviter, "content": {"creator": inviter}},
                {"type": "m.room.join_rules", "state_key": "", "sender": inviter,
                 "content": {"join_rule": "invite"}},
                {"type": "m.room.member", "state_key": inviter, "sender": inviter,
                 "content": {"membership": "join"}},
            ]
            if room.encrypted:
                state.append({"type": "m.room.encryption", "state_key": "", "sender": inviter,
                              "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
            member = {"membership": "invite"}
            if is_direct:
                member["is_direct"] = True
            self._room_event(room_id, inviter, "m.room.member", member, state_key=invitee)
            state.append({"type": "m.room.member", "state_key": invitee, "sender": inviter, "content": member})
            self._append("invite", {"room_id": room_id, "user": invitee, "state": state})

    def send_message(self, room_id, sender, body, msgtype="m.text", html=None, mentions=None, relates_to=None,
                     extra=None):
        """A message from sender; returns its event id."""
        content = {"msgtype": msgtype, "body": body}
        if html is not None:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        if mentions is not None:
            content["m.mentions"] = {"user_ids": list(mentions)}
        if relates_to is not None:
            content["m.relates_to"] = relates_to
        if extra:
            content.update(extra)
        with self.lock:
            return self._room_event(room_id, sender, "m.room.message", content)["event_id"]

    def send_encrypted(self, room_id, sender):
        with self.lock:
            return self._room_event(room_id, sender, "m.room.encrypted", {
                "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnAC...", "device_id": "ALICEDEV",
                "sender_key": "x", "session_id": "y"})["event_id"]

    def enable_encryption(self, room_id, sender):
        with self.lock:
            self._encrypt(self.rooms[room_id], sender)

    def set_account_data(self, user, etype, content):
        with self.lock:
            self.account_data[(user, etype)] = content
            self._append("account_data", {"user": user, "type": etype, "content": content})

    # ---- what the test reads --------------------------------------------------

    def messages_from(self, sender, room_id=None):
        with self.lock:
            return [d for (_, kind, d) in self.stream
                    if kind == "room" and d["sender"] == sender and d["type"] == "m.room.message"
                    and (room_id is None or d["room_id"] == room_id)]

    def is_member(self, room_id, user):
        with self.lock:
            return user in self.rooms[room_id].members

    # ---- failure injection ---------------------------------------------------

    def fail_next(self, kind, count=1, status=429, retry_after_ms=300, body=None, headers=None):
        """The next count requests of kind ("send", "sync", "join", ...) fail."""
        if body is None:
            if status == 429:
                body = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": retry_after_ms}
            else:
                body = {"errcode": "M_UNKNOWN", "error": "Internal server error"}
        with self.lock:
            self.fail_queue.setdefault(kind, []).extend([(status, body, headers or {})] * count)

    def drop_next_long_poll(self):
        with self.lock:
            self.drop_long_polls += 1

    def answer_next_sync_with(self, raw_body):
        """The next /sync gets raw_body (bytes or str) with status 200."""
        with self.lock:
            self.raw_sync_bodies.append(raw_body if isinstance(raw_body, bytes) else raw_body.encode())

    def _take_failure(self, kind):
        queue = self.fail_queue.get(kind)
        return queue.pop(0) if queue else None

    # ---- sync ------------------------------------------------------------------

    def _filter_limit(self, filter_param):
        filt = None
        if filter_param:
            if filter_param.startswith("{"):
                try:
                    filt = json.loads(filter_param)
                except ValueError:
                    filt = None
            else:
                filt = self.filters.get(filter_param)
        try:
            return int(filt["room"]["timeline"]["limit"])
        except (TypeError, KeyError, ValueError):
            return DEFAULT_TIMELINE_LIMIT

    def _sync_body(self, user, since, limit):
        """Everything for user after stream position since (None: a snapshot)."""
        now = len(self.stream)
        joined, invites, account = {}, {}, []
        start = since or 0
        # Rooms whose join by user falls in the window show recent history too.
        new_joins = set()
        for pos, kind, d in self.stream[start:]:
            if kind == "room" and d["type"] == "m.room.member" and d.get("state_key") == user \
                    and d["content"].get("membership") == "join":
                new_joins.add(d["room_id"])
        for room in self.rooms.values():
            if user not in room.members:
                continue
            if since is None or room.room_id in new_joins:
                events = [d for (_, k, d) in self.stream if k == "room" and d["room_id"] == room.room_id]
            else:
                events = [d for (_, k, d) in self.stream[start:] if k == "room" and d["room_id"] == room.room_id]
            if not events:
                continue
            limited = len(events) > limit
            events = events[-limit:] if limit > 0 else []
            state = []
            if (since is None or room.room_id in new_joins) and room.encrypted:
                state.append({"type": "m.room.encryption", "state_key": "", "sender": "@admin:" + SERVER_NAME,
                              "event_id": "$enc-state", "origin_server_ts": 0,
                              "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
            joined[room.room_id] = {
                "timeline": {"events": [dict((k, v) for k, v in e.items() if k != "room_id") for e in events],
                             "limited": limited, "prev_batch": "p%d" % start},
                "state": {"events": state},
                "account_data": {"events": []},
                "ephemeral": {"events": []},
                "unread_notifications": {"highlight_count": 0, "notification_count": 0},
            }
        for pos, kind, d in self.stream[start:]:
            if kind == "invite" and d["user"] == user and user not in self.rooms[d["room_id"]].members:
                invites[d["room_id"]] = {"invite_state": {"events": d["state"]}}
            if kind == "account_data" and d["user"] == user:
                account = [e for e in account if e["type"] != d["type"]]
                account.append({"type": d["type"], "content": d["content"]})
        body = {"next_batch": "s%d" % now, "rooms": {"join": joined, "invite": invites, "leave": {}},
                "account_data": {"events": account}, "presence": {"events": []}, "to_device": {"events": []},
                "device_lists": {"changed": [], "left": []}}
        return body, bool(joined or invites or account)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hs = None  # set per server
    PREFIX = "/_matrix/client/v3"

    def log_message(self, fmt, *args):  # quiet: the tests print what matters
        pass

    def handle(self):
        # A client that hangs up (the bot stopping mid-long-poll) is normal here.
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass

    # ---- plumbing -------------------------------------------------------------

    def _reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)
        with self.hs.lock:
            reset = self.hs.reset_after_response > 0
            if reset:
                self.hs.reset_after_response -= 1
        if reset:
            # The server closes this kept-alive connection just as the client
            # sends its next request on it (the race a real server's idle
            # timeout makes): that request is read and gets a reset, no answer.
            self.drop_next = True

    def _error(self, status, errcode, error, **extra):
        body = {"errcode": errcode, "error": error}
        body.update(extra)
        self._reply(status, body)

    def _read_body(self):
        # Read before any answer, even an error: unread bytes would be taken
        # for the next request on this keep-alive connection.
        n = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(n) if n else b""

    def _body(self):
        raw = self.raw_body
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _auth(self, path, query):
        """The requesting (user, device), or None after answering 401."""
        hs = self.hs
        raw = self.path
        header = self.headers.get("Authorization", "")
        with hs.lock:
            if "access_token" in query or any(t in raw for t in list(hs.tokens) + list(hs.dead_tokens)):
                hs.token_in_url.append(raw)
            hs.requests.append((self.command, path, header.startswith("Bearer ")))
            if not header.startswith("Bearer "):
                self._error(401, "M_MISSING_TOKEN", "Missing access token")
                return None
            token = header[7:]
            if token in hs.dead_tokens:
                self._error(401, "M_UNKNOWN_TOKEN", "Access token has expired", soft_logout=hs.dead_tokens[token])
                return None
            who = hs.tokens.get(token)
            if not who:
                self._error(401, "M_UNKNOWN_TOKEN", "Unrecognised access token", soft_logout=False)
                return None
            return who

    def _fail_if_asked(self, kind):
        with self.hs.lock:
            failure = self.hs._take_failure(kind)
        if failure:
            status, body, headers = failure
            self._reply(status, body, headers)
            return True
        return False

    def _route(self):
        self._read_body()
        if getattr(self, "drop_next", False):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        if not parsed.path.startswith(self.PREFIX + "/"):
            self._error(404, "M_UNRECOGNIZED", "Unrecognized request")
            return
        parts = [urllib.parse.unquote(p) for p in parsed.path[len(self.PREFIX) + 1:].split("/")]
        method = self.command
        if method == "POST" and parts == ["login"]:
            return self._login()
        if method == "GET" and parts == ["login"]:
            return self._reply(200, {"flows": [{"type": t} for t in self.hs.login_flows]})
        who = self._auth("/" + "/".join(parts), query)
        if who is None:
            return
        user, device = who
        if method == "GET" and parts == ["account", "whoami"]:
            return self._reply(200, {"user_id": user, "device_id": device, "is_guest": False})
        if method == "POST" and len(parts) == 3 and parts[0] == "user" and parts[2] == "filter":
            return self._create_filter(user, parts[1])
        if method == "GET" and parts == ["sync"]:
            return self._sync(user, query)
        if method == "POST" and len(parts) == 2 and parts[0] == "join":
            return self._join(user, parts[1])
        if method == "PUT" and len(parts) == 5 and parts[0] == "rooms" and parts[2] == "send":
            return self._send(user, device, parts[1], parts[3], parts[4])
        if len(parts) == 3 and parts[0] == "profile" and parts[2] == "displayname":
            return self._displayname(user, parts[1])
        if len(parts) == 4 and parts[0] == "user" and parts[2] == "account_data":
            with self.hs.lock:
                if method == "PUT":
                    self.hs.account_data[(user, parts[3])] = self._body()
                    return self._reply(200, {})
                content = self.hs.account_data.get((user, parts[3]))
            if content is None:
                return self._error(404, "M_NOT_FOUND", "Account data not found")
            return self._reply(200, content)
        if method == "POST" and len(parts) == 5 and parts[0] == "rooms" and parts[2] == "receipt":
            with self.hs.lock:
                self.hs.receipts.append((parts[1], parts[4]))
            return self._reply(200, {})
        if method == "PUT" and len(parts) == 4 and parts[0] == "rooms" and parts[2] == "typing":
            with self.hs.lock:
                self.hs.typing.append((parts[1], bool((self._body() or {}).get("typing"))))
            return self._reply(200, {})
        if method == "POST" and len(parts) == 3 and parts[0] == "rooms" and parts[2] == "leave":
            with self.hs.lock:
                self.hs.leaves.append((parts[1], (self._body() or {}).get("reason")))
                room = self.hs.rooms.get(parts[1])
                if room:
                    room.members.discard(user)
            return self._reply(200, {})
        if method == "GET" and len(parts) == 3 and parts[:2] == ["directory", "room"]:
            room_id = self.hs.aliases.get(parts[2])
            if not room_id:
                return self._error(404, "M_NOT_FOUND", "Room alias not found")
            return self._reply(200, {"room_id": room_id, "servers": [SERVER_NAME]})
        self._error(404, "M_UNRECOGNIZED", "Unrecognized request")

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def do_PUT(self):
        self._route()

    # ---- endpoints --------------------------------------------------------------

    def _login(self):
        hs = self.hs
        body = self._body()
        if not isinstance(body, dict):
            return self._error(400, "M_NOT_JSON", "Content not JSON.")
        if self._fail_if_asked("login"):
            return
        ident = body.get("identifier") or {}
        user = ident.get("user") or body.get("user")
        if body.get("type") != "m.login.password" or ident.get("type", "m.id.user") != "m.id.user" or not user:
            return self._error(400, "M_UNKNOWN", "Unknown login type")
        if not user.startswith("@"):
            user = "@%s:%s" % (user, SERVER_NAME)
        with hs.lock:
            hs.logins.append(dict((k, v) for k, v in body.items() if k != "password"))
            if hs.passwords.get(user) != body.get("password"):
                return self._error(403, "M_FORBIDDEN", "Invalid username or password")
            device = body.get("device_id") or "DEV" + secrets.token_hex(4).upper()
            # A login for an existing device replaces that device's token.
            for t, (u, d) in list(hs.tokens.items()):
                if u == user and d == device:
                    del hs.tokens[t]
                    hs.dead_tokens[t] = False
            token = "syt_" + secrets.token_urlsafe(24)
            hs.tokens[token] = (user, device)
        self._reply(200, {"user_id": user, "access_token": token, "device_id": device,
                          "home_server": SERVER_NAME})

    def _create_filter(self, user, target):
        if target != user:
            return self._error(403, "M_FORBIDDEN", "Cannot create filters for other users")
        body = self._body()
        if not isinstance(body, dict):
            return self._error(400, "M_NOT_JSON", "Content not JSON.")
        with self.hs.lock:
            fid = str(len(self.hs.filters) + 1)
            self.hs.filters[fid] = body
        self._reply(200, {"filter_id": fid})

    def _sync(self, user, query):
        hs = self.hs
        since = query.get("since")
        try:
            timeout_ms = int(query.get("timeout", "0"))
        except ValueError:
            return self._error(400, "M_INVALID_PARAM", "timeout must be an integer")
        if since is not None and not (since.startswith("s") and since[1:].isdigit()):
            return self._error(400, "M_UNKNOWN", "Unknown since token")
        if since is not None and int(since[1:]) < hs.forget_before:
            return self._error(400, "M_UNKNOWN_POS", "Unknown position")
        if self._fail_if_asked("sync"):
            return
        with hs.lock:
            hs.sync_count += 1
            if hs.raw_sync_bodies:
                raw = hs.raw_sync_bodies.pop(0)
                return self._reply(200, raw)
            drop = timeout_ms > 0 and hs.drop_long_polls > 0
            if drop:
                hs.drop_long_polls -= 1
        if drop:
            # The connection dies in the middle of the long-poll: no status, no body.
            time.sleep(0.3)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
            return
        limit = hs._filter_limit(query.get("filter"))
        since_pos = int(since[1:]) if since else None
        deadline = time.monotonic() + timeout_ms / 1000.0
        with hs.lock:
            while True:
                body, anything = hs._sync_body(user, since_pos, limit)
                left = deadline - time.monotonic()
                if anything or since_pos is None or left <= 0 or hs.closing:
                    break
                hs.lock.wait(left)
        self._reply(200, body)

    def _join(self, user, target):
        hs = self.hs
        if self._fail_if_asked("join"):
            return
        with hs.lock:
            room_id = hs.aliases.get(target, target)
            room = hs.rooms.get(room_id)
            if not room:
                return self._error(404, "M_NOT_FOUND", "No known servers")
            invited = any(k == "invite" and d["room_id"] == room_id and d["user"] == user
                          for (_, k, d) in hs.stream)
            if not invited and user not in room.members:
                return self._error(403, "M_FORBIDDEN", "You are not invited to this room.")
            if user not in room.members:
                hs._join(room, user)
        self._reply(200, {"room_id": room_id})

    def _send(self, user, device, room_id, etype, txn_id):
        hs = self.hs
        body = self._body()
        if not isinstance(body, dict):
            return self._error(400, "M_NOT_JSON", "Content not JSON.")
        with hs.lock:
            failure = hs._take_failure("send")
            hs.send_attempts.append((txn_id, failure[0] if failure else 200))
        if failure:
            return self._reply(*failure)
        with hs.lock:
            room = hs.rooms.get(room_id)
            if not room or user not in room.members:
                return self._error(403, "M_FORBIDDEN", "User %s not in room %s" % (user, room_id))
            # Idempotency: the same (user, device, txnId) gives the same event, stored once.
            key = (user, device, txn_id)
            if key not in hs.txns:
                event = hs._room_event(room_id, user, etype, body, unsigned={"transaction_id": txn_id})
                hs.txns[key] = event["event_id"]
                hs.sent.append(event)
            event_id = hs.txns[key]
        self._reply(200, {"event_id": event_id})

    def _displayname(self, user, target):
        hs = self.hs
        if self.command == "GET":
            name = hs.displaynames.get(target)
            if name is None:
                return self._reply(200, {})
            return self._reply(200, {"displayname": name})
        if target != user:
            return self._error(403, "M_FORBIDDEN", "Cannot set another user's display name")
        body = self._body()
        if not isinstance(body, dict) or not isinstance(body.get("displayname"), str):
            return self._error(400, "M_BAD_JSON", "displayname must be a string")
        with hs.lock:
            hs.displaynames[user] = body["displayname"]
        self._reply(200, {})


def main():
    hs = FakeHomeserver().start()
    token = "syt_manual_" + secrets.token_hex(8)
    bot = hs.add_user("careerbot", token=token)
    alice = hs.add_user("alice")
    room = hs.create_room([alice, bot])
    print("homeserver = %s\nuser_id = %s\naccess_token = %s\nroom = %s" % (hs.url, bot, token, room))
    print("type a line to send it as %s; Ctrl-D to quit" % alice)
    try:
        while True:
            line = input()
            hs.send_message(room, alice, line)
            time.sleep(1.0)
            for m in hs.messages_from(bot)[-3:]:
                print("bot:", m["content"].get("body"))
    except (EOFError, KeyboardInterrupt):
        pass
    hs.stop()


if __name__ == "__main__":
    main()
