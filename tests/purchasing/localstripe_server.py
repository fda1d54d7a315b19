"""A localstripe server for tests: started on a free 127.0.0.1 port, stopped afterwards."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mall.purchasing.payments.stripe_gateway import StripeSettings, start_localstripe, stop_localstripe

WEBHOOK_SECRET = "whsec_test_localstripe"


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LocalStripe:
    """A running localstripe and the settings that point the gateway at it."""

    process: subprocess.Popen
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, webhook_secret: str = WEBHOOK_SECRET) -> StripeSettings:
        # Retries would only slow a failing test down; localstripe ignores idempotency keys anyway.
        return StripeSettings(api_key="sk_test_localstripe", api_base=self.base_url,
                              webhook_secret=webhook_secret, timeout_seconds=10.0, max_network_retries=0)


@contextmanager
def running_localstripe(log_path: str | Path | None = None) -> Iterator[LocalStripe]:
    """Start an empty localstripe, yield it, and stop it however the block ends."""
    port = free_port()
    process = start_localstripe(port, log_path=log_path, from_scratch=True)
    try:
        yield LocalStripe(process=process, port=port)
    finally:
        stop_localstripe(process)
