"""Makes the server slow on demand: after POST /test/delay with seconds=N, every later OAuth
request waits N seconds before it is handled (a slow authorization server)."""
import threading
import time

_lock = threading.Lock()
_delay = [0.0]


def set_delay(seconds):
    with _lock:
        _delay[0] = seconds


class DelayMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/o/"):
            with _lock:
                wait = _delay[0]
            if wait > 0:
                time.sleep(wait)
        return self.get_response(request)
