# -*- coding: utf-8 -*-
# MIT License (see the BuildState repository)
"""A small BuildState HTTP client shared by the collection's controller plugins.

Python standard library only (urllib), so the collection needs nothing but ansible-core.
Network errors, 5xx and 429 are retried with backoff; every other answer is final.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

try:  # Python 3
    from urllib.error import HTTPError, URLError
    from urllib.parse import quote
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover - ansible-core 2.14 needs Python 3 on the controller
    raise

USER_AGENT = 'buildstate-ansible/0.1.0'


class BuildStateUnreachable(Exception):
    """The service did not answer (network error, timeout) or kept answering 5xx/429."""


class BuildStateRejected(Exception):
    """The service answered with a 4xx: the request was refused and nothing was recorded."""

    def __init__(self, status, body):
        error = (body or {}).get('error') or {}
        self.status = status
        self.code = error.get('code') or 'http_%d' % status
        self.detail = error.get('message') or 'HTTP %d' % status
        self.body = body
        super(BuildStateRejected, self).__init__('%s: %s' % (self.code, self.detail))


def _parse(raw):
    if not raw:
        return None
    try:
        return json.loads(raw.decode('utf-8'))
    except ValueError:
        return {'error': {'message': raw[:200].decode('utf-8', 'replace')}}


def build_path(build_id, *rest):
    return '/builds/' + quote(str(build_id), safe='') + ''.join('/' + str(part) for part in rest)


class Client(object):
    def __init__(self, url, token, timeout=10.0, retries=3, backoff=0.5, sleep=time.sleep):
        self.url = url.rstrip('/')
        self.token = token
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self._sleep = sleep

    def _auth_headers(self):
        if not self.token:
            return {}
        # A user's JWT (from POST /auth/token) goes as a bearer token; anything else is an API key.
        if self.token.startswith('ey') and self.token.count('.') == 2:
            return {'Authorization': 'Bearer ' + self.token}
        return {'X-API-Key': self.token}

    def request(self, method, path, body=None, headers=None):
        """Returns (status, parsed JSON body). Raises BuildStateRejected or BuildStateUnreachable."""
        payload = None if body is None else json.dumps(body).encode('utf-8')
        all_headers = {'User-Agent': USER_AGENT, 'Accept': 'application/json'}
        all_headers.update(self._auth_headers())
        if payload is not None:
            all_headers['Content-Type'] = 'application/json'
        all_headers.update(headers or {})
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(min(self.backoff * 2 ** (attempt - 1), 8.0))
            request = Request(self.url + path, data=payload, headers=all_headers, method=method)
            try:
                response = urlopen(request, timeout=self.timeout)
                try:
                    return response.status, _parse(response.read())
                finally:
                    response.close()
            except HTTPError as error:
                parsed = _parse(error.read())
                if error.code >= 500 or error.code == 429:
                    last = BuildStateUnreachable(
                        '%s %s: HTTP %d %s'
                        % (method, path, error.code, ((parsed or {}).get('error') or {}).get('code', ''))
                    )
                    continue
                raise BuildStateRejected(error.code, parsed)
            except (URLError, socket.timeout, OSError) as error:
                reason = getattr(error, 'reason', error)
                last = BuildStateUnreachable('cannot reach %s: %s' % (self.url, reason))
        raise last


def state_passed(build, state_code):
    """True when the build is past `state_code` or has completed it: running it again could not be
    reported (builds never move backwards), so a resumed playbook skips it."""
    current = int(build.get('current_state') or 0)
    if state_code < current:
        return True
    return state_code == current and build.get('state_status') == 'completed'
