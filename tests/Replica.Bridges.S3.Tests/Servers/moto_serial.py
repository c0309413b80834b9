"""moto's S3 server with one request handled at a time.

`python3 -m moto.server` serves each request on its own thread, and moto checks a conditional write's If-Match /
If-None-Match and then writes the object as two steps: two writers that race can both pass the check, which S3 itself
never allows (a conditional PUT is atomic there). The index.json concurrency tests need S3's behaviour, so this launcher
runs the same moto application behind one lock. A request's body is read before the lock is taken, so a slow upload
(the fault tests stall some on purpose) does not hold up the others.

Usage: python3 moto_serial.py HOST PORT
"""
import io
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def serialised(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if length:
            body = stream.read(int(length))
        elif environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.input_terminated"] = True
        with lock:
            result = app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return handle


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, serialised(app), threaded=True)


if __name__ == "__main__":
    main()
