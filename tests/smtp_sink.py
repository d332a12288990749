"""An SMTP server for the fault tests and the benchmarks, run in its own process. It counts what it
accepts (printed on SIGTERM), can log every accepted message's recipients (one line each, flushed at
once, so a test can count them while it runs), and can be slow, or refuse some recipients for a while
or for good.

    python tests/smtp_sink.py PORT [--log FILE] [--delay S] [--refuse-once TEXT] [--refuse TEXT]

--refuse-once TEXT: recipients containing TEXT get 451 the first time, then are accepted.
--refuse TEXT: recipients containing TEXT get 550 (no such user), always.
"""

import argparse
import asyncio
import signal

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, log: str, delay: float, refuse_once: str, refuse: str) -> None:
        self.log = open(log, "a", buffering=1) if log else None  # noqa: SIM115 - open for the process's life
        self.count = 0
        self.delay = delay
        self.refuse_once = refuse_once
        self.refuse = refuse
        self.refused_once: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if self.refuse and self.refuse in address:
            return "550 5.1.1 No such user here"
        if self.refuse_once and self.refuse_once in address and address not in self.refused_once:
            self.refused_once.add(address)
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        if self.log:
            for address in envelope.rcpt_tos:
                self.log.write(address + "\n")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--log", default="")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--refuse-once", default="")
    parser.add_argument("--refuse", default="")
    args = parser.parse_args()
    handler = Handler(args.log, args.delay, args.refuse_once, args.refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port)
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
