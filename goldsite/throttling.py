"""The API's rate throttles: one cache counter per client and window, so a request costs the same at any rate.

DRF's rate throttles keep, per client, the list of every request's time over the whole duration, and read,
trim and write that list back on each request. Under `API_THROTTLE_USER = 100000/hour` one busy token makes that
list tens of thousands of entries long, and every one of its requests unpickles and pickles all of them: measured
on this machine, 0.6 ms per request after 2,000 requests of the hour, 6.4 ms after 12,000, and the API load
benchmark fell from 800 to 300 requests/s within its minute (`bench/api_load.py`). These throttles count instead:
the requests of a fixed window (the rate's duration, aligned to the epoch) in one integer. A refused request is
not counted, as in DRF; Retry-After is the time left in the window. A client may make up to twice the rate across
a window boundary (the usual price of a fixed window). With a shared cache (Redis) every process counts together.
"""

import contextlib
import math

from rest_framework import throttling


class WindowCounterThrottle(throttling.SimpleRateThrottle):
    """Allow `num_requests` per fixed window of `duration` seconds, counted in one cache entry."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = math.floor(self.now / self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{self.key}_{window}"
        timeout = max(1, math.ceil(self.window_end - self.now))
        self.cache.add(key, 0, timeout)
        try:
            count = self.cache.incr(key)
        except ValueError:  # the entry expired between add and incr: the window has just ended
            self.cache.set(key, 1, timeout)
            count = 1
        if count > self.num_requests:
            with contextlib.suppress(ValueError):  # expired meanwhile: nothing left to give back
                self.cache.decr(key)  # a refused request does not use up the window
            return self.throttle_failure()
        return True

    def wait(self) -> float:
        return max(0.0, self.window_end - self.now)


class AnonRateThrottle(WindowCounterThrottle, throttling.AnonRateThrottle):
    """Unauthenticated requests, per client address (`goldsite.api.client_ip`'s rule): scope "anon"."""


class UserRateThrottle(WindowCounterThrottle, throttling.UserRateThrottle):
    """Requests per signed-in user (per address when anonymous): scope "user"."""
