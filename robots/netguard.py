"""Where outbound webhook requests may go: public addresses only, unless an operator allows a network.

A webhook URL is chosen by whoever subscribes (an API token, a schedule file, `robots watch --webhook`) and its
deliveries carry a run's outputs. Unchecked, it could aim them at the machine's own services (127.0.0.1, a cloud
metadata endpoint on 169.254.169.254, the office network), and the stored error of each attempt would tell an open
port from a closed one. So every outbound webhook request (the one outbox, robots/outbox.py) goes through this:

- the URL is http:// or https://, carries no user name or password, and is at most MAX_URL_LENGTH characters;
- every address its host resolves to is public (`ipaddress`: global, and not multicast or reserved; IPv4-mapped
  and 6to4 IPv6 addresses are judged by the IPv4 address inside), or lies in a network the operator lists in
  ROBOTS_WEBHOOK_ALLOW_NETWORKS (comma-separated CIDRs, e.g. "127.0.0.0/8,10.1.0.0/16");
- it is checked when a URL is subscribed (`NetGuard.check_url`) and again at every delivery, on the address
  actually connected: `GuardedTransport` is an httpx transport whose TCP connect resolves the host itself, checks
  every address, connects to a checked address (an IP literal: no second lookup an attacker's DNS could answer
  differently) and checks the socket's peer address. The URL, the Host header and the TLS server name stay the
  host name, so certificates are verified as usual. A name that resolved to a public address when subscribed and
  to a private one at delivery (DNS rebinding) is refused then. Proxies from the environment are not used: the
  connected address would be the proxy's.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import urlsplit

import httpcore
import httpx

from robots.errors import InputError

ALLOW_ENV = "ROBOTS_WEBHOOK_ALLOW_NETWORKS"
MAX_URL_LENGTH = 2048

#: host, port -> the addresses it resolves to (IP literals); tests inject their own to play DNS rebinding
Resolver = Callable[[str, int], list[str]]
Network = IPv4Network | IPv6Network

_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class TargetRefused(InputError):
    """A webhook URL the outbound allow-list does not let through."""

    def __init__(self, reason: str, *, url: str | None = None, allowable: bool = False) -> None:
        self.reason = reason  # e.g. "resolves to 127.0.0.1, a loopback address"
        self.hint = f"; an operator can allow it with {ALLOW_ENV}" if allowable else ""
        super().__init__(f"webhook URL {url + ' ' if url else ''}{reason}{self.hint}")

    def stored(self) -> str:
        """The delivery's stored error: the same words for an open, a closed or a silent port."""
        return f"delivery refused: the target {self.reason}{self.hint}"


def without_credentials(url: str) -> str:
    """The URL as it may be shown in a log: a user name or password in it replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order, without repeats."""
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def address_class(address: IPv4Address | IPv6Address) -> str | None:
    """What kind of non-public address this is, with its article ("a loopback address"), or None if public."""
    if isinstance(address, IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None:
            return address_class(inner)
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if any(address in n for n in _PRIVATE if n.version == address.version):
        return "a private address"
    if address.version == 4 and address in _CGNAT:
        return "a shared (carrier-grade NAT) address"
    if address.is_reserved or address.is_private or not address.is_global:
        return "a reserved address"
    return None


def allowed_networks(value: str | None) -> tuple[Network, ...]:
    """The networks of a ROBOTS_WEBHOOK_ALLOW_NETWORKS value; a bad entry is a ConfigError naming it (the parser is
    robots.settings')."""
    from robots.settings import settings

    return settings({ALLOW_ENV: value or ""}).webhook_allow_networks


@dataclass(frozen=True)
class NetGuard:
    """The outbound allow-list: networks an operator allows besides the public ones, and the resolver."""

    allow: tuple[Network, ...] = ()
    resolve: Resolver = system_resolve

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, resolve: Resolver = system_resolve) -> NetGuard:
        from robots.settings import settings

        return cls(settings(environ).webhook_allow_networks, resolve)

    def refusal(self, address: str) -> str | None:
        """Why this address is refused ("resolves to ..., a loopback address"), None if it may be reached."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        kind = address_class(ip)
        if kind is None:
            return None
        forms = [ip, *([ip.ipv4_mapped] if isinstance(ip, IPv6Address) and ip.ipv4_mapped else [])]
        if any(f in n for f in forms for n in self.allow if n.version == f.version):
            return None
        return f"resolves to {ip}, {kind}"

    def check_form(self, url: str) -> tuple[str, int]:
        """The URL's host and port if its form is acceptable (scheme, no credentials, length); else TargetRefused."""
        if len(url) > MAX_URL_LENGTH:
            raise TargetRefused(f"is {len(url)} characters long (at most {MAX_URL_LENGTH})")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise TargetRefused("is not a valid URL", url=url) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused("is not an http:// or https:// URL with a host", url=url)
        if parts.username is not None or parts.password is not None:
            # Not echoed: the URL holds a password.
            raise TargetRefused("contains a user name or password (they would be sent to the target; a receiver "
                                "authenticates deliveries by their signature)")
        return parts.hostname, port or (443 if parts.scheme == "https" else 80)

    def addresses(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to, each allowed; TargetRefused names the first that is not. A name that
        does not resolve raises socket.gaierror (OSError)."""
        found = self.resolve(host, port)
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        for address in found:
            if (reason := self.refusal(address)) is not None:
                raise TargetRefused(reason, allowable=True)
        return found

    def check_url(self, url: str) -> list[str]:
        """Check a URL when it is subscribed: its form and every address it resolves to now. Raises
        TargetRefused (an input error) naming the URL and the address refused."""
        host, port = self.check_form(url)
        try:
            return self.addresses(host, port)
        except TargetRefused as e:
            raise TargetRefused(e.reason, url=url, allowable=True) from None
        except OSError:
            raise TargetRefused(f"does not resolve ({host} is not a known host name)", url=url) from None


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's TCP connect, to checked addresses only (see the module's docstring)."""

    def __init__(self, guard: NetGuard) -> None:
        self.guard = guard
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.guard.addresses(host, port)
        except socket.gaierror as e:
            raise httpcore.ConnectError(str(e)) from None
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                stream = self._tcp.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
                continue
            peer = str(stream.get_extra_info("socket").getpeername()[0])
            if (reason := self.guard.refusal(peer)) is not None:
                stream.close()
                raise TargetRefused(reason, allowable=True)
            return stream
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        raise TargetRefused("is a Unix socket")

    def sleep(self, seconds: float) -> None:
        self._tcp.sleep(seconds)  # httpcore's own back-off between retries, as its backend waits it


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport (request mapping, errors, TLS) over a connection pool whose TCP connect is guarded.
    Environment proxies are not used. Only the pool is replaced, so everything else is httpx's."""

    def __init__(self, guard: NetGuard) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                             network_backend=_GuardedBackend(guard))
