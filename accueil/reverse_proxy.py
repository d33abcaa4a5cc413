"""The hospital's reverse proxy: deploy/nginx/accueil.conf filled in with this machine's settings.

`python -m accueil.reverse_proxy --server-name NAME --certificate CERT --key KEY` prints the nginx
configuration: the upstreams are Accueil's public listeners (PUBLIC_HOST with WEB_PORT,
PUBLIC_RASA_PORT and one VOICE_WS_PORT per voice process), the rest comes from the arguments.
"""

from __future__ import annotations

import argparse
import re

from core.settings import PROJECT_ROOT, Settings, connect_host, get_settings

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "accueil.conf"
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


def render_nginx(
    settings: Settings,
    server_name: str,
    certificate: str,
    key: str,
    https_listen: str = "443",
    http_listen: str = "80",
) -> str:
    """The template with every placeholder replaced; a placeholder left unknown is an error, not a broken file."""
    public = connect_host(settings.public_host)
    voice_ports = [settings.voice_line(line).voice_ws_port for line in range(settings.voice_processes)]
    values = {
        "SERVER_NAME": server_name,
        "CERTIFICATE": certificate,
        "CERTIFICATE_KEY": key,
        "HTTPS_LISTEN": https_listen,
        "HTTP_LISTEN": http_listen,
        "WEB": f"{public}:{settings.web_port}",
        "RASA_CHANNELS": f"{public}:{settings.public_rasa_port}",
        "VOICE_SERVERS": "\n".join(f"    server {public}:{port};" for port in voice_ports),
    }
    for name, value in values.items():
        if not value or (name != "VOICE_SERVERS" and re.search(r"[\s;{}\"'$]", value)):
            raise ValueError(f"{name}: {value!r} is not a value nginx can take here")

    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise KeyError(f"unknown placeholder {match.group(0)} in {TEMPLATE}")
        return values[match.group(1)]

    return PLACEHOLDER.sub(fill, TEMPLATE.read_text(encoding="utf-8"))


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m accueil.reverse_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--server-name", required=True, help="the public name patients' browsers use")
    parser.add_argument("--certificate", required=True, help="the TLS certificate (full chain), PEM")
    parser.add_argument("--key", required=True, help="its private key, PEM")
    parser.add_argument("--https-listen", default="443", help="nginx's `listen` for HTTPS (default 443)")
    parser.add_argument("--http-listen", default="80", help="nginx's `listen` for the redirection to HTTPS (default 80)")
    args = parser.parse_args(arguments)
    print(render_nginx(get_settings(), args.server_name, args.certificate, args.key, args.https_listen, args.http_listen), end="")


if __name__ == "__main__":
    main()
