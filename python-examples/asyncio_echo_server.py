#!/usr/bin/env python3
"""asyncio_echo_server.py ENDPOINT -- an asyncio echo server over an oxsock listener.

``asyncio.start_server(sock=oxsock.listen(ENDPOINT))``: asyncio accepts on the oxsock
Socket and drives every connection with its own streams, as it would a
``socket.socket``. ENDPOINT is a stream endpoint: ``tcp://127.0.0.1:7000``,
``tcp6://[::1]:7000``, ``unix:///tmp/x.sock``, ``unix://@name``. Each line a client sends
comes back. Prints ``listening on ADDRESS`` once ready and ``connection from PEER`` per
connection; SIGINT or SIGTERM stops it cleanly (exit 0).

Try it with ``python3 -c`` and asyncio's own client::

    python3 asyncio_echo_server.py tcp://127.0.0.1:7000 &
    python3 echo_client.py tcp://127.0.0.1:7000 hello
"""

import asyncio
import signal
import sys

import _path  # noqa: F401
import oxsock


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    print(f"connection from {writer.get_extra_info('peername')}", flush=True)
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(endpoint: str) -> None:
    listener = oxsock.listen(endpoint)  # a Socket; asyncio makes it non-blocking
    server = await asyncio.start_server(handle, sock=listener)
    print(f"listening on {listener.local_addr}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    # Closing the server closed the oxsock listener (a Unix path is removed with it).


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: asyncio_echo_server.py ENDPOINT   (e.g. tcp://127.0.0.1:7000)", file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(main(sys.argv[1]))
    except oxsock.Error as e:
        print(f"asyncio_echo_server: {e}", file=sys.stderr)
        sys.exit(1)
