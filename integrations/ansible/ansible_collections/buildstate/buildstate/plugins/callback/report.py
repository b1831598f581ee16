# -*- coding: utf-8 -*-
# MIT License (see the BuildState repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: report
type: notification
short_description: Report plays as BuildState milestones
description:
  - A play that sets the play variable C(buildstate_state) (a state code, 0-100) is one milestone
    of the build. At the play's start the callback reports C(in_progress); when the play ends with
    no failed or unreachable host it reports C(completed); the first failure that is neither ignored
    nor rescued reports C(failed), with the task's name and message as the error. Plays without
    the variable report nothing.
  - A play whose state the build already completed (or passed) reports nothing; pair it with the
    lookup M(buildstate.buildstate.done) to skip the play's work as well.
  - Every report carries an C(Idempotency-Key) made of the run id, the state and the status, so a
    report the callback retries after a lost answer is recorded once.
  - Runs under C(bldst run)'s lease when C(BLDST_LEASE_ID) is set; otherwise it takes a lease of its
    own for the playbook run, renews it every third of its TTL and releases it at the end.
  - When BuildState cannot be reached, a warning is shown and the playbook goes on; with C(strict)
    the playbook stops with exit code 1.
version_added: 0.1.0
requirements:
  - ansible-core 2.14 or newer (Python standard library only)
  - enable with C(ANSIBLE_CALLBACKS_ENABLED=buildstate.buildstate.report) or C(callbacks_enabled) in ansible.cfg
