"""Run the sandbox portal: a portal listener and an OAuth-server listener on loopback, one shared state."""
from __future__ import annotations

import argparse
import json
import logging
import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server

from .app import create_oauth_app, create_portal_app
from .state import AppRegistration, PortalState


@dataclass
class RunningPortal:
    state: PortalState
    portal_server: BaseWSGIServer
    oauth_server: BaseWSGIServer

    @property
    def url(self) -> str:
        return self.state.client_endpoint.removesuffix("/rest/")

    @property
    def oauth_host(self) -> str:
        return f"127.0.0.1:{self.oauth_server.server_port}"

    def shutdown(self) -> None:
        self.portal_server.shutdown()
        self.oauth_server.shutdown()


def start_portal(
    *,
    app: AppRegistration,
    host: str = "127.0.0.1",
    port: int = 0,
    oauth_port: int = 0,
    tls: tuple[str, str] | None = None,
    on_premise: bool = False,
    **state_options,
) -> RunningPortal:
    """Start both listeners in background threads; port 0 picks a free port.

    `tls` (certificate file, key file) serves both over HTTPS, for clients that, like b24pysdk, only
    speak https://<domain>/rest/. `on_premise` makes the portal its own OAuth server: SERVER_ENDPOINT is the
    portal's REST base. Whether such a box portal sends exactly that is the issue's premise, no source's
    (module source rest/lib/oauth/auth.php has box portals use the cloud OAuthService). [G-onpremise-refresh]"""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    placeholder = PortalState(domain="pending", app=app, **state_options)
    portal_server = make_server(host, port, create_portal_app(placeholder), threaded=True, ssl_context=tls)
    oauth_server = make_server(host, oauth_port, create_oauth_app(placeholder), threaded=True, ssl_context=tls)
    scheme = "https" if tls else "http"
    placeholder.domain = f"{host}:{portal_server.server_port}"
    placeholder.client_endpoint = f"{scheme}://{placeholder.domain}/rest/"
    placeholder.server_endpoint = (placeholder.client_endpoint if on_premise
                                   else f"{scheme}://{host}:{oauth_server.server_port}/rest/")
    for server in (portal_server, oauth_server):
        threading.Thread(target=server.serve_forever, daemon=True, name=f"sandbox-{server.server_port}").start()
    return RunningPortal(placeholder, portal_server, oauth_server)


def main() -> None:
    parser = argparse.ArgumentParser(description="Sandbox Bitrix24 portal and OAuth server")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--oauth-port", type=int, default=8102)
    parser.add_argument("--app-url", default="http://127.0.0.1:8000/bitrix/app/")
    parser.add_argument("--install-url", default="http://127.0.0.1:8000/bitrix/install/")
    parser.add_argument("--client-id", default="local.hrsync.sandbox")
    parser.add_argument("--client-secret", default="sandbox-secret")
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--no-limits", action="store_true")
    parser.add_argument("--member-id", default=None)
    parser.add_argument("--portals", type=int, default=1,
                        help="serve this many portals (benchmarks), on free ports; one JSON line each on stdout")
    args = parser.parse_args()
    registration = AppRegistration(client_id=args.client_id, client_secret=args.client_secret,
                                   app_url=args.app_url, install_url=args.install_url)
    if args.portals > 1 or args.port == 0:
        for _ in range(args.portals):
            running = start_portal(app=registration, rate=args.rate, burst=args.burst, limits_enabled=not args.no_limits)
            print(json.dumps({"url": running.url, "client_endpoint": running.state.client_endpoint,
                              "server_endpoint": running.state.server_endpoint, "domain": running.state.domain,
                              "member_id": running.state.member_id, "oauth_host": running.oauth_host}), flush=True)
        threading.Event().wait()
    running = start_portal(app=registration, port=args.port, oauth_port=args.oauth_port, rate=args.rate,
                           burst=args.burst, limits_enabled=not args.no_limits, member_id=args.member_id)
    print(f"Sandbox portal on {running.url} (OAuth server {running.oauth_host}), member_id {running.state.member_id}",
          flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
