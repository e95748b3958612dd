#!/usr/bin/env python3
"""Answer IPv6 Router Solicitations on one interface with an empty RA.

Part of Berth's virtual bare-metal lab (tools/lab/berth-lab); it runs inside
the lab's network namespace, on the provisioning bridge.

Why it exists: iPXE's "Configuring (net0 ...)" step runs DHCPv4 and IPv6
stateless autoconfiguration side by side and only moves on when both are
done.  On a link without any IPv6 router, the IPv6 half gives up only after
about 12 seconds, and iPXE pays that on every stage of a PXE chain.  A Router
Advertisement with router lifetime 0, no flags and no options tells iPXE
"there is no IPv6 here" at once, so DHCPv4 alone decides.

The advertisement is sent from the bridge's link-local address to ff02::1 on
that bridge only.  No IPv6 address or route is configured anywhere.

usage: ra-responder.py IFACE     (stops on SIGTERM/SIGINT)
"""

import signal
import socket
import struct
import sys
import time

ICMPV6_ROUTER_SOLICIT = 133
ICMPV6_ROUTER_ADVERT = 134


def log(msg):
    sys.stderr.write("%.3f %s\n" % (time.time(), msg))
    sys.stderr.flush()


def empty_router_advert():
    # type, code, checksum (the kernel computes it for ICMPv6 raw sockets),
    # current hop limit, flags (no M/O), router lifetime 0 (not a default
    # router), reachable time, retransmit timer.  No options at all.
    return struct.pack("!BBHBBHII", ICMPV6_ROUTER_ADVERT, 0, 0, 0, 0, 0, 0, 0)


def open_socket(iface):
    index = socket.if_nametoindex(iface)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                         socket.IPPROTO_ICMPV6)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                    iface.encode())
    # Router Solicitations go to all-routers (ff02::2): join it on IFACE.
    group = socket.inet_pton(socket.AF_INET6, "ff02::2")
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                    group + struct.pack("@I", index))
    # RFC 4861 section 6.1.2: hosts drop an RA whose hop limit is not 255.
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    sock.settimeout(1.0)
    return sock, index


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: ra-responder.py IFACE\n")
        return 2
    iface = sys.argv[1]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sock, index = open_socket(iface)
    advert = empty_router_advert()
    log("answering router solicitations on %s (ifindex %d)" % (iface, index))
    while not stop:
        try:
            data, addr = sock.recvfrom(2048)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if not data or data[0] != ICMPV6_ROUTER_SOLICIT:
            continue
        try:
            sock.sendto(advert, ("ff02::1", 0, 0, index))
            log("RS from %s: sent empty RA" % addr[0])
        except OSError as err:
            # e.g. the bridge's link-local address is not ready yet; the
            # client solicits again a moment later.
            log("RS from %s: cannot send RA: %s" % (addr[0], err))
    log("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
