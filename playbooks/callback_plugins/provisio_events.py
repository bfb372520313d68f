# Structured events for Provisio: one JSON object per line in $PROVISIO_EVENTS.
# The human-readable output stays on stdout (the default callback); this file carries what
# Provisio parses: task starts, per-host results and the final per-host recap.
import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: provisio_events
type: notification
short_description: structured run events for Provisio
description: Writes task, result and stats events as JSON lines to the file named by PROVISIO_EVENTS.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "provisio_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        path = os.environ.get("PROVISIO_EVENTS")
        self._out = open(path, "a", buffering=1) if path else None

    def _emit(self, event, **data):
        if self._out is not None:
            data["event"] = event
            self._out.write(json.dumps(data) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task", name=task.get_name())

    def _result(self, status, result):
        self._emit("result", status=status, host=result._host.get_name(), task=result._task.get_name())

    def v2_runner_on_ok(self, result):
        self._result("changed" if result._result.get("changed") else "ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result)

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            summary = stats.summarize(host)
            hosts[host] = {
                "ok": summary.get("ok", 0),
                "changed": summary.get("changed", 0),
                "failed": summary.get("failures", 0),
                "unreachable": summary.get("unreachable", 0),
                "skipped": summary.get("skipped", 0),
                "rescued": summary.get("rescued", 0),
                "ignored": summary.get("ignored", 0),
            }
        self._emit("stats", hosts=hosts)
