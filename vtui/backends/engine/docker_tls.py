"""A docker-py client for an engine behind TLS that verifies against the host's own CA.

requests lets REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) replace a session's CA file for each
request that names none (psf/requests#3829), and docker-py names none: on a machine with
that variable set, as many are, every tcp:// engine with its own CA failed its handshake
with "unable to get local issuer certificate". This client keeps the CA it was given.
"""

from __future__ import annotations

from typing import Any


def tls_client(base_url: str, **options: Any) -> Any:
    """A docker.DockerClient for `base_url` whose requests verify with its own TLS CA."""
    import docker

    class OwnCaApiClient(docker.APIClient):  # type: ignore[misc]
        def merge_environment_settings(
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> Any:
            # Asked with no verify of its own, a request takes the session's, not the env's.
            return super().merge_environment_settings(
                url, proxies, stream, self.verify if verify is None else verify, cert
            )

    # DockerClient's __init__ only makes its APIClient: make ours in its place.
    client = docker.DockerClient.__new__(docker.DockerClient)
    client.api = OwnCaApiClient(base_url=base_url, **options)
    return client
