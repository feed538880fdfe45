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
    POST /converge-emulator/reset                    same as POST /moto-api/reset
"""

from __future__ import annotations

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


@dataclass
class EmulatorState:
    # How many reads (GetDeployment / BatchGetDeployments / ListDeployments) a deployment
    # takes to finish. 0: it finishes inside CreateDeployment.
    deploy_steps: int = field(default_factory=_env_deploy_steps)
    # Failures armed with /converge-emulator/codedeploy/fail-next, consumed in order.
    fail_next: list[InjectedFailure] = field(default_factory=list)

    def reset(self) -> None:
        self.deploy_steps = _env_deploy_steps()
        self.fail_next = []

    def take_failure(self, application: str, group: str) -> InjectedFailure | None:
        for index, failure in enumerate(self.fail_next):
            if failure.matches(application, group):
                return self.fail_next.pop(index)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deploySteps": self.deploy_steps,
            "failNext": [f.to_dict() for f in self.fail_next],
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
