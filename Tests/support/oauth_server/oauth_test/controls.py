"""Test controls that act on every request: after POST /test/delay with seconds=N, each later
OAuth request waits N seconds before it is handled (a slow authorization server); and the
introspection calls are counted, so a test can see how many reached the server."""
import threading
import time

_lock = threading.Lock()
_delay = [0.0]
_introspections = [0]


def set_delay(seconds):
    with _lock:
        _delay[0] = seconds


def introspection_count():
    with _lock:
        return _introspections[0]


class ControlMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/o/"):
            with _lock:
                wait = _delay[0]
                if request.path == "/o/introspect/":
                    _introspections[0] += 1
            if wait > 0:
                time.sleep(wait)
        return self.get_response(request)
