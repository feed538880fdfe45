"""Shared state of converge's moto extensions, and the `/converge-emulator/` control API.

Everything the extensions keep outside moto's own backends lives in `STATE`, so that
`POST /moto-api/reset` (patched in `server.py`) can put it back to its start-up values.

Control endpoints (all answer JSON):

    GET  /converge-emulator/                         current settings and pending injections
    POST /converge-emulator/config                   body or query: deploySteps=<int>
    POST /converge-emulator/codedeploy/fail-next     query: group=<name> [application=<name>]
                                                      [code=<ErrorCode>] [message=<text>]
    POST /converge-emulator/codedeploy/settle        drive every active deployment to its end
                                                      (Ready deployments stay Ready)
    POST /converge-emulator/hang                     body or query: operation=<Name> [seconds=<n>]
                                                      [count=<n>]: hold the next matching requests
    POST /converge-emulator/hang/release             wake every held request, drop armed hangs
    POST /converge-emulator/reset                    same as POST /moto-api/reset
"""

from __future__ import annotations

import io
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs

# One lock for every extension: moto's server is threaded, and a deployment step touches
# the CodeDeploy, ECS and ELBv2 backends together.
LOCK = threading.RLock()

DEFAULT_DEPLOY_STEPS = 2
DEFAULT_FAILURE_CODE = "ECS_UPDATE_ERROR"
DEFAULT_FAILURE_MESSAGE = (
    "The deployment failed because the replacement task set did not reach a steady state "
    "(failure injected by the converge emulator)."
)


def _env_deploy_steps() -> int:
    raw = os.environ.get("CONVERGE_EMULATOR_DEPLOY_STEPS")
    if raw is None or raw.strip() == "":
        return DEFAULT_DEPLOY_STEPS
    try:
        return max(int(raw), 0)
    except ValueError:
        raise SystemExit(
            f"CONVERGE_EMULATOR_DEPLOY_STEPS must be a non-negative integer, got {raw!r}"
        )


@dataclass
class InjectedFailure:
    group: str
    application: str | None
    code: str
    message: str

    def matches(self, application: str, group: str) -> bool:
        return self.group == group and self.application in (None, application)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "application": self.application,
            "code": self.code,
            "message": self.message,
        }


DEFAULT_HANG_SECONDS = 300.0
MAX_HANG_SECONDS = 3600.0


@dataclass
class ArmedHang:
    """Requests for `operation` are held `seconds` before moto answers them (a hung AWS call)."""

    operation: str
    seconds: float
    # How many more requests to hold; None: every one until released.
    remaining: int | None
    # Requests held so far.
    hits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "seconds": self.seconds, "remaining": self.remaining, "hits": self.hits}


@dataclass
class EmulatorState:
    # How many reads (GetDeployment / BatchGetDeployments / ListDeployments) a deployment
    # takes to finish. 0: it finishes inside CreateDeployment.
    deploy_steps: int = field(default_factory=_env_deploy_steps)
    # Failures armed with /converge-emulator/codedeploy/fail-next, consumed in order.
    fail_next: list[InjectedFailure] = field(default_factory=list)
    # Hangs armed with /converge-emulator/hang; `release` wakes the requests held now.
    hangs: list[ArmedHang] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    held: int = 0

    def reset(self) -> None:
        self.deploy_steps = _env_deploy_steps()
        self.fail_next = []
        self.release_hangs()

    def release_hangs(self) -> int:
        """Drops the armed hangs and wakes every held request; returns how many were held."""
        held = self.held
        self.hangs = []
        self.release.set()
        self.release = threading.Event()
        return held

    def take_hang(self, operation: str) -> tuple[float, threading.Event] | None:
        for hang in self.hangs:
            if hang.operation == operation:
                hang.hits += 1
                if hang.remaining is not None:
                    hang.remaining -= 1
                    if hang.remaining <= 0:
                        self.hangs.remove(hang)
                return hang.seconds, self.release
        return None

    def take_failure(self, application: str, group: str) -> InjectedFailure | None:
        for index, failure in enumerate(self.fail_next):
            if failure.matches(application, group):
                return self.fail_next.pop(index)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deploySteps": self.deploy_steps,
            "failNext": [f.to_dict() for f in self.fail_next],
            "hangs": [h.to_dict() for h in self.hangs],
            "held": self.held,
        }


STATE = EmulatorState()

# Hooks run by reset (in addition to STATE.reset) and by settle; filled in by the extensions.
RESET_HOOKS: list[Callable[[], None]] = []
SETTLE_HOOKS: list[Callable[[], list[str]]] = []


def reset_extensions() -> None:
    with LOCK:
        STATE.reset()
        for hook in RESET_HOOKS:
            hook()


# --------------------------------------------------------------------------------------
# WSGI middleware serving /converge-emulator/*; everything else goes to moto.
# --------------------------------------------------------------------------------------

PREFIX = "/converge-emulator"


