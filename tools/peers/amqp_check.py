#!/usr/bin/env python3
"""Minimal AMQP 0-9-1 login probe (stdlib only) for tools/peers/rabbitmq.sh.

usage: amqp_check.py HOST PORT USER PASSWORD VHOST [TIMEOUT_S]

Connects, authenticates with PLAIN, opens VHOST and closes cleanly.
Exit status: 0 ok, 2 cannot connect / broker not ready yet,
3 login or vhost refused, 1 anything else.
"""

import socket
import struct
import sys

FRAME_METHOD = 1
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE


class Refused(Exception):
    pass


class NotReady(Exception):
    pass


def shortstr(s):
    b = s.encode()
    return struct.pack("!B", len(b)) + b


def longstr(b):
    return struct.pack("!I", len(b)) + b


def table(items):
    """Encode an AMQP field table of (name, type, encoded value)."""
    body = b"".join(shortstr(name) + kind + value
                    for name, kind, value in items)
    return struct.pack("!I", len(body)) + body


# Ask for connection.close on a refused login instead of a silent TCP close.
CLIENT_PROPERTIES = table([
    ("product", b"S", longstr(b"berth amqp_check")),
    ("capabilities", b"F",
     table([("authentication_failure_close", b"t", b"\x01")])),
])


def send_method(sock, class_id, method_id, args):
    payload = struct.pack("!HH", class_id, method_id) + args
    frame = struct.pack("!BHI", FRAME_METHOD, 0, len(payload))
    sock.sendall(frame + payload + bytes([FRAME_END]))


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed by broker")
        buf += chunk
    return buf


def recv_method(sock):
    while True:
        ftype, _channel, size = struct.unpack("!BHI", recv_exact(sock, 7))
        payload = recv_exact(sock, size)
        if recv_exact(sock, 1)[0] != FRAME_END:
            raise ValueError("bad frame end")
        if ftype == FRAME_HEARTBEAT:
            continue
        if ftype != FRAME_METHOD:
            raise ValueError("unexpected frame type %d" % ftype)
        class_id, method_id = struct.unpack("!HH", payload[:4])
        return class_id, method_id, payload[4:]


def expect(sock, class_id, method_id):
    got_class, got_method, args = recv_method(sock)
    if (got_class, got_method) == (10, 50):  # connection.close
        code = struct.unpack("!H", args[:2])[0]
        text = args[3:3 + args[2]].decode(errors="replace")
        raise Refused("broker closed the connection: %d %s" % (code, text))
    if (got_class, got_method) != (class_id, method_id):
        raise ValueError("expected method %d.%d, got %d.%d"
                         % (class_id, method_id, got_class, got_method))
    return args


def probe(host, port, user, password, vhost, timeout):
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise NotReady("cannot connect to %s:%d: %s" % (host, port, exc))
    with sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        try:
            expect(sock, 10, 10)  # connection.start
        except (EOFError, OSError) as exc:
            raise NotReady("no connection.start: %s" % exc)
        response = b"\x00" + user.encode() + b"\x00" + password.encode()
        send_method(sock, 10, 11,  # connection.start-ok
                    CLIENT_PROPERTIES + shortstr("PLAIN")
                    + longstr(response) + shortstr("en_US"))
        try:
            args = expect(sock, 10, 30)  # connection.tune
        except (EOFError, socket.timeout):
            raise Refused("login refused for user %r" % user)
        channel_max, frame_max, _heartbeat = struct.unpack("!HIH", args[:8])
        send_method(sock, 10, 31,  # connection.tune-ok
                    struct.pack("!HIH", channel_max, frame_max, 0))
        send_method(sock, 10, 40,  # connection.open
                    shortstr(vhost) + shortstr("") + b"\x00")
        expect(sock, 10, 41)  # connection.open-ok
        send_method(sock, 10, 50,  # connection.close
                    struct.pack("!H", 200) + shortstr("probe done")
                    + struct.pack("!HH", 0, 0))
        expect(sock, 10, 51)  # connection.close-ok


def main(argv):
    if len(argv) not in (6, 7):
        print(__doc__.strip(), file=sys.stderr)
        return 1
    host, port, user, password, vhost = argv[1:6]
    timeout = float(argv[6]) if len(argv) == 7 else 5.0
    try:
        probe(host, int(port), user, password, vhost, timeout)
    except NotReady as exc:
        print("amqp_check: %s" % exc, file=sys.stderr)
        return 2
    except Refused as exc:
        print("amqp_check: %s" % exc, file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - report any protocol surprise
        print("amqp_check: %s: %s" % (type(exc).__name__, exc),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
