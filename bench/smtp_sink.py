"""A local SMTP sink for benchmarks: accepts every message, counts them, prints the count on SIGTERM."""

import asyncio
import signal
import sys

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.count += 1
        return "250 OK"


def main() -> None:
    port = int(sys.argv[1])
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.run_until_complete(stop)
    controller.stop()
    print(handler.count, flush=True)


if __name__ == "__main__":
    main()