class ControlMiddleware:
    def __init__(self, app: Any, full_reset: Callable[[], None]):
        self.app = app
        self.full_reset = full_reset

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            if STATE.hangs:
                _maybe_hang(environ)
            return self.app(environ, start_response)
        try:
            status, body = self.handle(environ, path[len(PREFIX) :].rstrip("/") or "/")
        except BadRequest as exc:
            status, body = 400, {"error": str(exc)}
        payload = json.dumps(body).encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
        start_response(
            f"{status} {reason.get(status, 'OK')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def handle(self, environ: dict[str, Any], route: str) -> tuple[int, Any]:
        method = environ.get("REQUEST_METHOD", "GET")
        params = _request_params(environ)
        if route == "/" and method == "GET":
            with LOCK:
                return 200, STATE.to_dict()
        if method != "POST":
            return 405, {"error": f"{method} {PREFIX}{route} is not supported; use POST"}
        if route == "/config":
            return 200, _configure(params)
        if route == "/codedeploy/fail-next":
            return 200, _arm_failure(params)
        if route == "/hang":
            return 200, _arm_hang(params)
        if route == "/hang/release":
            with LOCK:
                released = STATE.release_hangs()
            return 200, {"released": released}
        if route == "/codedeploy/settle":
            with LOCK:
                settled: list[str] = []
                for hook in SETTLE_HOOKS:
                    settled.extend(hook())
            return 200, {"settled": settled}
        if route == "/reset":
            self.full_reset()
            return 200, {"status": "ok"}
        return 404, {"error": f"unknown control endpoint {PREFIX}{route}"}


class BadRequest(Exception):
    pass


def _request_params(environ: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()
    }
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        raw = environ["wsgi.input"].read(length).decode("utf-8")
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body = {k: v[-1] for k, v in parse_qs(raw).items()}
            if not isinstance(body, dict):
                raise BadRequest("the request body must be a JSON object")
            params.update(body)
    return params


def _configure(params: dict[str, Any]) -> dict[str, Any]:
    with LOCK:
        if "deploySteps" in params:
            try:
                steps = int(params["deploySteps"])
            except (TypeError, ValueError):
                raise BadRequest("deploySteps must be an integer")
            if steps < 0:
                raise BadRequest("deploySteps must be >= 0")
            STATE.deploy_steps = steps
        return STATE.to_dict()


def _arm_failure(params: dict[str, Any]) -> dict[str, Any]:
    group = params.get("group") or params.get("deploymentGroupName")
    if not group:
        raise BadRequest("group=<deployment group name> is required")
    failure = InjectedFailure(
        group=str(group),
        application=params.get("application") or params.get("applicationName") or None,
        code=str(params.get("code") or DEFAULT_FAILURE_CODE),
        message=str(params.get("message") or DEFAULT_FAILURE_MESSAGE),
    )
    with LOCK:
        STATE.fail_next.append(failure)
        return STATE.to_dict()


def _arm_hang(params: dict[str, Any]) -> dict[str, Any]:
    operation = params.get("operation")
    if not operation or not isinstance(operation, str):
        raise BadRequest("operation=<AWS operation name, e.g. DescribeServices> is required")
    try:
        seconds = float(params.get("seconds", DEFAULT_HANG_SECONDS))
        count = int(params.get("count", 1))
    except (TypeError, ValueError):
        raise BadRequest("seconds must be a number and count an integer")
    if not 0 < seconds <= MAX_HANG_SECONDS:
        raise BadRequest(f"seconds must be > 0 and <= {MAX_HANG_SECONDS:g}")
    if count < 0:
        raise BadRequest("count must be >= 0 (0: every matching request until released)")
    with LOCK:
        STATE.hangs.append(ArmedHang(operation=operation, seconds=seconds, remaining=count or None))
        return STATE.to_dict()


def _operation_of(environ: dict[str, Any]) -> str | None:
    """The AWS operation of a request: `X-Amz-Target` (JSON protocols: ECS, CodeDeploy, ACM,
    CloudWatch Logs) or the `Action` parameter (query protocols: EC2, ELBv2), in the query string
    or the form body. REST protocols (S3, Route 53) name no operation: never matched."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return action[-1]
    if "x-www-form-urlencoded" not in str(environ.get("CONTENT_TYPE", "")):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= 0:
        return None
    body = environ["wsgi.input"].read(length)
    # Put the body back for moto.
    environ["wsgi.input"] = io.BytesIO(body)
    action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return action[-1] if action else None


def _maybe_hang(environ: dict[str, Any]) -> None:
    """Holds this request (its own server thread) when a hang is armed for its operation, until
    the hang's time passes or it is released; moto answers it afterwards (to a client that has
    usually given up by then)."""
    operation = _operation_of(environ)
    if operation is None:
        return
    with LOCK:
        taken = STATE.take_hang(operation)
        if taken is None:
            return
        STATE.held += 1
    seconds, release = taken
    try:
        release.wait(seconds)
    finally:
        with LOCK:
            STATE.held -= 1
