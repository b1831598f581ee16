# -*- coding: utf-8 -*-
# MIT License (see the BuildState repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: done
short_description: Whether the build already completed (or passed) a state
description:
  - Returns C(true) when the BuildState build has completed the given state code, or is already
    past it (builds never move backwards, so that state cannot run again), and C(false) otherwise.
    With several codes, C(true) only when all of them are done.
  - "A callback cannot skip work; this lookup can, as the first task of a play
    (C(meta: end_play) with a C(when) on it). See EXAMPLES."
  - When BuildState cannot be reached, a warning is shown and the result is C(false) (the play runs);
    with C(strict) the task fails instead.
version_added: 0.1.0
options:
  _terms:
    description: State codes (0-100).
    required: true
  api_url:
    description: Base URL of the BuildState API.
    type: str
    env:
      - name: BUILDSTATE_API_URL
    vars:
      - name: buildstate_api_url
  api_token:
    description: An API key with scope C(read) (or a user's token).
    type: str
    env:
      - name: BUILDSTATE_API_TOKEN
    vars:
      - name: buildstate_api_token
  build_id:
    description: The build. C(BLDST_BUILD_ID), set by C(bldst run), wins over C(BUILDSTATE_BUILD_ID).
    type: str
    env:
      - name: BUILDSTATE_BUILD_ID
      - name: BLDST_BUILD_ID
    vars:
      - name: buildstate_build_id
  strict:
    description: Fail instead of answering C(false) when BuildState cannot be asked.
    type: bool
    default: false
    env:
      - name: BUILDSTATE_STRICT
    vars:
      - name: buildstate_strict
  timeout:
    description: Seconds to wait for the answer.
    type: float
    default: 10
    env:
      - name: BUILDSTATE_TIMEOUT
  retries:
    description: Retries after a network error, a 5xx or a 429.
    type: int
    default: 3
    env:
      - name: BUILDSTATE_RETRIES
'''

EXAMPLES = r'''
- name: Security baseline
  hosts: all
  vars:
    buildstate_state: 25
  pre_tasks:
    - meta: end_play
      when: lookup('buildstate.buildstate.done', buildstate_state)
  tasks:
    - ansible.builtin.debug:
        msg: runs only until state 25 completed once
'''

RETURN = r'''
_raw:
  description: One boolean.
  type: list
  elements: bool
'''

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display
from ansible_collections.buildstate.buildstate.plugins.module_utils.buildstate import (
    BuildStateRejected,
    BuildStateUnreachable,
    Client,
    build_path,
    state_passed,
)

display = Display()

# A state that is done stays done (builds never move backwards), so `true` answers are kept for
# the rest of the run: one request per play and state, not one per host.
_DONE = set()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        strict = bool(self.get_option('strict'))
        url = self.get_option('api_url')
        build_id = self.get_option('build_id')
        try:
            codes = [int(term) for term in terms]
        except (TypeError, ValueError):
            raise AnsibleError('buildstate.buildstate.done: state codes must be integers, got %r' % (terms,))
        if not codes:
            raise AnsibleError('buildstate.buildstate.done: give at least one state code')

        def unknown(message):
            if strict:
                raise AnsibleError('buildstate.buildstate.done: ' + message)
            display.warning('buildstate: %s; running the play' % message)
            return [False]

        if not url or not build_id:
            return unknown('BUILDSTATE_API_URL and a build id (BUILDSTATE_BUILD_ID or BLDST_BUILD_ID) are needed')
        keys = [(url, build_id, code) for code in codes]
        if all(key in _DONE for key in keys):
            return [True]
        client = Client(url, self.get_option('api_token'), timeout=self.get_option('timeout'), retries=self.get_option('retries'))
        try:
            _, build = client.request('GET', build_path(build_id))
        except (BuildStateRejected, BuildStateUnreachable) as error:
            return unknown('cannot read build %s: %s' % (build_id, error))
        done = [key for key in keys if state_passed(build, key[2])]
        _DONE.update(done)
        return [len(done) == len(keys)]