options:
  api_url:
    description: Base URL of the BuildState API.
    type: str
    env:
      - name: BUILDSTATE_API_URL
    ini:
      - section: buildstate
        key: api_url
  api_token:
    description: An API key with scope C(write) (or a user's token).
    type: str
    env:
      - name: BUILDSTATE_API_TOKEN
    ini:
      - section: buildstate
        key: api_token
  build_id:
    description: The build the plays report to. C(BLDST_BUILD_ID), set by C(bldst run), wins over C(BUILDSTATE_BUILD_ID).
    type: str
    env:
      - name: BUILDSTATE_BUILD_ID
      - name: BLDST_BUILD_ID
    ini:
      - section: buildstate
        key: build_id
  lease_id:
    description:
      - A lease already held on the build (set by C(bldst run)); reports are sent under it and it is
        neither renewed nor released here. Without it the callback takes its own lease.
    type: str
    env:
      - name: BLDST_LEASE_ID
  lease_ttl:
    description: TTL in seconds of the callback's own lease (5-3600).
    type: int
    default: 120
    env:
      - name: BUILDSTATE_LEASE_TTL
    ini:
      - section: buildstate
        key: lease_ttl
  worker_id:
    description: The worker id reported with every state and used for the lease (default C(ansible@<host>:<pid>)).
    type: str
    env:
      - name: BUILDSTATE_WORKER_ID
      - name: BLDST_WORKER_ID
    ini:
      - section: buildstate
        key: worker_id
  run_id:
    description:
      - Identifies this playbook run in idempotency keys (default a random id per run). Set it to the
        CI system's run id to make a re-sent run record nothing twice.
    type: str
    env:
      - name: BUILDSTATE_RUN_ID
  strict:
    description: Fail the playbook (exit code 1) when a report cannot be delivered or is refused, instead of warning.
    type: bool
    default: false
    env:
      - name: BUILDSTATE_STRICT
    ini:
      - section: buildstate
        key: strict
  timeout:
    description: Seconds to wait for each HTTP answer.
    type: float
    default: 10
    env:
      - name: BUILDSTATE_TIMEOUT
  retries:
    description: Retries of a request after a network error, a 5xx or a 429 (with backoff from 0.5 s).
    type: int
    default: 3
    env:
      - name: BUILDSTATE_RETRIES
'''

EXAMPLES = r'''
# ansible.cfg
# [defaults]
# callbacks_enabled = buildstate.buildstate.report
# [buildstate]
# api_url = http://127.0.0.1:8080

- name: Security baseline
  hosts: all
  vars:
    buildstate_state: 25
  pre_tasks:
    - meta: end_play
      when: lookup('buildstate.buildstate.done', buildstate_state)
  roles:
    - baseline
'''

import atexit
import os
import socket
import threading
import uuid

from ansible import context
from ansible.playbook.block import Block
from ansible.plugins.callback import CallbackBase
from ansible_collections.buildstate.buildstate.plugins.module_utils.buildstate import (
    BuildStateRejected,
    BuildStateUnreachable,
    Client,
    build_path,
    state_passed,
)

STATE_VAR = 'buildstate_state'


def _rescued(task):
    """True when `task` sits in the `block:` part of a block that has a `rescue:` section.

    ansible-core reports such a failure through v2_runner_on_failed like any other; the play goes
    on in the rescue section, so the failure is not the play's.
    """
    child = task
    parent = getattr(task, '_parent', None)
    while parent is not None:
        if isinstance(parent, Block) and parent.rescue:
            ids = set(getattr(t, '_uuid', None) for t in parent.block)
            if getattr(child, '_uuid', None) in ids:
                return True
        child, parent = parent, getattr(parent, '_parent', None)
    return False


class _Play(object):
    def __init__(self, name, state, passed):
        self.name = name
        self.state = state
        self.passed = passed  # the build already completed or passed this state: report nothing
        self.failed = False


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'buildstate.buildstate.report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._client = None
        self._build_id = None
        self._lease_id = None
        self._own_lease = False
        self._renewer = None
        self._stop = threading.Event()
        self._play = None
        self._strict = False
        self._closed = False

    # ---- set-up -------------------------------------------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._strict = bool(self.get_option('strict'))
        url = self.get_option('api_url')
        build_id = self.get_option('build_id')
        if not url or not build_id:
            missing = ' and '.join(
                name for name, value in (('BUILDSTATE_API_URL', url), ('BUILDSTATE_BUILD_ID', build_id)) if not value
            )
            self._problem('buildstate: %s not set' % missing, '; this run is not reported')
            self.disabled = True
            return
        self._client = Client(
            url, self.get_option('api_token'), timeout=self.get_option('timeout'), retries=self.get_option('retries')
        )
        self._build_id = build_id
        self._worker_id = self.get_option('worker_id') or 'ansible@%s:%d' % (socket.gethostname(), os.getpid())
        self._run_id = self.get_option('run_id') or uuid.uuid4().hex
        self._lease_id = self.get_option('lease_id')

    def _problem(self, message, then=''):
        """A report that could not be made: a warning, or with `strict` the end of the playbook."""
        if self._strict:
            self._display.error(message + ' (strict: stopping the playbook)')
            self._release_lease()
            # Exceptions raised by callbacks are turned into warnings by ansible-core; SystemExit is
            # not an Exception, so it ends ansible-playbook (its cleanup still runs).
            raise SystemExit(1)
        self._display.warning(message + then)

    def v2_playbook_on_start(self, playbook):
        if context.CLIARGS.get('check'):
            self._display.warning('buildstate: check mode, nothing is reported')
            self.disabled = True
            return
        if self._lease_id:
            return  # bldst run holds the lease and renews it
        try:
            _, lease = self._client.request(
                'POST',
                build_path(self._build_id, 'lease'),
                {'worker_id': self._worker_id, 'ttl_s': self.get_option('lease_ttl')},
            )
        except BuildStateRejected as error:
            self._problem('buildstate: no lease on build %s: %s' % (self._build_id, error), '; reports may be refused')
            return
        except BuildStateUnreachable as error:
            self._problem('buildstate: no lease on build %s: %s' % (self._build_id, error), '; each report will try again')
            return
        self._lease_id = lease['lease_id']
        self._own_lease = True
        atexit.register(self._release_lease)
        interval = max(1.0, float(lease.get('ttl_s') or 120) / 3.0)
        self._renewer = threading.Thread(target=self._renew_loop, args=(interval,), name='buildstate-lease')
        self._renewer.daemon = True
        self._renewer.start()
        self._display.v('buildstate: lease %s on build %s (fence %s)' % (self._lease_id, self._build_id, lease.get('fence')))

    def _renew_loop(self, interval):
        while not self._stop.wait(interval):
            try:
                self._client.request('PUT', build_path(self._build_id, 'lease'), {}, {'X-Lease-Id': self._lease_id})
            except BuildStateRejected as error:
                self._display.warning('buildstate: lease renewal refused (%s); another worker may have taken the build' % error)
                return
            except BuildStateUnreachable as error:
                self._display.warning('buildstate: lease renewal failed, will retry: %s' % error)

    def _release_lease(self):
        self._stop.set()
        if not self._own_lease or self._closed:
            return
        self._closed = True
        try:
            self._client.request('DELETE', build_path(self._build_id, 'lease'), None, {'X-Lease-Id': self._lease_id})
        except (BuildStateRejected, BuildStateUnreachable) as error:
            self._display.warning('buildstate: lease release failed (it expires by itself): %s' % error)

    # ---- reports ------------------------------------------------------------------------------

    def _report(self, state, status, message=None, error=None):
        body = {'state_code': state, 'status': status, 'worker_id': self._worker_id}
        if message:
            body['message'] = message[:2000]
        if error:
            body['error'] = error[-8192:]
        headers = {'Idempotency-Key': 'ansible-%s-%d-%s' % (self._run_id, state, status)}
        if self._lease_id:
            headers['X-Lease-Id'] = self._lease_id
        try:
            self._client.request('POST', build_path(self._build_id, 'states'), body, headers)
        except BuildStateRejected as rejected:
            self._problem('buildstate: state %d %s was refused: %s' % (state, status, rejected))
            return
        except BuildStateUnreachable as unreachable:
            self._problem('buildstate: state %d %s not reported: %s' % (state, status, unreachable))
            return
        self._display.display('buildstate: build %s state %d %s' % (self._build_id, state, status))

    def _end_play(self):
        play, self._play = self._play, None
        if play is None or play.passed or play.failed:
            return
        self._report(play.state, 'completed', message="play '%s' completed" % play.name)

    def v2_playbook_on_play_start(self, play):
        self._end_play()
        raw = (play.vars or {}).get(STATE_VAR)
        if raw is None:
            return
        name = play.get_name().strip()
        try:
            state = int(raw)
            if not 0 <= state <= 100:
                raise ValueError
        except (TypeError, ValueError):
            self._display.warning(
                "buildstate: play '%s': %s must be a state code 0-100, got %r; not reported" % (name, STATE_VAR, raw)
            )
            return
        try:
            _, build = self._client.request('GET', build_path(self._build_id))
        except BuildStateRejected as error:
            self._problem('buildstate: build %s: %s' % (self._build_id, error))
            return
        except BuildStateUnreachable as error:
            self._problem('buildstate: state %d in_progress not reported: %s' % (state, error))
            self._play = _Play(name, state, passed=False)
            return
        if state_passed(build, state):
            self._display.display(
                'buildstate: build %s already passed state %d (at %s %s); play not reported'
                % (self._build_id, state, build.get('current_state'), build.get('state_status'))
            )
            self._play = _Play(name, state, passed=True)
            return
        self._play = _Play(name, state, passed=False)
        self._report(state, 'in_progress', message="play '%s' started" % name)

    def _fail_play(self, result, error):
        play = self._play
        if play is None or play.passed or play.failed:
            return
        play.failed = True
        self._report(
            play.state,
            'failed',
            message="task '%s' failed on %s" % (result._task.get_name().strip(), result._host.get_name()),
            error=error,
        )

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors or _rescued(result._task):
            return
        res = result._result or {}
        msg = res.get('msg') or 'failed'
        stderr = (res.get('stderr') or '').strip()
        if stderr and stderr not in msg:
            msg = '%s\n%s' % (msg, '\n'.join(stderr.splitlines()[-20:]))
        self._fail_play(result, "%s: %s" % (result._task.get_name().strip(), msg))

    def v2_runner_on_unreachable(self, result):
        if getattr(result._task, 'ignore_unreachable', False):
            return
        msg = (result._result or {}).get('msg') or 'unreachable'
        self._fail_play(result, '%s: host %s unreachable: %s' % (result._task.get_name().strip(), result._host.get_name(), msg))

    def v2_playbook_on_no_hosts_matched(self):
        play = self._play
        if play is None or play.passed:
            return
        play.failed = True
        self._report(play.state, 'failed', error="play '%s': no hosts matched" % play.name)

    def v2_playbook_on_stats(self, stats):
        self._end_play()
        self._release_lease()
